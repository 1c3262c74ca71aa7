import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestServer } from '../../test/helpers.js';
import type { RunningServer } from '../main.js';

const SECRET = 'user-isolation-test-secret-0123456789abcdef';
const USER_SCOPES = 'agents:run agents:read sessions:read sessions:write sessions:delete';
/** A non-admin API key: it has no user id, so isolation does not pin it. */
const SERVICE_KEY = 'aos_user_isolation_service_key_0123456789';
const CONFIG = {
  agents: [{ id: 'assistant', name: 'Assistant', model: 'local:default' }],
  auth: {
    api_keys: [{ name: 'service', key: SERVICE_KEY, scopes: USER_SCOPES.split(' ') }],
  },
};

function sign(sub: string, scopes: string): Promise<string> {
  return new SignJWT({ sub, scopes })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode(SECRET));
}

// biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field
type Json = any;

function client(server: () => RunningServer) {
  return async (
    token: string,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: Json }> => {
    const response = await fetch(`${server().url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text === '' ? null : JSON.parse(text) };
  };
}

describe('user isolation (auth.user_isolation: true)', () => {
  let server: RunningServer;
  let alice: string;
  let bob: string;
  let admin: string;
  const call = client(() => server);

  beforeAll(async () => {
    server = await startTestServer({
      env: { AGENTOS_JWT_SECRET: SECRET },
      config: { ...CONFIG, auth: { ...CONFIG.auth, user_isolation: true } },
    });
    [alice, bob, admin] = await Promise.all([
      sign('alice', USER_SCOPES),
      sign('bob', USER_SCOPES),
      sign('root', 'admin'),
    ]);
  });
  afterAll(async () => {
    await server?.close();
  });

  it('pins a non-admin caller to its sub and hides other users objects behind 404', async () => {
    // Alice's run names bob as its user: it is recorded as alice's, in a session of alice.
    const run = await call(alice, 'POST', '/agents/assistant/runs', {
      message: 'hello from alice',
      session_id: 'alice-s1',
      user_id: 'bob',
    });
    expect(run.status).toBe(200);
    expect(run.body).toMatchObject({ session_id: 'alice-s1', user_id: 'alice', status: 'completed' });
    const aliceRun: string = run.body.run_id;
    const stored = await server.services.store.runs.get('default', aliceRun);
    expect(stored?.userId).toBe('alice');
    expect((await server.services.store.sessions.get('default', 'alice-s1'))?.userId).toBe('alice');

    // A session created by alice for bob is alice's too.
    const created = await call(alice, 'POST', '/sessions', {
      session_id: 'alice-s2',
      user_id: 'bob',
      agent_id: 'assistant',
    });
    expect(created.status).toBe(201);
    expect(created.body.user_id).toBe('alice');

    const bobRun = await call(bob, 'POST', '/agents/assistant/runs', {
      message: 'hello from bob',
      session_id: 'bob-s1',
    });
    expect(bobRun.status).toBe(200);
    expect(bobRun.body.user_id).toBe('bob');

    // Lists: bob sees only his own, even when he asks for alice's.
    for (const path of ['/sessions', '/sessions?user_id=alice', '/sessions?sort_order=asc']) {
      const list = await call(bob, 'GET', path);
      expect(list.status).toBe(200);
      expect(list.body.sessions.map((session: Json) => session.session_id)).toEqual(['bob-s1']);
      expect(list.body.meta.total_count).toBe(1);
    }
    const bobRuns = await call(bob, 'GET', '/agents/assistant/runs');
    expect(bobRuns.status).toBe(200);
    expect(bobRuns.body.runs.map((entry: Json) => entry.run_id)).toEqual([bobRun.body.run_id]);
    const filtered = await call(bob, 'GET', '/agents/assistant/runs?session_id=alice-s1');
    expect(filtered.body.runs).toEqual([]);

    // Every one of alice's objects is missing for bob.
    const hidden: [string, string, unknown?][] = [
      ['GET', '/sessions/alice-s1'],
      ['GET', '/sessions/alice-s1?user_id=alice'],
      ['PATCH', '/sessions/alice-s1', { session_name: 'taken by bob' }],
      ['POST', '/sessions/alice-s1/rename', { session_name: 'taken by bob' }],
      ['GET', '/sessions/alice-s1/runs'],
      ['GET', `/sessions/alice-s1/runs/${aliceRun}`],
      ['DELETE', '/sessions/alice-s1'],
      ['DELETE', '/sessions/alice-s2'],
      ['GET', `/agents/assistant/runs/${aliceRun}`],
      ['GET', `/agents/assistant/runs/${aliceRun}?session_id=alice-s1`],
      ['POST', `/agents/assistant/runs/${aliceRun}/cancel`],
      ['POST', `/agents/assistant/runs/${aliceRun}/resume`, { last_event_index: -1, session_id: 'alice-s1' }],
      ['GET', `/agents/assistant/runs/${aliceRun}/resume`],
    ];
    for (const [method, path, body] of hidden) {
      const response = await call(bob, method, path, body);
      expect({ method, path, status: response.status }).toEqual({ method, path, status: 404 });
      expect(JSON.stringify(response.body)).not.toContain('hello from alice');
    }

    // Bob cannot attach a run to alice's session.
    const attach = await call(bob, 'POST', '/agents/assistant/runs', { message: 'mine now', session_id: 'alice-s1' });
    expect(attach.status).toBe(404);

    // Bulk delete skips alice's sessions and deletes bob's.
    const bulk = await call(bob, 'DELETE', '/sessions', { session_ids: ['alice-s1', 'alice-s2', 'bob-s1'] });
    expect(bulk.status).toBe(204);
    expect(await server.services.store.sessions.get('default', 'bob-s1')).toBeNull();

    // Nothing of alice's changed; she still sees all of it.
    const mine = await call(alice, 'GET', '/sessions/alice-s1');
    expect(mine.status).toBe(200);
    expect(mine.body).toMatchObject({ user_id: 'alice', session_name: null, runs_count: 1 });
    expect((await call(alice, 'GET', '/sessions/alice-s2')).status).toBe(200);
    expect((await call(alice, 'GET', `/sessions/alice-s1/runs/${aliceRun}`)).status).toBe(200);
    expect((await call(alice, 'GET', `/agents/assistant/runs/${aliceRun}`)).status).toBe(200);
    const aliceList = await call(alice, 'GET', '/sessions');
    expect(aliceList.body.sessions.map((session: Json) => session.session_id).sort()).toEqual(['alice-s1', 'alice-s2']);
    const renamed = await call(alice, 'POST', '/sessions/alice-s2/rename', { session_name: 'second' });
    expect(renamed.status).toBe(200);
    expect(renamed.body.session_name).toBe('second');
  });

  it('lets an admin see every user and keeps the user_id it names', async () => {
    await call(alice, 'POST', '/agents/assistant/runs', { message: 'a', session_id: 'admin-view-alice' });
    await call(bob, 'POST', '/agents/assistant/runs', { message: 'b', session_id: 'admin-view-bob' });
    const sessions = await call(admin, 'GET', '/sessions?limit=100');
    expect(sessions.status).toBe(200);
    const ids = sessions.body.sessions.map((session: Json) => session.session_id);
    expect(ids).toEqual(expect.arrayContaining(['admin-view-alice', 'admin-view-bob']));
    const runs = await call(admin, 'GET', '/agents/assistant/runs?limit=100');
    const users = new Set(runs.body.runs.map((entry: Json) => entry.user_id));
    expect(users).toEqual(new Set(['alice', 'bob']));
    const bobSession = await call(admin, 'GET', '/sessions/admin-view-bob');
    expect(bobSession.status).toBe(200);
    expect(bobSession.body.user_id).toBe('bob');

    const forCarol = await call(admin, 'POST', '/agents/assistant/runs', { message: 'c', user_id: 'carol' });
    expect(forCarol.status).toBe(200);
    expect(forCarol.body.user_id).toBe('carol');
    expect((await call(admin, 'GET', `/agents/assistant/runs/${forCarol.body.run_id}`)).status).toBe(200);
  });

  it('hides sessions without a user from a pinned caller, and does not pin API keys', async () => {
    const shared = await call(admin, 'POST', '/sessions', { session_id: 'no-user', agent_id: 'assistant' });
    expect(shared.status).toBe(201);
    expect(shared.body.user_id).toBeNull();
    expect((await call(bob, 'GET', '/sessions/no-user')).status).toBe(404);
    const attach = await call(bob, 'POST', '/agents/assistant/runs', { message: 'x', session_id: 'no-user' });
    expect(attach.status).toBe(404);

    // An API key has no user id: isolation does not apply, it acts as before.
    await call(alice, 'POST', '/agents/assistant/runs', { message: 'key check', session_id: 'alice-key-check' });
    expect((await call(SERVICE_KEY, 'GET', '/sessions/alice-key-check')).status).toBe(200);
    const keyRun = await call(SERVICE_KEY, 'POST', '/agents/assistant/runs', { message: 'k', user_id: 'dave' });
    expect(keyRun.body.user_id).toBe('dave');
  });

  it('pins WebSocket runs too', async () => {
    const socket = new WebSocket(`${server.url.replace('http', 'ws')}/ws/agents/assistant?token=${bob}`);
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    const frames: Json[] = [];
    const next = (until: (frame: Json) => boolean) =>
      new Promise<Json>((resolve) => {
        const onMessage = (data: WebSocket.RawData) => {
          const frame = JSON.parse(String(data));
          frames.push(frame);
          if (until(frame)) {
            socket.off('message', onMessage);
            resolve(frame);
          }
        };
        socket.on('message', onMessage);
      });
    await call(alice, 'POST', '/agents/assistant/runs', { message: 'ws check', session_id: 'alice-ws' });
    const refused = next((frame) => frame.event === 'error' || frame.event === 'RunCompleted');
    socket.send(JSON.stringify({ message: 'let me in', session_id: 'alice-ws' }));
    expect(await refused).toEqual({ event: 'error', error: 'Session not found', code: 'AOS_NOT_FOUND' });

    const completed = next((frame) => frame.event === 'RunCompleted');
    socket.send(JSON.stringify({ message: 'as carol', session_id: 'bob-ws', user_id: 'carol' }));
    const runId = (await completed).run_id;
    socket.close();
    expect((await server.services.store.runs.get('default', runId))?.userId).toBe('bob');
    expect((await server.services.store.sessions.get('default', 'alice-ws'))?.userId).toBe('alice');
  });
});

describe('user isolation off (the default)', () => {
  let server: RunningServer;
  const call = client(() => server);

  beforeAll(async () => {
    server = await startTestServer({ env: { AGENTOS_JWT_SECRET: SECRET }, config: CONFIG });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('lets any caller with the scope read another user session, as before', async () => {
    const [alice, bob] = await Promise.all([sign('alice', USER_SCOPES), sign('bob', USER_SCOPES)]);
    const run = await call(alice, 'POST', '/agents/assistant/runs', {
      message: 'hello',
      session_id: 'alice-open',
      user_id: 'someone',
    });
    expect(run.status).toBe(200);
    expect(run.body.user_id).toBe('someone');
    const read = await call(bob, 'GET', '/sessions/alice-open');
    expect(read.status).toBe(200);
    expect(read.body.user_id).toBe('someone');
    expect((await call(bob, 'GET', `/agents/assistant/runs/${run.body.run_id}`)).status).toBe(200);
    const list = await call(bob, 'GET', '/sessions');
    expect(list.body.sessions.map((session: Json) => session.session_id)).toContain('alice-open');
  });
});
