import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../test/helpers.js';
import { generateApiKey } from '../auth/index.js';

const SECRET = 'roles-test-secret-0123456789abcdef-0123456789';

function sign(claims: Record<string, unknown>): Promise<string> {
  return new SignJWT({ sub: 'someone', ...claims })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode(SECRET));
}

describe('roles: owner ⊇ admin ⊇ editor ⊇ viewer', () => {
  let test: TestApp;
  const tokens: Record<string, string> = {};

  async function status(
    token: string,
    method: 'GET' | 'POST' | 'DELETE',
    url: string,
    payload?: unknown,
    headers: Record<string, string> = {},
  ): Promise<number> {
    const response = await test.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}`, ...headers },
      ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
    });
    return response.statusCode;
  }

  beforeAll(async () => {
    test = await buildTestApp({
      agents: [{ id: 'assistant', name: 'Assistant', model: 'local:default' }],
      auth: { jwt: { secret: SECRET } },
    });
    for (const role of ['viewer', 'editor', 'admin', 'owner']) tokens[role] = await sign({ role });
    tokens.empty = await sign({});
    tokens.list = await sign({ roles: ['viewer', 'editor'] });
  });
  afterAll(async () => {
    await test.close();
  });

  it('viewer reads and nothing else', async () => {
    expect(await status(tokens.viewer as string, 'GET', '/agents')).toBe(200);
    expect(await status(tokens.viewer as string, 'GET', '/sessions')).toBe(200);
    expect(await status(tokens.viewer as string, 'POST', '/components', { component_type: 'agent', name: 'v' })).toBe(
      403,
    );
    expect(await status(tokens.viewer as string, 'DELETE', '/sessions/nope')).toBe(403);
  });

  it('editor reads, writes and runs, but does not delete or manage service accounts', async () => {
    expect(await status(tokens.editor as string, 'GET', '/components')).toBe(200);
    expect(await status(tokens.editor as string, 'POST', '/components', { component_type: 'agent', name: 'e' })).toBe(
      201,
    );
    expect(await status(tokens.editor as string, 'DELETE', '/sessions/nope')).toBe(403);
    expect(await status(tokens.list as string, 'POST', '/components', { component_type: 'agent', name: 'l' })).toBe(
      201,
    );
  });

  it('admin may delete in its workspace but neither cross workspaces nor reach server-wide admin routes', async () => {
    // Past the scope check: the session does not exist.
    expect(await status(tokens.admin as string, 'DELETE', '/sessions/nope')).toBe(404);
    expect(await status(tokens.admin as string, 'GET', '/sessions', undefined, { 'x-workspace-id': 'other' })).toBe(
      403,
    );
    expect(await status(tokens.admin as string, 'GET', '/api/security/audit/verify')).toBe(403);
    expect(await status(tokens.owner as string, 'DELETE', '/sessions/nope')).toBe(404);
    expect(await status(tokens.owner as string, 'GET', '/api/security/audit/verify')).toBe(403);
  });

  it('an empty permission set grants nothing', async () => {
    expect(await status(tokens.empty as string, 'GET', '/agents')).toBe(403);
    expect(await status(tokens.empty as string, 'GET', '/sessions')).toBe(403);
    expect(await status(tokens.empty as string, 'GET', '/config')).toBe(403);
  });

  it('an unknown role fails closed with 401', async () => {
    expect(await status(await sign({ role: 'superuser' }), 'GET', '/agents')).toBe(401);
    expect(await status(await sign({ roles: ['viewer', 'root'] }), 'GET', '/agents')).toBe(401);
    expect(await status(await sign({ role: 42 }), 'GET', '/agents')).toBe(401);
  });

  it('refuses a JWT whose subject claims to be a service account', async () => {
    const token = await new SignJWT({ sub: 'sa:sa_0123', role: 'viewer' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setExpirationTime('10m')
      .sign(new TextEncoder().encode(SECRET));
    expect(await status(token, 'GET', '/sessions')).toBe(401);
  });

  it("an API key's role expands to scopes; an unknown stored role is refused", async () => {
    const viewerKey = generateApiKey();
    await test.services.store.apiKeys.create({ ...viewerKey, name: 'viewer', scopes: [], role: 'viewer' });
    expect(await status(viewerKey.plaintext, 'GET', '/sessions')).toBe(200);
    expect(await status(viewerKey.plaintext, 'DELETE', '/sessions/nope')).toBe(403);
    const badKey = generateApiKey();
    await test.services.store.apiKeys.create({ ...badKey, name: 'bad', scopes: ['sessions:read'], role: 'root' });
    expect(await status(badKey.plaintext, 'GET', '/sessions')).toBe(401);
  });

  it('an expired key no longer authenticates', async () => {
    const key = generateApiKey();
    await test.services.store.apiKeys.create({ ...key, name: 'old', scopes: [], role: 'viewer', expiresAt: 1 });
    expect(await status(key.plaintext, 'GET', '/sessions')).toBe(401);
  });
});

describe('config keys with a role', () => {
  it('expand the role and get no admin scope by default', async () => {
    const test = await buildTestApp({
      auth: {
        api_keys: [
          { name: 'viewer', key: 'aos_roles_config_viewer_0123456789', role: 'viewer' },
          { name: 'mixed', key: 'aos_roles_config_mixed_01234567890', role: 'viewer', scopes: ['sessions:delete'] },
        ],
      },
    });
    try {
      const status = async (key: string, method: 'GET' | 'DELETE', url: string) =>
        (await test.app.inject({ method, url, headers: { authorization: `Bearer ${key}` } })).statusCode;
      expect(await status('aos_roles_config_viewer_0123456789', 'GET', '/sessions')).toBe(200);
      expect(await status('aos_roles_config_viewer_0123456789', 'DELETE', '/sessions/nope')).toBe(403);
      expect(await status('aos_roles_config_viewer_0123456789', 'GET', '/api/security/audit/verify')).toBe(403);
      expect(await status('aos_roles_config_mixed_01234567890', 'DELETE', '/sessions/nope')).toBe(404);
    } finally {
      await test.close();
    }
  });
});
