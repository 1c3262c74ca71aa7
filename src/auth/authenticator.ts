/**
 * Turns an `Authorization` header into a {@link Principal}, or throws a 401 error, and settles the
 * workspace a principal acts in. Knows API keys from the environment, the config file and the key
 * store, and JWTs when `auth.jwt` is configured (keys keep working beside them).
 * @module
 */
import { ID_PATTERN } from '../config/index.js';
import { AgentOsError } from '../errors/index.js';
import type { ApiKeyRecord, ApiKeyStore, ServiceAccountStore } from '../store/types.js';
import { digestsEqual, hashApiKey } from './api-keys.js';
import { type JwtVerifier, looksLikeJwt } from './jwt.js';
import { ADMIN_SCOPE, type Principal } from './principal.js';
import { expandRoles } from './scopes.js';

/** `none` = dev mode (loopback only), otherwise the strongest credential kind configured. */
export type AuthMode = 'none' | 'api_key' | 'jwt';

/** A key known from configuration rather than the store. */
export interface StaticApiKey {
  name: string;
  /** Plaintext, hashed once at start-up and then forgotten. */
  key?: string;
  /** Lower-case hex SHA-256, for configs that do not want the plaintext on disk. */
  keySha256?: string;
  scopes: readonly string[];
}

/** Options of {@link createAuthenticator}. */
export interface AuthenticatorOptions {
  /** Keys from config and `AGENTOS_API_KEY` (named `AGENTOS_API_KEY`, admin). */
  staticKeys: readonly StaticApiKey[];
  apiKeys: ApiKeyStore;
  /** Service accounts, whose tokens are keys naming them; without it such tokens are refused. */
  serviceAccounts?: ServiceAccountStore;
  /** JWT verification (`auth.jwt`); without it bearer tokens are only matched against keys. */
  jwt?: JwtVerifier;
  /** `auth.tenancy`: every authenticated request must name its workspace (`X-Workspace-ID`). */
  tenancy?: boolean;
  defaultWorkspace?: string;
  now?: () => number;
}

/** The authenticator used by the HTTP auth plugin and by interfaces (MCP, A2A) alike. */
export interface Authenticator {
  /**
   * The current mode. Dev mode ends for good as soon as any key is stored, even by another process
   * and even after that key is revoked.
   */
  mode(): Promise<AuthMode>;
  /** Resolves the caller, or throws `AOS_AUTH_REQUIRED` / `AOS_AUTH_INVALID`. */
  authenticate(authorization: string | undefined): Promise<Principal>;
  /**
   * The principal as it acts in the workspace a request names (`X-Workspace-ID`), or in its own when
   * none is named. Throws `AOS_BAD_REQUEST` for a malformed id, `AOS_AUTH_WORKSPACE_REQUIRED` when
   * tenancy is on and none is named, `AOS_AUTH_WORKSPACE_FORBIDDEN` when a non-admin names another.
   */
  selectWorkspace(principal: Principal, requested: string | undefined): Principal;
}

/** Dev mode's caller: everything is allowed, which is why dev mode is loopback-only. */
const DEV_PRINCIPAL: Principal = Object.freeze({
  id: 'dev',
  kind: 'dev',
  scopes: Object.freeze([ADMIN_SCOPE]),
  workspaceId: 'default',
});

/** Last-use timestamps are written at most this often per key, to keep reads free of writes. */
const TOUCH_INTERVAL_MS = 60_000;

/** Reads `Bearer <token>`; anything else is treated as no token. */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (!authorization) return undefined;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
  return match?.[1];
}

/** The scopes a stored role and scope list grant; an unknown role is a 401, never an empty grant. */
function grantedScopes(role: string | null, scopes: readonly string[]): string[] {
  try {
    return expandRoles(role === null ? [] : [role], scopes);
  } catch {
    throw new AgentOsError('AOS_AUTH_INVALID', 'Invalid authentication token: unknown role', {
      details: { reason: 'role' },
    });
  }
}

/** Creates the authenticator. */
export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const { apiKeys, serviceAccounts, jwt, tenancy = false, defaultWorkspace = 'default', now = Date.now } = options;
  const staticKeys = options.staticKeys.map((entry) => ({
    name: entry.name,
    hash: entry.keySha256?.toLowerCase() ?? hashApiKey(entry.key ?? ''),
    scopes: [...entry.scopes],
  }));
  const lastTouched = new Map<string, number>();

  async function mode(): Promise<AuthMode> {
    if (jwt) return 'jwt';
    if (staticKeys.length > 0) return 'api_key';
    // Revoked keys count: revoking the last key must lock the server, not reopen it in dev mode.
    return (await apiKeys.count({ includeRevoked: true })) > 0 ? 'api_key' : 'none';
  }

  async function authenticate(authorization: string | undefined): Promise<Principal> {
    const token = bearerToken(authorization);
    if (token === undefined) {
      if ((await mode()) === 'none') return DEV_PRINCIPAL;
      throw new AgentOsError('AOS_AUTH_REQUIRED', 'Authorization header required');
    }
    const hash = hashApiKey(token);
    // Compare against every static key so timing does not tell how many there are or which matched.
    let matched: (typeof staticKeys)[number] | undefined;
    for (const entry of staticKeys) {
      if (digestsEqual(entry.hash, hash) && matched === undefined) matched = entry;
    }
    if (matched) {
      return {
        id: matched.name,
        kind: matched.name === 'AGENTOS_API_KEY' ? 'env_key' : 'config_key',
        scopes: matched.scopes,
        workspaceId: defaultWorkspace,
      };
    }
    // agentos keys never contain dots, so a JWT-shaped token is a JWT: its failure reason is the useful one.
    if (jwt && looksLikeJwt(token)) return jwt.verify(token);
    const stored = await apiKeys.getActiveByHash(hash);
    if (stored && digestsEqual(stored.keyHash, hash) && (stored.expiresAt === null || now() < stored.expiresAt)) {
      const principal = await principalOfKey(stored);
      const at = now();
      if (at - (lastTouched.get(stored.id) ?? 0) >= TOUCH_INTERVAL_MS) {
        lastTouched.set(stored.id, at);
        await apiKeys.touch(stored.id, at);
      }
      return principal;
    }
    // In dev mode any token passes: SDK clients (openai, MCP) insist on sending some key, and
    // dev mode is open by definition (and loopback-only). Once a credential exists, this line is gone.
    if ((await mode()) === 'none') return DEV_PRINCIPAL;
    throw new AgentOsError('AOS_AUTH_INVALID', 'Invalid authentication token');
  }

  /**
   * A stored key's principal: its role expanded beside its scopes, or, for a service account's token,
   * the account's current role and scopes (so an update applies to every token at once). A role outside
   * the table or a revoked account fails closed with 401.
   */
  async function principalOfKey(stored: ApiKeyRecord): Promise<Principal> {
    if (stored.serviceAccountId === null) {
      return {
        id: stored.id,
        kind: 'api_key',
        scopes: grantedScopes(stored.role, stored.scopes),
        workspaceId: stored.workspaceId,
      };
    }
    const account = await serviceAccounts?.get(stored.workspaceId, stored.serviceAccountId);
    if (!account || account.revokedAt !== null) {
      throw new AgentOsError('AOS_AUTH_INVALID', 'Invalid authentication token');
    }
    return {
      id: `sa:${account.id}`,
      kind: 'service_account',
      scopes: grantedScopes(account.role, account.scopes),
      workspaceId: account.workspaceId,
    };
  }

  function selectWorkspace(principal: Principal, requested: string | undefined): Principal {
    if (requested === undefined) {
      if (tenancy) {
        throw new AgentOsError('AOS_AUTH_WORKSPACE_REQUIRED', 'Tenancy is on: name the workspace in X-Workspace-ID');
      }
      return principal;
    }
    if (!ID_PATTERN.test(requested)) {
      throw new AgentOsError('AOS_BAD_REQUEST', `Invalid X-Workspace-ID header (expected ${ID_PATTERN.source})`);
    }
    if (requested === principal.workspaceId) return principal;
    if (!principal.scopes.includes(ADMIN_SCOPE)) {
      throw new AgentOsError('AOS_AUTH_WORKSPACE_FORBIDDEN', 'The caller does not belong to this workspace', {
        details: { workspace: requested },
      });
    }
    return { ...principal, workspaceId: requested };
  }

  return { mode, authenticate, selectWorkspace };
}
