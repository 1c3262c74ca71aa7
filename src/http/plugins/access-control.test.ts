import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer } from '../../../test/helpers.js';
import { generateApiKey } from '../../auth/index.js';
import type { RunningServer } from '../../main.js';

const ENV_KEY = 'aos_test_env_key_0123456789abcdef';

// biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field
const json = async (response: Response): Promise<any> => response.json();

describe('auth over real HTTP', () => {
  let server: RunningServer;
  const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

  beforeAll(async () => {
    server = await startTestServer({
      env: { AGENTOS_API_KEY: ENV_KEY },
      config: {
        agents: [{ id: 'alpha' }, { id: 'beta' }],
        auth: { api_keys: [{ name: 'reader', key: 'aos_reader_key', scopes: ['agents:alpha:read'] }] },
      },
    });
  });
  afterAll(async () => {
    await server.close();
  });

  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${server.url}${path}`, { headers });

  it('reports api_key mode on the public /info', async () => {
    const response = await get('/info');
    expect(response.status).toBe(200);
    expect((await json(response)).auth_mode).toBe('api_key');
  });

  it('refuses a missing, wrong or prefix-of-key token with 401 and accepts the key', async () => {
    const missing = await get('/config');
    expect(missing.status).toBe(401);
    expect(await json(missing)).toMatchObject({ detail: 'Authorization header required', code: 'AOS_AUTH_REQUIRED' });
    expect((await get('/config', bearer('wrong'))).status).toBe(401);
    expect((await get('/config', bearer(ENV_KEY.slice(0, -1)))).status).toBe(401);
    expect((await get('/config', bearer(`${ENV_KEY}x`))).status).toBe(401);
    expect((await get('/config', { authorization: ENV_KEY })).status).toBe(401);
    const ok = await get('/config', bearer(ENV_KEY));
    expect(ok.status).toBe(200);
  });

  it('sends the security headers on 401', async () => {
    const response = await get('/config');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('x-request-id')).toBeTruthy();
  });

  it('keeps public paths open', async () => {
    for (const path of ['/health', '/api/health', '/info', '/openapi.json', '/docs', '/docs/static/swagger-ui.css']) {
      expect((await get(path)).status, path).toBe(200);
    }
  });

  it('answers 401 in the surface shape, also for unknown paths', async () => {
    const api = await get('/api/agents');
    expect(api.status).toBe(401);
    expect(await json(api)).toMatchObject({ error: 'Authorization header required' });
    const openai = await get('/v1/models');
    expect(openai.status).toBe(401);
    expect((await json(openai)).error).toMatchObject({ type: 'authentication_error' });
    const unknown = await get('/whatever');
    expect(unknown.status).toBe(401);
  });

  it('lets CORS preflights through without credentials', async () => {
    const response = await fetch(`${server.url}/config`, {
      method: 'OPTIONS',
      headers: { origin: 'http://example.test', 'access-control-request-method': 'GET' },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('enforces scopes: 403 without the scope, per-resource scopes filter lists', async () => {
    const forbidden = await get('/config', bearer('aos_reader_key'));
    expect(forbidden.status).toBe(403);
    expect((await json(forbidden)).detail).toContain('config:read');
    const list = await json(await get('/agents', bearer('aos_reader_key')));
    expect(list.agents.map((agent: { id: string }) => agent.id)).toEqual(['alpha']);
    expect((await get('/agents/alpha', bearer('aos_reader_key'))).status).toBe(200);
    expect((await get('/agents/beta', bearer('aos_reader_key'))).status).toBe(403);
    expect((await get('/teams', bearer('aos_reader_key'))).status).toBe(403);
    const admin = await json(await get('/agents', bearer(ENV_KEY)));
    expect(admin.agents).toHaveLength(2);
  });

  it('admin-only routes refuse scoped keys', async () => {
    const response = await fetch(`${server.url}/databases/all/migrate`, {
      method: 'POST',
      headers: bearer('aos_reader_key'),
    });
    expect(response.status).toBe(403);
    const ok = await fetch(`${server.url}/databases/all/migrate`, { method: 'POST', headers: bearer(ENV_KEY) });
    expect(ok.status).toBe(200);
  });

  it('accepts stored keys until they are revoked', async () => {
    const key = generateApiKey();
    await server.services.store.apiKeys.create({ ...key, name: 'stored', scopes: ['config:read'] });
    expect((await get('/config', bearer(key.plaintext))).status).toBe(200);
    await server.services.store.apiKeys.revoke(key.id);
    expect((await get('/config', bearer(key.plaintext))).status).toBe(401);
  });
});

describe('binding rules', () => {
  it('refuses a non-loopback host without credentials', async () => {
    await expect(startTestServer({ host: '0.0.0.0' })).rejects.toThrow(
      /Refusing to listen on 0\.0\.0\.0 without credentials/,
    );
  });

  it('allows a non-loopback host once a key is configured', async () => {
    const server = await startTestServer({ host: '0.0.0.0', env: { AGENTOS_API_KEY: ENV_KEY } });
    const port = new URL(server.url.replace('0.0.0.0', '127.0.0.1')).port;
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
    await server.close();
  });

  it('opens everything in dev mode on loopback', async () => {
    const server = await startTestServer();
    expect((await json(await fetch(`${server.url}/info`))).auth_mode).toBe('none');
    expect((await fetch(`${server.url}/config`)).status).toBe(200);
    await server.close();
  });
});
