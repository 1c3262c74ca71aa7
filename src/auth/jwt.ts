/**
 * JWT bearer tokens (CONTRACT.md §4): HS256 with a shared secret, RS256 / ES256 with a PEM public key or a
 * JSON Web Key Set file. The accepted algorithms are pinned to the kind of key that verifies them (HS256
 * only with the secret, RS256 / ES256 only with public keys), so `alg: none` and HS/RS confusion cannot
 * pass. `exp` and `nbf` are checked with 10 s of leeway, `aud` when an audience is configured, and `sub`
 * is required. `jose` is loaded only when JWT is configured, so servers without it do not pay for it.
 * @module
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import type {
  CryptoKey,
  FlattenedJWSInput,
  JSONWebKeySet,
  JWK,
  JWSHeaderParameters,
  JWTPayload,
  LocalJWKSet,
} from 'jose';
import { ID_PATTERN } from '../config/index.js';
import { AgentOsError, ConfigError } from '../errors/index.js';
import type { Principal } from './principal.js';
import { expandRoles, isRole, isValidScope } from './scopes.js';

/** The algorithms agentos verifies. */
export type JwtAlgorithm = 'HS256' | 'RS256' | 'ES256';

/** Verification settings, as `auth.jwt` holds them. */
export interface JwtSettings {
  /** HS256 shared secret (at least 32 bytes). */
  secret?: string;
  /** PEM public key (SPKI or X.509 certificate) for RS256 (RSA) or ES256 (EC P-256). */
  public_key?: string;
  /** Path of a JSON Web Key Set file; keys are chosen by the token's `kid`. */
  jwks_file?: string;
  /** When set, the token's `aud` must name one of these. */
  audience?: string | readonly string[];
  /** Narrows the accepted algorithms further (never widens what the keys allow). */
  algorithms?: readonly JwtAlgorithm[];
}

/** Options of {@link createJwtVerifier}. */
export interface JwtVerifierOptions {
  /** Base for a relative `jwks_file` (default: the working directory). */
  cwd?: string;
  /** Workspace of tokens without a `workspace_id` claim (default `default`). */
  defaultWorkspace?: string;
  /** Clock (epoch ms), for tests. */
  now?: () => number;
}

/** Verifies bearer tokens that look like JWTs. */
export interface JwtVerifier {
  /** The algorithms a token may use, after pinning to the configured keys. */
  readonly algorithms: readonly JwtAlgorithm[];
  /** The caller of a valid token; otherwise throws `AOS_AUTH_INVALID` with a short reason. */
  verify(token: string): Promise<Principal>;
}

/** Leeway on `exp` and `nbf`, in seconds (CONTRACT.md §4). */
export const JWT_CLOCK_TOLERANCE_S = 10;

/** RFC 7518 §3.2: an HS256 key must be at least as long as the hash output. */
const MIN_SECRET_BYTES = 32;

/** A JWKS file is re-read at most this often when a token names an unknown `kid` (key rotation). */
const JWKS_RELOAD_INTERVAL_MS = 30_000;

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** True when a bearer token has the three-segment shape of a compact JWS (API keys never do). */
export function looksLikeJwt(token: string): boolean {
  return JWT_SHAPE.test(token);
}

/** Reads the `scopes` claim (or OAuth's `scope`): a list or a space-separated string; malformed entries are dropped. */
export function scopesFromClaims(payload: JWTPayload): string[] {
  const raw = payload.scopes ?? payload.scope;
  const entries = typeof raw === 'string' ? raw.split(/\s+/) : Array.isArray(raw) ? raw : [];
  const scopes: string[] = [];
  for (const entry of entries) {
    if (typeof entry === 'string' && isValidScope(entry) && !scopes.includes(entry)) scopes.push(entry);
  }
  return scopes;
}

/**
 * Reads the `role` and `roles` claims (a string, a space-separated string or a list). Returns null when
 * either names anything outside the role table: an unknown role is refused, never ignored.
 */
export function rolesFromClaims(payload: JWTPayload): string[] | null {
  const roles: string[] = [];
  for (const raw of [payload.role, payload.roles]) {
    if (raw === undefined) continue;
    const entries = typeof raw === 'string' ? raw.split(/\s+/).filter((entry) => entry !== '') : raw;
    if (!Array.isArray(entries)) return null;
    for (const entry of entries) {
      if (!isRole(entry)) return null;
      if (!roles.includes(entry)) roles.push(entry);
    }
  }
  return roles;
}

function invalid(reason: string): AgentOsError {
  return new AgentOsError('AOS_AUTH_INVALID', `Invalid token: ${reason}`, { details: { reason } });
}

/** Turns whatever jose threw into a short reason; never echoes the token or its claims. */
function reasonOf(error: unknown): string {
  const { code, claim } = (error ?? {}) as { code?: unknown; claim?: unknown };
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return 'expired';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (claim === 'nbf') return 'not yet valid';
      if (claim === 'aud') return 'audience';
      if (claim === 'sub') return 'missing sub';
      return typeof claim === 'string' && /^[a-z_]{1,32}$/i.test(claim) ? `${claim} claim` : 'claims';
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return 'signature';
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
    case 'ERR_JOSE_NOT_SUPPORTED':
      return 'algorithm not allowed';
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return 'no matching key';
    default:
      return 'malformed';
  }
}

/** Env values often carry a PEM with literal `\n`; turn those into line breaks. */
function normalisePem(pem: string): string {
  return pem.includes('\n') ? pem : pem.replaceAll('\\n', '\n');
}

/** The one algorithm a public key may verify: RS256 for RSA, ES256 for EC P-256. */
function algorithmOfKey(key: KeyObject): JwtAlgorithm | undefined {
  if (key.asymmetricKeyType === 'rsa') return 'RS256';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  return undefined;
}

/** The algorithm a JWK may verify, or undefined when agentos does not use it (private, symmetric, other curves). */
function algorithmOfJwk(jwk: JWK): JwtAlgorithm | undefined {
  if (jwk.use !== undefined && jwk.use !== 'sig') return undefined;
  // A JWKS is for public keys; a symmetric or private entry there is a mistake, never a verification key.
  if (jwk.d !== undefined || jwk.k !== undefined) return undefined;
  const algorithm: JwtAlgorithm | undefined =
    jwk.kty === 'RSA' ? 'RS256' : jwk.kty === 'EC' && jwk.crv === 'P-256' ? 'ES256' : undefined;
  if (algorithm === undefined || (jwk.alg !== undefined && jwk.alg !== algorithm)) return undefined;
  return algorithm;
}

interface LoadedJwks {
  keys: JSONWebKeySet;
  algorithms: Set<JwtAlgorithm>;
}

interface JwksState {
  path: string;
  algorithms: Set<JwtAlgorithm>;
  resolve: LocalJWKSet;
  /** When the file was last read (epoch ms). */
  readAt: number;
}

async function loadJwks(path: string): Promise<LoadedJwks> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    const why = error instanceof SyntaxError ? 'not valid JSON' : 'cannot be read';
    throw new ConfigError([`auth.jwt.jwks_file: ${path} ${why}`], 'auth.jwt');
  }
  const entries = (parsed as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(entries)) {
    throw new ConfigError([`auth.jwt.jwks_file: ${path} is not a JSON Web Key Set ({"keys": [...]})`], 'auth.jwt');
  }
  const keys: JWK[] = [];
  const algorithms = new Set<JwtAlgorithm>();
  for (const entry of entries) {
    if (entry === null || typeof entry !== 'object') continue;
    const jwk = entry as JWK;
    const algorithm = algorithmOfJwk(jwk);
    if (algorithm === undefined) continue;
    // jose then matches the token's alg against the key's, so an RSA key can never verify ES256 or HS256.
    keys.push({ ...jwk, alg: algorithm });
    algorithms.add(algorithm);
  }
  if (keys.length === 0) {
    throw new ConfigError(
      [`auth.jwt.jwks_file: ${path} holds no RSA or EC P-256 public signing key (RS256 / ES256)`],
      'auth.jwt',
    );
  }
  return { keys: { keys }, algorithms };
}

/**
 * Builds the verifier from `auth.jwt`. Throws a {@link ConfigError} at start-up for unusable key material
 * (short secret, unsupported key type, unreadable JWKS) rather than failing every request later.
 */
export async function createJwtVerifier(settings: JwtSettings, options: JwtVerifierOptions = {}): Promise<JwtVerifier> {
  const { defaultWorkspace = 'default', now = Date.now } = options;
  const jose = await import('jose');

  let secret: Uint8Array | undefined;
  if (settings.secret !== undefined) {
    secret = new TextEncoder().encode(settings.secret);
    if (secret.byteLength < MIN_SECRET_BYTES) {
      throw new ConfigError(
        [`auth.jwt.secret: an HS256 secret needs at least ${MIN_SECRET_BYTES} bytes (it has ${secret.byteLength})`],
        'auth.jwt',
      );
    }
  }

  let publicKey: { key: KeyObject; algorithm: JwtAlgorithm } | undefined;
  if (settings.public_key !== undefined) {
    let key: KeyObject;
    try {
      key = createPublicKey(normalisePem(settings.public_key));
    } catch {
      throw new ConfigError(['auth.jwt.public_key: not a PEM public key or certificate'], 'auth.jwt');
    }
    const algorithm = algorithmOfKey(key);
    if (algorithm === undefined) {
      throw new ConfigError(
        ['auth.jwt.public_key: only RSA (RS256) and EC P-256 (ES256) keys are supported'],
        'auth.jwt',
      );
    }
    publicKey = { key, algorithm };
  }

  let jwks: JwksState | undefined;
  if (settings.jwks_file !== undefined) {
    const path = isAbsolute(settings.jwks_file)
      ? settings.jwks_file
      : resolve(options.cwd ?? process.cwd(), settings.jwks_file);
    const loaded = await loadJwks(path);
    jwks = { path, algorithms: loaded.algorithms, resolve: jose.createLocalJWKSet(loaded.keys), readAt: now() };
  }

  const available = new Set<JwtAlgorithm>();
  if (secret) available.add('HS256');
  if (publicKey) available.add(publicKey.algorithm);
  for (const algorithm of jwks?.algorithms ?? []) available.add(algorithm);
  const algorithms = [...available].filter(
    (algorithm) => settings.algorithms === undefined || settings.algorithms.includes(algorithm),
  );
  if (algorithms.length === 0) {
    throw new ConfigError(
      [`auth.jwt.algorithms: none of ${[...(settings.algorithms ?? [])].join(', ')} fits the configured keys`],
      'auth.jwt',
    );
  }

  /** Re-reads the JWKS file after a miss (rotation), at most every 30 s; true when new keys were loaded. */
  async function reloadJwks(state: JwksState): Promise<boolean> {
    if (now() - state.readAt < JWKS_RELOAD_INTERVAL_MS) return false;
    state.readAt = now();
    try {
      const loaded = await loadJwks(state.path);
      // Rotation never widens the algorithms fixed at start-up: those stay in `algorithms` above.
      state.resolve = jose.createLocalJWKSet(loaded.keys);
      return true;
    } catch {
      return false; // keep the keys we have; a later miss tries again
    }
  }

  /** Picks the key for a token's header; the algorithm was already checked against the allowed list. */
  async function keyFor(
    header: JWSHeaderParameters,
    token: FlattenedJWSInput,
  ): Promise<Uint8Array | KeyObject | CryptoKey> {
    if (header.alg === 'HS256') {
      if (secret) return secret;
      throw new jose.errors.JOSEAlgNotAllowed('no secret configured');
    }
    if (jwks && (header.kid !== undefined || publicKey?.algorithm !== header.alg)) {
      try {
        return await jwks.resolve(header, token);
      } catch (error) {
        if ((error as { code?: unknown }).code !== 'ERR_JWKS_NO_MATCHING_KEY' || !(await reloadJwks(jwks))) throw error;
        return jwks.resolve(header, token);
      }
    }
    if (publicKey && publicKey.algorithm === header.alg) return publicKey.key;
    throw new jose.errors.JWKSNoMatchingKey();
  }

  const audience = settings.audience === undefined ? undefined : [settings.audience].flat();

  async function verify(token: string): Promise<Principal> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jose.jwtVerify(token, keyFor, {
        algorithms: [...algorithms],
        clockTolerance: JWT_CLOCK_TOLERANCE_S,
        currentDate: new Date(now()),
        requiredClaims: ['sub'],
        ...(audience === undefined ? {} : { audience }),
      }));
    } catch (error) {
      throw invalid(reasonOf(error));
    }
    const { sub } = payload;
    // The subject becomes a principal id and a user id: logs, rate-limit buckets, stored rows.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting them is the point
    if (typeof sub !== 'string' || sub === '' || sub.length > 256 || /[\u0000-\u001f\u007f]/.test(sub)) {
      throw invalid('sub claim');
    }
    // `sa:` names service accounts (their tokens' principals): a JWT must not pass for one in logs,
    // audit entries or rate-limit buckets (Agno reserves the prefix too).
    if (sub.startsWith('sa:')) throw invalid('sub claim');
    const workspace = payload.workspace_id;
    if (workspace !== undefined && (typeof workspace !== 'string' || !ID_PATTERN.test(workspace))) {
      throw invalid('workspace_id claim');
    }
    const roles = rolesFromClaims(payload);
    if (roles === null) throw invalid('role claim');
    return {
      id: sub,
      kind: 'jwt',
      scopes: expandRoles(roles, scopesFromClaims(payload)),
      workspaceId: workspace ?? defaultWorkspace,
      userId: sub,
    };
  }

  return { algorithms, verify };
}
