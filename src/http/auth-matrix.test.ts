/**
 * The auth matrix (security issue): every route the app registered, taken from `app.routeAccess` rather
 * than a hand list, is called without credentials, with a wrong token, with a key lacking its scope,
 * with a scope for another resource id, and from another workspace; then one tenant's data is looked
 * for from another workspace.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer } from '../../test/helpers.js';
import { generateApiKey } from '../auth/index.js';
import type { RunningServer } from '../main.js';
import type { RegisteredRoute } from './plugins/access-control.js';

const ENV_KEY = 'aos_matrix_env_admin_key_0123456789';
const NO_SCOPE_KEY = 'aos_matrix_no_scope_key_0123456789';
const BETA_KEY = 'aos_matrix_beta_only_key_0123456789';

/** Minimal valid bodies for the routes that need one; others get `{}` (a 4xx after auth is fine). */
const BODIES: Record<string, unknown> = {
  'POST /agents/:agent_id/runs': { message: 'hello' },
  'POST /sessions': { agent_id: 'alpha' },
  'POST /sessions/:session_id/rename': { session_name: 'renamed' },
  'PATCH /sessions/:session_id': { session_name: 'renamed' },
  'DELETE /sessions': { session_ids: ['missing-session'] },
};

// biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field
type Body = any;

interface Call {
  status: number;
  code: string | undefined;
  body: Body;
}

/** The error code in any surface's body: `{code}` (root, /api) or `{error: {code}}` (/v1). */
function codeOf(body: Body): string | undefined {
  if (body === null || typeof body !== 'object') return undefined;
  return body.code ?? body.error?.code;
}

/** A concrete path for a route: `:agent_id` (and any scope param) ← `id`, other params ← valid ids. */
function concretePath(route: RegisteredRoute, id = 'alpha'): string {
  // `::` is Fastify's escaped literal colon (A2A's `message:send`), not a param.
  return route.url
    .replace(/(?<!:):([A-Za-z0-9_]+)(\([^)]*\))?/g, (_match, name: string) =>
      name === 'agent_id' || name === route.access.scopeParam ? id : `${name.replace(/_id$/, '')}-1`,
    )
    .replace(/::/g, ':')
    .replace(/\*$/, 'x');
}

describe('auth matrix over every registered route', () => {
  let server: RunningServer;
  let routes: RegisteredRoute[];
  let w2Key: string;
  const scratchKeys = new Map<string, string>();

  async function call(
    route: RegisteredRoute,
    headers: Record<string, string>,
    path = concretePath(route),
  ): Promise<Call> {
    const key = `${route.method} ${route.url}`;
    const hasBody = !['GET', 'HEAD', 'OPTIONS'].includes(route.method);
    const response = await fetch(`${server.url}${path}`, {
      method: route.method,
      headers: { ...headers, ...(hasBody ? { 'content-type': 'application/json' } : {}) },
      ...(hasBody ? { body: JSON.stringify(BODIES[key] ?? {}) } : {}),
    });
    const text = await response.text();
    let body: Body = text;
    try {
      body = JSON.parse(text);
    } catch {
      // SSE, HTML: keep the text
    }
    return { status: response.status, code: codeOf(body), body };
  }

  const bearer = (token: string, workspace?: string) => ({
    authorization: `Bearer ${token}`,
    ...(workspace === undefined ? {} : { 'x-workspace-id': workspace }),
  });

  /** A stored key with exactly these scopes, in `workspaceId`. */
  async function storedKey(scopes: string[], workspaceId: string): Promise<string> {
    const key = generateApiKey();
    await server.services.store.apiKeys.create({ ...key, name: `k-${key.id}`, scopes, workspaceId });
    return key.plaintext;
  }

  beforeAll(async () => {
    server = await startTestServer({
      env: { AGENTOS_API_KEY: ENV_KEY },
      config: {
        agents: [
          { id: 'alpha', model: 'local:default' },
          { id: 'beta', model: 'local:default' },
        ],
        auth: {
          api_keys: [
            { name: 'no-scope', key: NO_SCOPE_KEY, scopes: [] },
            { name: 'beta-only', key: BETA_KEY, scopes: ['agents:beta:read', 'agents:beta:run'] },
          ],
        },
      },
    });
    routes = server.app.routeAccess;
    // Every scope any route declares, admin excepted: this key may do everything, but only in w2.
    const everyScope = [
      ...new Set(
        routes.flatMap((route) => (route.access.scope && route.access.scope !== 'admin' ? [route.access.scope] : [])),
      ),
    ];
    w2Key = await storedKey(everyScope, 'w2');
    for (const route of routes) {
      const scope = route.access.scope;
      if (scope && scope !== 'admin' && !scratchKeys.has(scope))
        scratchKeys.set(scope, await storedKey([scope], 'scratch'));
    }
  });
  afterAll(async () => {
    await server.close();
  });

  it('finds the routes in the registry, HEAD twins left out', () => {
    expect(routes.length).toBeGreaterThanOrEqual(20);
    expect(routes.some((route) => route.method === 'HEAD')).toBe(false);
    const keys = routes.map((route) => `${route.method} ${route.url}`);
    expect(new Set(keys).size).toBe(keys.length);
    for (const expected of ['GET /health', 'GET /api/health', 'GET /config', 'POST /agents/:agent_id/runs']) {
      expect(keys).toContain(expected);
    }
  });

  it('answers 401 without credentials or with a wrong token, unless the route is public', async () => {
    const forgedJwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4Iiwic2NvcGVzIjpbImFkbWluIl19.c2lnbmF0dXJl';
    for (const route of routes) {
      const where = `${route.method} ${route.url}`;
      const anonymous = await call(route, {});
      const wrong = await call(route, bearer('aos_not_a_real_key'));
      const forged = await call(route, bearer(forgedJwt));
      if (route.access.public) {
        // A public route may still answer 404 (a console file that does not exist) or 503 (console not
        // built); what it must never do is ask for credentials.
        expect([401, 403], where).not.toContain(anonymous.status);
        continue;
      }
      expect([anonymous.status, anonymous.code], where).toEqual([401, 'AOS_AUTH_REQUIRED']);
      expect([wrong.status, wrong.code], where).toEqual([401, 'AOS_AUTH_INVALID']);
      expect([forged.status, forged.code], where).toEqual([401, 'AOS_AUTH_INVALID']);
      if (route.access.tokenQuery) {
        const query = await call(route, {}, `${concretePath(route)}?token=aos_not_a_real_key`);
        expect(query.status, `${where} ?token=`).toBe(401);
      }
    }
  });

  it('answers 403 to a key without the scope', async () => {
    for (const route of routes) {
      if (route.access.public) continue;
      const result = await call(route, bearer(NO_SCOPE_KEY));
      expect([result.status, result.code], `${route.method} ${route.url}`).toEqual([403, 'AOS_AUTH_FORBIDDEN']);
    }
  });

  it('answers 403 to a scope for another resource id', async () => {
    const perResource = routes.filter((route) => route.access.scopeParam !== undefined && !route.access.public);
    expect(perResource.length).toBeGreaterThan(0);
    for (const route of perResource) {
      const where = `${route.method} ${route.url}`;
      const [resource, action] = (route.access.scope ?? '').split(':');
      const otherIdKey = await storedKey([`${resource}:beta:${action}`], 'default');
      const onAlpha = await call(route, bearer(otherIdKey));
      expect([onAlpha.status, onAlpha.code], where).toEqual([403, 'AOS_AUTH_FORBIDDEN']);
      if (resource === 'agents') {
        const configKey = await call(route, bearer(BETA_KEY));
        expect([configKey.status, configKey.code], `${where} (beta config key)`).toEqual([403, 'AOS_AUTH_FORBIDDEN']);
      }
      // The same key on its own id passes the auth layer (whatever the handler then says).
      const onBeta = await call(route, bearer(otherIdKey), concretePath(route, 'beta'));
      expect([401, 403], `${where} on beta`).not.toContain(onBeta.status);
    }
  });

  it('answers 403 to a principal of another workspace naming this one', async () => {
    for (const route of routes) {
      if (route.access.public) continue;
      const result = await call(route, bearer(w2Key, 'default'));
      expect([result.status, result.code], `${route.method} ${route.url}`).toEqual([
        403,
        'AOS_AUTH_WORKSPACE_FORBIDDEN',
      ]);
    }
  });

  it('lets exactly the declared scope through, with no 5xx', async () => {
    for (const route of routes) {
      const where = `${route.method} ${route.url}`;
      const scope = route.access.scope;
      if (route.access.public || scope === undefined) continue;
      // Admin-only routes are checked with the admin key when they only read.
      const key = scope === 'admin' ? (route.method === 'GET' ? ENV_KEY : undefined) : scratchKeys.get(scope);
      if (key === undefined) continue;
      const result = await call(route, bearer(key));
      expect([401, 403], where).not.toContain(result.status);
      expect(result.status, `${where}: ${JSON.stringify(result.body)}`).toBeLessThan(500);
    }
  });

  it('filters per-resource lists to what the caller may read', async () => {
    const agents = await fetch(`${server.url}/agents`, { headers: bearer(BETA_KEY) });
    expect(agents.status).toBe(200);
    expect(((await agents.json()) as Body).agents.map((agent: { id: string }) => agent.id)).toEqual(['beta']);
  });
});

describe('workspace isolation', () => {
  let server: RunningServer;
  let w2Key: string;
  let w2Admin: string;
  let sessionId: string;
  let runId: string;

  const get = async (path: string, headers: Record<string, string>) => {
    const response = await fetch(`${server.url}${path}`, { headers });
    return { status: response.status, body: (await response.json()) as Body };
  };
  const bearer = (token: string, workspace?: string) => ({
    authorization: `Bearer ${token}`,
    ...(workspace === undefined ? {} : { 'x-workspace-id': workspace }),
  });

  beforeAll(async () => {
    server = await startTestServer({
      env: { AGENTOS_API_KEY: ENV_KEY },
      config: { agents: [{ id: 'alpha', model: 'local:default' }] },
    });
    const scopes = ['sessions:read', 'sessions:write', 'sessions:delete', 'agents:read', 'agents:run'];
    const key = generateApiKey();
    await server.services.store.apiKeys.create({ ...key, name: 'w2', scopes, workspaceId: 'w2' });
    w2Key = key.plaintext;
    const admin = generateApiKey();
    await server.services.store.apiKeys.create({ ...admin, name: 'w2-admin', scopes: ['admin'], workspaceId: 'w2' });
    w2Admin = admin.plaintext;

    const headers = { ...bearer(ENV_KEY), 'content-type': 'application/json' };
    const session = await fetch(`${server.url}/sessions`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ agent_id: 'alpha', session_name: 'default tenant' }),
    });
    expect(session.status).toBe(201);
    sessionId = ((await session.json()) as Body).session_id;
    const run = await fetch(`${server.url}/agents/alpha/runs`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ message: 'secret of the default tenant', session_id: sessionId }),
    });
    expect(run.status).toBe(200);
    runId = ((await run.json()) as Body).run_id;
  });
  afterAll(async () => {
    await server.close();
  });

  it('shows the default tenant its own data', async () => {
    expect((await get('/sessions', bearer(ENV_KEY))).body.meta.total_count).toBe(1);
    expect((await get('/agents/alpha/runs', bearer(ENV_KEY))).body.runs).toHaveLength(1);
    expect((await get(`/sessions/${sessionId}`, bearer(ENV_KEY))).status).toBe(200);
  });

  it('shows another workspace none of it', async () => {
    for (const headers of [bearer(w2Key), bearer(w2Key, 'w2'), bearer(ENV_KEY, 'w2'), bearer(w2Admin)]) {
      const sessions = await get('/sessions', headers);
      expect(sessions.status).toBe(200);
      expect(sessions.body.sessions).toEqual([]);
      expect(sessions.body.meta.total_count).toBe(0);
      const runs = await get('/agents/alpha/runs', headers);
      expect(runs.status).toBe(200);
      expect(runs.body.runs).toEqual([]);
      expect(runs.body.meta.total_count).toBe(0);
      expect((await get(`/sessions/${sessionId}`, headers)).status).toBe(404);
      expect((await get(`/sessions/${sessionId}/runs`, headers)).status).toBe(404);
      expect((await get(`/sessions/${sessionId}/runs/${runId}`, headers)).status).toBe(404);
      expect((await get(`/agents/alpha/runs/${runId}`, headers)).status).toBe(404);
      expect((await get(`/agents/alpha/runs/${runId}?session_id=${sessionId}`, headers)).status).toBe(404);
    }
  });

  it('cannot change or delete another workspace’s objects', async () => {
    const json = { ...bearer(w2Key), 'content-type': 'application/json' };
    const renamed = await fetch(`${server.url}/sessions/${sessionId}/rename`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ session_name: 'stolen' }),
    });
    expect(renamed.status).toBe(404);
    expect(
      (await fetch(`${server.url}/sessions/${sessionId}`, { method: 'DELETE', headers: bearer(w2Key) })).status,
    ).toBe(404);
    const bulk = await fetch(`${server.url}/sessions`, {
      method: 'DELETE',
      headers: json,
      body: JSON.stringify({ session_ids: [sessionId] }),
    });
    expect(bulk.status).toBeLessThan(300);
    const cancel = await fetch(`${server.url}/agents/alpha/runs/${runId}/cancel`, {
      method: 'POST',
      headers: bearer(w2Key),
    });
    expect(cancel.status).toBe(404);
    const still = await get(`/sessions/${sessionId}`, bearer(ENV_KEY));
    expect(still.status).toBe(200);
    expect(still.body.session_name).toBe('default tenant');
  });

  it('lets an admin act in any workspace and refuses everyone else', async () => {
    expect((await get(`/sessions/${sessionId}`, bearer(w2Admin, 'default'))).status).toBe(200);
    const refused = await get('/sessions', bearer(w2Key, 'default'));
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('AOS_AUTH_WORKSPACE_FORBIDDEN');
  });

  it('rejects a malformed X-Workspace-ID', async () => {
    for (const bad of ['../default', 'a b', '-x', 'x'.repeat(200)]) {
      const response = await get('/sessions', bearer(ENV_KEY, bad));
      expect(response.status, bad).toBe(400);
      expect(response.body.code).toBe('AOS_BAD_REQUEST');
    }
  });
});

describe('tenancy on', () => {
  let server: RunningServer;

  beforeAll(async () => {
    server = await startTestServer({ env: { AGENTOS_API_KEY: ENV_KEY }, config: { auth: { tenancy: true } } });
  });
  afterAll(async () => {
    await server.close();
  });

  it('requires X-Workspace-ID on authenticated routes, not on public ones', async () => {
    const missing = await fetch(`${server.url}/sessions`, { headers: { authorization: `Bearer ${ENV_KEY}` } });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as Body).code).toBe('AOS_AUTH_WORKSPACE_REQUIRED');
    const named = await fetch(`${server.url}/sessions`, {
      headers: { authorization: `Bearer ${ENV_KEY}`, 'x-workspace-id': 'default' },
    });
    expect(named.status).toBe(200);
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    // Credentials are checked first: an anonymous caller learns nothing about tenancy.
    expect((await fetch(`${server.url}/sessions`)).status).toBe(401);
  });
});
