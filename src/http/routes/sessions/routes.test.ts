import { describe, expect, it, vi } from 'vitest';
import { useTestApp } from '../../../../test/helpers.js';

const CONFIG = { agents: [{ id: 'assistant', name: 'Assistant', model: 'local:default' }] };

describe('sessions routes (dev mode, local model)', () => {
  const test = useTestApp(CONFIG, { clearEachTest: true });
  const inject = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown) =>
    test.app.inject({ method, url, ...(payload === undefined ? {} : { payload: payload as object }) });
  const run = async (message: string, sessionId: string) => {
    const response = await inject('POST', '/agents/assistant/runs', { message, session_id: sessionId });
    expect(response.statusCode).toBe(200);
    return response.json();
  };

  it('creates a session: 201 detail, 409 on a duplicate id, 422 on bad input, 400 on an unknown agent', async () => {
    const created = await inject('POST', '/sessions', {
      session_id: 'thread-1',
      session_name: 'First thread',
      session_state: { step: 1 },
      metadata: { source: 'test' },
      user_id: 'alice',
      agent_id: 'assistant',
    });
    expect(created.statusCode).toBe(201);
    const body = created.json();
    expect(body).toEqual({
      session_id: 'thread-1',
      session_name: 'First thread',
      session_type: 'agent',
      agent_id: 'assistant',
      user_id: 'alice',
      session_state: { step: 1 },
      metadata: { source: 'test' },
      created_at: expect.any(String),
      updated_at: expect.any(String),
      runs_count: 0,
      chat_history: [],
    });
    expect(new Date(body.created_at).toISOString()).toBe(body.created_at);

    const generated = await inject('POST', '/sessions', { agent_id: 'assistant' });
    expect(generated.statusCode).toBe(201);
    expect(generated.json()).toMatchObject({
      session_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      session_name: null,
    });

    const duplicate = await inject('POST', '/sessions', { session_id: 'thread-1', agent_id: 'assistant' });
    expect(duplicate.statusCode).toBe(409);
    expect(duplicate.json()).toMatchObject({ code: 'AOS_CONFLICT', detail: expect.any(String) });

    const badId = await inject('POST', '/sessions', { session_id: '../etc/passwd', agent_id: 'assistant' });
    expect(badId.statusCode).toBe(422);
    expect(badId.json().detail[0].loc).toEqual(['body', 'session_id']);

    const noComponent = await inject('POST', '/sessions', { session_name: 'orphan' });
    expect(noComponent.statusCode).toBe(422);
    const twoComponents = await inject('POST', '/sessions', { agent_id: 'assistant', team_id: 'crew' });
    expect(twoComponents.statusCode).toBe(422);

    const unknownAgent = await inject('POST', '/sessions', { agent_id: 'nobody' });
    expect(unknownAgent.statusCode).toBe(400);
    expect(unknownAgent.json()).toMatchObject({ detail: 'Unknown agent "nobody"' });
    const unknownTeam = await inject('POST', '/sessions', { team_id: 'crew' });
    expect(unknownTeam.statusCode).toBe(400);
  });

  it('lists sessions with filters, pagination and both sort orders', async () => {
    const { sessions } = test.services.store;
    for (const [index, sessionId] of ['s-a', 's-b', 's-c', 's-d', 's-e'].entries()) {
      await sessions.create({
        sessionId,
        sessionType: 'agent',
        componentId: 'assistant',
        userId: index % 2 === 0 ? 'alice' : 'bob',
      });
      // Distinct update times, so the order is the creation order.
      await new Promise((resolve) => setTimeout(resolve, 3));
    }
    await sessions.create({ sessionId: 't-1', sessionType: 'team', componentId: 'crew' });

    const all = await inject('GET', '/sessions');
    expect(all.statusCode).toBe(200);
    expect(all.json().meta).toEqual({ page: 1, limit: 20, total_count: 6, total_pages: 1 });
    expect(all.json().sessions[0]).toMatchObject({ session_id: 't-1', session_type: 'team', team_id: 'crew' });
    expect(all.json().sessions[0]).not.toHaveProperty('agent_id');

    const ids = async (query: string) =>
      (await inject('GET', `/sessions?${query}`))
        .json()
        .sessions.map((item: { session_id: string }) => item.session_id);
    expect(await ids('type=agent')).toEqual(['s-e', 's-d', 's-c', 's-b', 's-a']);
    expect(await ids('agent_id=assistant&user_id=alice')).toEqual(['s-e', 's-c', 's-a']);
    expect(await ids('type=team&component_id=crew')).toEqual(['t-1']);
    expect(await ids('component_id=nobody')).toEqual([]);
    expect(await ids('type=agent&limit=2&page=2')).toEqual(['s-c', 's-b']);
    expect(await ids('type=agent&limit=2&page=3')).toEqual(['s-a']);
    expect(await ids('type=agent&limit=2&page=4')).toEqual([]);
    expect(await ids('type=agent&sort_order=asc')).toEqual(['s-a', 's-b', 's-c', 's-d', 's-e']);
    expect(await ids('type=agent&sort_order=asc&limit=2&page=1')).toEqual(['s-a', 's-b']);
    expect(await ids('type=agent&sort_order=asc&limit=2&page=2')).toEqual(['s-c', 's-d']);
    expect(await ids('type=agent&sort_order=asc&limit=2&page=3')).toEqual(['s-e']);
    expect(await ids('type=agent&sort_order=asc&limit=3&page=2')).toEqual(['s-d', 's-e']);

    const paged = (await inject('GET', '/sessions?type=agent&limit=2&page=2')).json();
    expect(paged.meta).toEqual({ page: 2, limit: 2, total_count: 5, total_pages: 3 });

    for (const query of ['limit=1001', 'page=0', 'type=robot', 'sort_order=up', 'agent_id=assistant&type=team']) {
      expect((await inject('GET', `/sessions?${query}`)).statusCode).toBe(422);
    }
  });

  it('returns the detail with the chat history of its runs', async () => {
    const first = await run('Hello there', 'chat-1');
    const second = await run('How are you?', 'chat-1');
    const response = await inject('GET', '/sessions/chat-1');
    expect(response.statusCode).toBe(200);
    const detail = response.json();
    expect(detail).toMatchObject({ session_id: 'chat-1', session_type: 'agent', agent_id: 'assistant', runs_count: 2 });
    const conversation = detail.chat_history
      .filter((message: { role: string }) => message.role === 'user' || message.role === 'assistant')
      .map((message: { role: string; content: string }) => [message.role, message.content]);
    expect(conversation).toEqual([
      ['user', 'Hello there'],
      ['assistant', first.content],
      ['user', 'How are you?'],
      ['assistant', second.content],
    ]);

    const missing = await inject('GET', '/sessions/nope');
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ detail: 'Session not found', code: 'AOS_SESSION_NOT_FOUND' });
    expect((await inject('GET', `/sessions/${encodeURIComponent('bad id!')}`)).statusCode).toBe(422);
  });

  it("hides a session from a user_id that is not its user's", async () => {
    await inject('POST', '/sessions', { session_id: 'mine', agent_id: 'assistant', user_id: 'alice' });
    expect((await inject('GET', '/sessions/mine?user_id=alice')).statusCode).toBe(200);
    expect((await inject('GET', '/sessions/mine?user_id=bob')).statusCode).toBe(404);
    expect((await inject('GET', '/sessions/mine/runs?user_id=bob')).statusCode).toBe(404);
  });

  it("lists a session's runs oldest first and gets one run of it", async () => {
    const first = await run('one', 'runs-1');
    const second = await run('two', 'runs-1');
    const other = await run('elsewhere', 'runs-2');

    const listed = await inject('GET', '/sessions/runs-1/runs');
    expect(listed.statusCode).toBe(200);
    expect(listed.json().runs.map((item: { run_id: string }) => item.run_id)).toEqual([first.run_id, second.run_id]);
    expect(listed.json().runs[0]).toMatchObject({
      session_id: 'runs-1',
      agent_id: 'assistant',
      agent_name: 'Assistant',
      status: 'completed',
    });
    expect(listed.json().meta).toEqual({ page: 1, limit: 20, total_count: 2, total_pages: 1 });
    const page = (await inject('GET', '/sessions/runs-1/runs?limit=1&page=2')).json();
    expect(page.runs.map((item: { run_id: string }) => item.run_id)).toEqual([second.run_id]);

    const one = await inject('GET', `/sessions/runs-1/runs/${first.run_id}`);
    expect(one.statusCode).toBe(200);
    expect(one.json()).toMatchObject({ run_id: first.run_id, content: first.content });

    const foreign = await inject('GET', `/sessions/runs-1/runs/${other.run_id}`);
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json()).toMatchObject({ detail: 'Run not found' });
    expect((await inject('GET', '/sessions/nope/runs')).statusCode).toBe(404);
    expect((await inject('GET', `/sessions/nope/runs/${first.run_id}`)).statusCode).toBe(404);
  });

  it('renames and patches a session', async () => {
    await inject('POST', '/sessions', { session_id: 'edit-me', agent_id: 'assistant', metadata: { a: 1 } });
    const renamed = await inject('POST', '/sessions/edit-me/rename', { session_name: 'Renamed' });
    expect(renamed.statusCode).toBe(200);
    expect(renamed.json()).toMatchObject({ session_id: 'edit-me', session_name: 'Renamed', metadata: { a: 1 } });
    expect((await inject('POST', '/sessions/edit-me/rename', {})).statusCode).toBe(422);
    expect((await inject('POST', '/sessions/nope/rename', { session_name: 'x' })).statusCode).toBe(404);

    const patched = await inject('PATCH', '/sessions/edit-me', { session_state: { cart: ['apple'] }, metadata: {} });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ session_name: 'Renamed', session_state: { cart: ['apple'] }, metadata: {} });
    expect(Date.parse(patched.json().updated_at)).toBeGreaterThanOrEqual(Date.parse(renamed.json().updated_at));
    const named = await inject('PATCH', '/sessions/edit-me', { session_name: 'Again' });
    expect(named.json()).toMatchObject({ session_name: 'Again', session_state: { cart: ['apple'] } });
    expect((await inject('PATCH', '/sessions/nope', { session_name: 'x' })).statusCode).toBe(404);
  });

  it('deletes a session with its runs', async () => {
    const done = await run('remember me', 'doomed');
    const deleted = await inject('DELETE', '/sessions/doomed');
    expect(deleted.statusCode).toBe(204);
    expect(deleted.body).toBe('');
    expect((await inject('GET', '/sessions/doomed')).statusCode).toBe(404);
    expect(await test.services.store.runs.get('default', done.run_id)).toBeNull();
    expect((await inject('GET', `/agents/assistant/runs/${done.run_id}`)).statusCode).toBe(404);
    expect((await inject('DELETE', '/sessions/doomed')).statusCode).toBe(404);
  });

  it('cancels unfinished runs before deleting their session', async () => {
    const { store } = test.services;
    await store.sessions.create({ sessionId: 'busy', sessionType: 'agent', componentId: 'assistant' });
    await store.runs.create({
      runId: 'run-elsewhere',
      sessionId: 'busy',
      componentType: 'agent',
      componentId: 'assistant',
      status: 'running',
      owner: 'other-host:1:abcd',
    });
    await store.runs.create({ runId: 'run-done', sessionId: 'busy', componentType: 'agent', componentId: 'assistant' });
    await store.runs.update('default', 'run-done', { status: 'completed' });
    const cancel = vi.spyOn(test.services.runs, 'cancel');
    try {
      expect((await inject('DELETE', '/sessions/busy')).statusCode).toBe(204);
      expect(cancel).toHaveBeenCalledTimes(1);
      expect(cancel).toHaveBeenCalledWith('default', 'run-elsewhere');
    } finally {
      cancel.mockRestore();
    }
    expect(await store.runs.get('default', 'run-elsewhere')).toBeNull();
  });

  it('deletes several sessions at once, skipping unknown ids and ignoring session_types', async () => {
    for (const sessionId of ['bulk-1', 'bulk-2', 'keep'])
      await inject('POST', '/sessions', { session_id: sessionId, agent_id: 'assistant' });
    const response = await inject('DELETE', '/sessions', {
      session_ids: ['bulk-1', 'bulk-2', 'never-existed'],
      session_types: ['agent', 'agent', 'agent'],
    });
    expect(response.statusCode).toBe(204);
    const left = (await inject('GET', '/sessions')).json();
    expect(left.sessions.map((item: { session_id: string }) => item.session_id)).toEqual(['keep']);
    expect((await inject('DELETE', '/sessions', { session_ids: [] })).statusCode).toBe(422);
    expect((await inject('DELETE', '/sessions', { session_ids: ['bad id!'] })).statusCode).toBe(422);
  });

  it('keeps sessions of another workspace out of sight', async () => {
    await test.services.store.sessions.create({
      sessionId: 'foreign',
      workspaceId: 'other',
      sessionType: 'agent',
      componentId: 'assistant',
    });
    await inject('POST', '/sessions', { session_id: 'local', agent_id: 'assistant' });
    expect((await inject('GET', '/sessions/foreign')).statusCode).toBe(404);
    expect((await inject('GET', '/sessions/foreign/runs')).statusCode).toBe(404);
    expect((await inject('PATCH', '/sessions/foreign', { session_name: 'mine now' })).statusCode).toBe(404);
    expect((await inject('DELETE', '/sessions/foreign')).statusCode).toBe(404);
    await inject('DELETE', '/sessions', { session_ids: ['foreign'] });
    const listed = (await inject('GET', '/sessions')).json();
    expect(listed.sessions.map((item: { session_id: string }) => item.session_id)).toEqual(['local']);
    expect(listed.meta.total_count).toBe(1);
    expect(await test.services.store.sessions.get('other', 'foreign')).not.toBeNull();
  });
});

describe('sessions routes: scopes', () => {
  const test = useTestApp({
    ...CONFIG,
    auth: { api_keys: [{ name: 'reader', key: 'reader-key-0123456789', scopes: ['sessions:read'] }] },
  });

  it('needs sessions:write to create and sessions:delete to delete', async () => {
    const headers = { authorization: 'Bearer reader-key-0123456789' };
    expect((await test.app.inject({ url: '/sessions', headers })).statusCode).toBe(200);
    expect((await test.app.inject({ url: '/sessions' })).statusCode).toBe(401);
    const create = await test.app.inject({
      method: 'POST',
      url: '/sessions',
      headers,
      payload: { agent_id: 'assistant' },
    });
    expect(create.statusCode).toBe(403);
    expect(create.json().detail).toContain('sessions:write');
    const remove = await test.app.inject({ method: 'DELETE', url: '/sessions/x', headers });
    expect(remove.statusCode).toBe(403);
  });
});
