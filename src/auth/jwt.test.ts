import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  base64url,
  type CryptoKey,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  type JWTPayload,
  SignJWT,
  UnsecuredJWT,
} from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer } from '../../test/helpers.js';
import type { RunningServer } from '../main.js';
import { createSqliteStore } from '../store/index.js';
import { createAuthenticator } from './authenticator.js';
import { createJwtVerifier, looksLikeJwt, scopesFromClaims } from './jwt.js';

const SECRET = 'a-test-secret-that-is-at-least-32-bytes-long';
const secretKey = new TextEncoder().encode(SECRET);
const nowS = () => Math.floor(Date.now() / 1000);

function hs256(claims: JWTPayload, key: Uint8Array = secretKey): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(key);
}

/** Swaps the payload segment of a signed token, keeping header and signature. */
function withPayload(token: string, claims: JWTPayload): string {
  const [header, , signature] = token.split('.');
  return `${header}.${base64url.encode(JSON.stringify(claims))}.${signature}`;
}

describe('JWT verification', () => {
  let rsa: { publicKey: CryptoKey; privateKey: CryptoKey };
  let rsaPem: string;
  let ec: { publicKey: CryptoKey; privateKey: CryptoKey };
  let dir: string;
  let jwksFile: string;

  beforeAll(async () => {
    rsa = await generateKeyPair('RS256', { extractable: true });
    rsaPem = await exportSPKI(rsa.publicKey);
    ec = await generateKeyPair('ES256', { extractable: true });
    dir = mkdtempSync(join(tmpdir(), 'agentos-jwt-'));
    jwksFile = join(dir, 'jwks.json');
    const other = await generateKeyPair('ES256', { extractable: true });
    writeFileSync(
      jwksFile,
      JSON.stringify({
        keys: [
          { ...(await exportJWK(other.publicKey)), kid: 'old', use: 'sig' },
          { ...(await exportJWK(ec.publicKey)), kid: 'current', use: 'sig' },
          // A symmetric entry must never become a verification key.
          { kty: 'oct', k: base64url.encode(secretKey), kid: 'sym' },
        ],
      }),
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('accepts a valid HS256 token and maps its claims', async () => {
    const verifier = await createJwtVerifier({ secret: SECRET });
    expect(verifier.algorithms).toEqual(['HS256']);
    const token = await hs256({ sub: 'user-1', scopes: ['agents:read', 'config:read'], exp: nowS() + 60 });
    expect(await verifier.verify(token)).toEqual({
      id: 'user-1',
      userId: 'user-1',
      kind: 'jwt',
      scopes: ['agents:read', 'config:read'],
      workspaceId: 'default',
    });
    const inW2 = await verifier.verify(await hs256({ sub: 'user-2', workspace_id: 'w2' }));
    expect(inW2.workspaceId).toBe('w2');
  });

  it('reads scopes from a list or a space-separated string and drops malformed entries', async () => {
    const verifier = await createJwtVerifier({ secret: SECRET });
    const fromString = await verifier.verify(
      await hs256({ sub: 'u', scopes: 'agents:read  agents:a:run bogus admin' }),
    );
    expect(fromString.scopes).toEqual(['agents:read', 'agents:a:run', 'admin']);
    const fromList = await verifier.verify(await hs256({ sub: 'u', scopes: ['sessions:read', 7, 'Nope:x', null] }));
    expect(fromList.scopes).toEqual(['sessions:read']);
    expect((await verifier.verify(await hs256({ sub: 'u' }))).scopes).toEqual([]);
    expect(scopesFromClaims({ scope: 'config:read' })).toEqual(['config:read']);
  });

  it('rejects an expired token, allowing 10 s of clock skew', async () => {
    const verifier = await createJwtVerifier({ secret: SECRET });
    await expect(verifier.verify(await hs256({ sub: 'u', exp: nowS() - 60 }))).rejects.toMatchObject({
      code: 'AOS_AUTH_INVALID',
      status: 401,
      message: 'Invalid token: expired',
    });
    expect((await verifier.verify(await hs256({ sub: 'u', exp: nowS() - 5 }))).id).toBe('u');
  });

  it('rejects a token that is not yet valid, allowing 10 s of clock skew', async () => {
    const verifier = await createJwtVerifier({ secret: SECRET });
    await expect(verifier.verify(await hs256({ sub: 'u', nbf: nowS() + 60 }))).rejects.toMatchObject({
      code: 'AOS_AUTH_INVALID',
      message: 'Invalid token: not yet valid',
    });
    expect((await verifier.verify(await hs256({ sub: 'u', nbf: nowS() + 5 }))).id).toBe('u');
  });

  it('checks the audience when one is configured', async () => {
    const verifier = await createJwtVerifier({ secret: SECRET, audience: ['agentos', 'agentos-staging'] });
    expect((await verifier.verify(await hs256({ sub: 'u', aud: 'agentos' }))).id).toBe('u');
    expect((await verifier.verify(await hs256({ sub: 'u', aud: ['x', 'agentos-staging'] }))).id).toBe('u');
    await expect(verifier.verify(await hs256({ sub: 'u', aud: 'someone-else' }))).rejects.toMatchObject({
      message: 'Invalid token: audience',
    });
    await expect(verifier.verify(await hs256({ sub: 'u' }))).rejects.toMatchObject({
      message: 'Invalid token: audience',
    });
  });

  it('requires a usable sub and a well-formed workspace_id', async () => {
    const verifier = await createJwtVerifier({ secret: SECRET });
    await expect(verifier.verify(await hs256({ scopes: ['admin'] }))).rejects.toMatchObject({
      message: 'Invalid token: missing sub',
    });
    await expect(verifier.verify(await hs256({ sub: '' }))).rejects.toMatchObject({ code: 'AOS_AUTH_INVALID' });
    await expect(verifier.verify(await hs256({ sub: 'a\nb' }))).rejects.toMatchObject({ code: 'AOS_AUTH_INVALID' });
    await expect(verifier.verify(await hs256({ sub: 'u', workspace_id: '../etc' }))).rejects.toMatchObject({
      message: 'Invalid token: workspace_id claim',
    });
  });

  it('rejects unsigned tokens (alg: none) in every configuration', async () => {
    const claims = { sub: 'attacker', scopes: ['admin'] };
    const unsecured = new UnsecuredJWT(claims).encode();
    const handMade = `${base64url.encode('{"alg":"none","typ":"JWT"}')}.${base64url.encode(JSON.stringify(claims))}.`;
    expect(looksLikeJwt(unsecured)).toBe(true);
    for (const settings of [{ secret: SECRET }, { public_key: rsaPem }, { jwks_file: jwksFile }]) {
      const verifier = await createJwtVerifier(settings);
      for (const token of [unsecured, handMade]) {
        await expect(verifier.verify(token)).rejects.toMatchObject({
          code: 'AOS_AUTH_INVALID',
          message: 'Invalid token: algorithm not allowed',
        });
      }
    }
  });

  it('rejects HS256 tokens signed with the RSA public key (algorithm confusion)', async () => {
    const forged = await hs256({ sub: 'attacker', scopes: ['admin'] }, new TextEncoder().encode(rsaPem));
    const rsOnly = await createJwtVerifier({ public_key: rsaPem });
    expect(rsOnly.algorithms).toEqual(['RS256']);
    await expect(rsOnly.verify(forged)).rejects.toMatchObject({ message: 'Invalid token: algorithm not allowed' });
    // With a secret configured too, HS256 is verified with the secret only, never with the PEM.
    const both = await createJwtVerifier({ secret: SECRET, public_key: rsaPem });
    await expect(both.verify(forged)).rejects.toMatchObject({ message: 'Invalid token: signature' });
    // And an RS256 token is never checked against the secret.
    const restricted = await createJwtVerifier({ secret: SECRET, public_key: rsaPem, algorithms: ['RS256'] });
    await expect(restricted.verify(await hs256({ sub: 'u' }))).rejects.toMatchObject({
      message: 'Invalid token: algorithm not allowed',
    });
  });

  it('rejects a tampered payload or signature', async () => {
    const verifier = await createJwtVerifier({ secret: SECRET });
    const token = await hs256({ sub: 'user', scopes: ['agents:read'] });
    await expect(verifier.verify(withPayload(token, { sub: 'user', scopes: ['admin'] }))).rejects.toMatchObject({
      message: 'Invalid token: signature',
    });
    const [header, payload, signature = ''] = token.split('.');
    const flipped = `${signature.slice(0, -2)}${signature.at(-2) === 'A' ? 'B' : 'A'}${signature.at(-1)}`;
    await expect(verifier.verify(`${header}.${payload}.${flipped}`)).rejects.toMatchObject({
      message: 'Invalid token: signature',
    });
    await expect(
      verifier.verify(await hs256({ sub: 'u' }, new TextEncoder().encode(`${SECRET}!`))),
    ).rejects.toMatchObject({ message: 'Invalid token: signature' });
    await expect(verifier.verify('not.a.jwt')).rejects.toMatchObject({ message: 'Invalid token: malformed' });
  });

  it('verifies RS256 with a PEM public key', async () => {
    // Env values often carry the PEM with literal \n.
    const verifier = await createJwtVerifier({ public_key: rsaPem.replaceAll('\n', '\\n') });
    const token = await new SignJWT({ sub: 'svc', scopes: 'config:read' })
      .setProtectedHeader({ alg: 'RS256' })
      .setExpirationTime('1m')
      .sign(rsa.privateKey);
    expect(await verifier.verify(token)).toMatchObject({ id: 'svc', scopes: ['config:read'] });
    const stranger = await generateKeyPair('RS256');
    const foreign = await new SignJWT({ sub: 'svc' }).setProtectedHeader({ alg: 'RS256' }).sign(stranger.privateKey);
    await expect(verifier.verify(foreign)).rejects.toMatchObject({ message: 'Invalid token: signature' });
    const es = await new SignJWT({ sub: 'svc' }).setProtectedHeader({ alg: 'ES256' }).sign(ec.privateKey);
    await expect(verifier.verify(es)).rejects.toMatchObject({ message: 'Invalid token: algorithm not allowed' });
  });

  it('verifies ES256 with a JWKS file, choosing the key by kid', async () => {
    const verifier = await createJwtVerifier({ jwks_file: 'jwks.json' }, { cwd: dir });
    expect(verifier.algorithms).toEqual(['ES256']);
    const sign = (kid: string, key = ec.privateKey) =>
      new SignJWT({ sub: 'jwks-user', scopes: ['agents:*:run'] }).setProtectedHeader({ alg: 'ES256', kid }).sign(key);
    expect(await verifier.verify(await sign('current'))).toMatchObject({ id: 'jwks-user', scopes: ['agents:*:run'] });
    await expect(verifier.verify(await sign('old'))).rejects.toMatchObject({ message: 'Invalid token: signature' });
    await expect(verifier.verify(await sign('missing'))).rejects.toMatchObject({
      message: 'Invalid token: no matching key',
    });
    // The oct entry in the file is ignored: an HS256 token with its kid is refused outright.
    const hs = await new SignJWT({ sub: 'x' }).setProtectedHeader({ alg: 'HS256', kid: 'sym' }).sign(secretKey);
    await expect(verifier.verify(hs)).rejects.toMatchObject({ message: 'Invalid token: algorithm not allowed' });
  });

  it('refuses unusable key material at start-up', async () => {
    await expect(createJwtVerifier({ secret: 'short' })).rejects.toMatchObject({ code: 'AOS_CONFIG_INVALID' });
    await expect(createJwtVerifier({ public_key: 'not a pem' })).rejects.toThrow(/not a PEM public key/);
    await expect(createJwtVerifier({ jwks_file: join(dir, 'nope.json') })).rejects.toThrow(/cannot be read/);
    await expect(createJwtVerifier({ secret: SECRET, algorithms: ['RS256'] })).rejects.toThrow(
      /fits the configured keys/,
    );
    const ed = await generateKeyPair('EdDSA', { extractable: true });
    await expect(createJwtVerifier({ public_key: await exportSPKI(ed.publicKey) })).rejects.toThrow(/only RSA/);
  });

  it('plugs into the authenticator beside API keys', async () => {
    const store = createSqliteStore({ url: 'sqlite::memory:' });
    await store.migrate();
    try {
      const auth = createAuthenticator({
        staticKeys: [{ name: 'AGENTOS_API_KEY', key: 'env-key', scopes: ['admin'] }],
        apiKeys: store.apiKeys,
        jwt: await createJwtVerifier({ secret: SECRET }),
      });
      expect(await auth.mode()).toBe('jwt');
      expect((await auth.authenticate(`Bearer ${await hs256({ sub: 'u' })}`)).kind).toBe('jwt');
      expect((await auth.authenticate('Bearer env-key')).kind).toBe('env_key');
      await expect(auth.authenticate('Bearer other-key')).rejects.toMatchObject({ code: 'AOS_AUTH_INVALID' });
      await expect(auth.authenticate(undefined)).rejects.toMatchObject({ code: 'AOS_AUTH_REQUIRED' });
    } finally {
      await store.close();
    }
  });
});

// biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field
const json = async (response: Response): Promise<any> => response.json();

describe('JWT over real HTTP', () => {
  const ENV_KEY = 'aos_test_env_key_for_jwt_0123456789';
  let server: RunningServer;
  const get = (path: string, token: string) =>
    fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${token}` } });

  beforeAll(async () => {
    server = await startTestServer({ env: { AGENTOS_JWT_SECRET: SECRET, AGENTOS_API_KEY: ENV_KEY } });
  });
  afterAll(async () => {
    await server.close();
  });

  it('reports jwt mode, admits scoped tokens and keeps API keys working', async () => {
    expect((await json(await fetch(`${server.url}/info`))).auth_mode).toBe('jwt');
    const reader = await hs256({ sub: 'reader', scopes: 'config:read', exp: nowS() + 60 });
    expect((await get('/config', reader)).status).toBe(200);
    const nobody = await hs256({ sub: 'nobody', scopes: ['agents:read'] });
    const forbidden = await get('/config', nobody);
    expect(forbidden.status).toBe(403);
    expect((await json(forbidden)).code).toBe('AOS_AUTH_FORBIDDEN');
    expect((await get('/config', ENV_KEY)).status).toBe(200);
    expect((await fetch(`${server.url}/config`)).status).toBe(401);
  });

  it('puts a token in its workspace_id and keeps it there unless it is admin', async () => {
    const tenant = await hs256({ sub: 't', scopes: ['sessions:read'], workspace_id: 'w2' });
    expect((await get('/sessions', tenant)).status).toBe(200);
    const elsewhere = await fetch(`${server.url}/sessions`, {
      headers: { authorization: `Bearer ${tenant}`, 'x-workspace-id': 'default' },
    });
    expect(elsewhere.status).toBe(403);
    expect((await json(elsewhere)).code).toBe('AOS_AUTH_WORKSPACE_FORBIDDEN');
    const admin = await hs256({ sub: 'root', scopes: 'admin', workspace_id: 'w2' });
    const anywhere = await fetch(`${server.url}/sessions`, {
      headers: { authorization: `Bearer ${admin}`, 'x-workspace-id': 'default' },
    });
    expect(anywhere.status).toBe(200);
  });

  it('answers 401 with a short reason and never echoes the token', async () => {
    const expired = await hs256({ sub: 'late', scopes: ['config:read'], exp: nowS() - 3600 });
    const response = await get('/config', expired);
    expect(response.status).toBe(401);
    const text = await response.text();
    expect(JSON.parse(text)).toMatchObject({ code: 'AOS_AUTH_INVALID', detail: 'Invalid token: expired' });
    expect(text).not.toContain(expired.split('.')[1]);
    const api = await get('/api/health', expired);
    expect(api.status).toBe(200); // public: credentials are not even looked at
  });
});
