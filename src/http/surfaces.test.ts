import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../test/helpers.js';

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'x-xss-protection': '1; mode=block',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
};

describe('surfaces: error bodies, headers, limits (dev mode)', () => {
  let test: TestApp;
  beforeAll(async () => {
    test = await buildTestApp({ server: { body_limit: '64kb' } });
  });
  afterAll(async () => {
    await test.close();
  });

  it('sends security headers and a request id on 200 and 404', async () => {
    for (const url of ['/health', '/nope']) {
      const response = await test.app.inject({ method: 'GET', url });
      expect(response.headers).toMatchObject(SECURITY_HEADERS);
      expect(response.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it('keeps a safe client request id and replaces an unsafe one', async () => {
    const kept = await test.app.inject({ url: '/health', headers: { 'x-request-id': 'trace-123' } });
    expect(kept.headers['x-request-id']).toBe('trace-123');
    const replaced = await test.app.inject({ url: '/health', headers: { 'x-request-id': 'bad id\twith tab' } });
    expect(replaced.headers['x-request-id']).not.toContain('bad');
  });

  it('answers 404 in each surface shape', async () => {
    const root = await test.app.inject({ url: '/agents/unknown-agent' });
    expect(root.statusCode).toBe(404);
    expect(root.json()).toMatchObject({ detail: 'Agent not found', code: 'AOS_NOT_FOUND' });

    const rootPath = await test.app.inject({ url: '/no/such/path' });
    expect(rootPath.json()).toMatchObject({ detail: 'Not Found' });

    const api = await test.app.inject({ url: '/api/x' });
    expect(api.statusCode).toBe(404);
    expect(api.json()).toMatchObject({ error: 'Not Found', code: 'AOS_NOT_FOUND' });
    expect(api.json()).not.toHaveProperty('detail');

    const openai = await test.app.inject({ url: '/v1/x' });
    expect(openai.statusCode).toBe(404);
    expect(openai.json()).toEqual({
      error: { message: 'Not Found', type: 'not_found_error', code: 'AOS_NOT_FOUND', param: null },
    });
  });

  it('validates path ids: 422 with FastAPI-style detail on the root surface', async () => {
    const response = await test.app.inject({ url: `/agents/${encodeURIComponent('bad id!')}` });
    expect(response.statusCode).toBe(422);
    const body = response.json();
    expect(body.code).toBe('AOS_VALIDATION');
    expect(body.detail[0]).toMatchObject({ loc: ['path', 'agent_id'], type: expect.any(String) });
    expect(body.detail[0].msg).toContain('invalid id');
  });

  it('validates query parameters', async () => {
    const response = await test.app.inject({ url: '/agents?limit=0' });
    expect(response.statusCode).toBe(422);
    expect(response.json().detail[0].loc).toEqual(['query', 'limit']);
  });

  it('answers 413 over the body limit in each surface shape', async () => {
    const payload = JSON.stringify({ blob: 'x'.repeat(70 * 1024) });
    const headers = { 'content-type': 'application/json' };
    const root = await test.app.inject({ method: 'POST', url: '/databases/all/migrate', payload, headers });
    expect(root.statusCode).toBe(413);
    expect(root.json()).toMatchObject({ code: 'AOS_PAYLOAD_TOO_LARGE', detail: expect.stringContaining('65536') });
    expect(root.headers).toMatchObject(SECURITY_HEADERS);

    const api = await test.app.inject({ method: 'POST', url: '/api/agents/x/message', payload, headers });
    expect(api.statusCode).toBe(413);
    expect(api.json()).toMatchObject({ code: 'AOS_PAYLOAD_TOO_LARGE', error: expect.any(String) });

    const openai = await test.app.inject({ method: 'POST', url: '/v1/chat/completions', payload, headers });
    expect(openai.statusCode).toBe(413);
    expect(openai.json().error).toMatchObject({ type: 'invalid_request_error', code: 'AOS_PAYLOAD_TOO_LARGE' });
  });

  it('answers 400 on malformed JSON', async () => {
    const response = await test.app.inject({
      method: 'POST',
      url: '/databases/all/migrate',
      payload: '{"oops":',
      headers: { 'content-type': 'application/json' },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'AOS_BAD_REQUEST', detail: expect.any(String) });
  });

  it('serves health, info and config in the Agno shapes', async () => {
    const health = await test.app.inject({ url: '/health' });
    expect(health.json()).toEqual({ status: 'ok', instantiated_at: expect.stringMatching(/Z$/) });
    const info = (await test.app.inject({ url: '/info' })).json();
    expect(info).toMatchObject({
      os_id: 'agentos',
      auth_mode: 'none',
      agent_count: 0,
      team_count: 0,
      workflow_count: 0,
    });
    const config = (await test.app.inject({ url: '/config' })).json();
    expect(config).toMatchObject({ os_id: 'agentos', databases: ['default'], agents: [], interfaces: [] });
  });

  it('serves /api/health with db status, and OpenAPI with Swagger UI', async () => {
    const health = await test.app.inject({ url: '/api/health' });
    expect(health.statusCode).toBe(200);
    expect(health.json()).toMatchObject({
      status: 'healthy',
      workers: 1,
      services: { db: { status: 'healthy', responseTime: expect.any(Number) } },
      timestamp: expect.any(Number),
    });
    const openapi = (await test.app.inject({ url: '/openapi.json' })).json();
    expect(openapi.openapi).toBe('3.0.3');
    expect(Object.keys(openapi.paths)).toEqual(
      expect.arrayContaining(['/health', '/config', '/api/health', '/agents/{agent_id}']),
    );
    const page = await test.app.inject({ url: '/docs' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.body).toContain('swagger-ui-bundle.js');
    const bundle = await test.app.inject({ url: '/docs/static/swagger-ui-bundle.js' });
    expect(bundle.statusCode).toBe(200);
    expect(bundle.body.length).toBeGreaterThan(100_000);
    expect((await test.app.inject({ url: '/docs/static/init.js' })).body).toContain("url: '/openapi.json'");
    expect((await test.app.inject({ url: '/docs/static/package.json' })).statusCode).toBe(404);
    expect((await test.app.inject({ url: '/docs/static/..%2Fpackage.json' })).statusCode).toBe(404);
  });

  it('migrates over HTTP idempotently', async () => {
    const first = await test.app.inject({ method: 'POST', url: '/databases/all/migrate' });
    expect(first.json()).toMatchObject({ applied: [] });
    const unknown = await test.app.inject({ method: 'POST', url: '/databases/other/migrate' });
    expect(unknown.statusCode).toBe(404);
  });
});

describe('/api/health when the database is gone', () => {
  it('answers 503 degraded with the agtOS error fields', async () => {
    const test = await buildTestApp();
    await test.services.store.close();
    const response = await test.app.inject({ url: '/api/health' });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toMatchObject({
      status: 'degraded',
      error: 'Health check failed',
      services: { db: { status: 'unhealthy' } },
    });
    await test.app.close();
  });
});

describe('catalog', () => {
  it('lists and gets configured agents, teams and workflows with pagination', async () => {
    const test = await buildTestApp({
      agents: [{ id: 'a1', name: 'One', tools: ['calculator'] }, { id: 'a2' }],
      teams: [{ id: 't1', members: ['a1', 'a2'] }],
      workflows: [{ id: 'w1', steps: [{ name: 's', agent: 'a1' }] }],
    });
    const agents = (await test.app.inject({ url: '/agents?limit=1&page=2' })).json();
    expect(agents).toEqual({
      agents: [expect.objectContaining({ id: 'a2', name: 'a2', model: 'local:default' })],
      meta: { page: 2, limit: 1, total_count: 2, total_pages: 2 },
    });
    expect((await test.app.inject({ url: '/agents/a1' })).json()).toMatchObject({ tools: ['calculator'] });
    expect((await test.app.inject({ url: '/teams/t1' })).json()).toMatchObject({
      members: [
        { id: 'a1', name: 'One' },
        { id: 'a2', name: 'a2' },
      ],
      mode: 'coordinate',
    });
    expect((await test.app.inject({ url: '/workflows' })).json().workflows).toHaveLength(1);
    await test.close();
  });
});
