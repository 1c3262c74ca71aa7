import { SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestApp } from '../../../../test/helpers.js';

const CONFIG = {
  agents: [
    { id: 'assistant', name: 'Assistant', model: 'local:default', memory: true },
    { id: 'plain', name: 'Plain', model: 'local:default' },
  ],
};

const MEMORY_VIEW = {
  memory_id: expect.any(String),
  memory: expect.any(String),
  topics: expect.any(Array),
  agent_id: null,
  team_id: null,
  user_id: expect.any(String),
  input: null,
  created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/),
  updated_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/),
};

describe('memory routes (dev mode, local model)', () => {
  const test = useTestApp(CONFIG, { clearEachTest: true });
  const inject = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown) =>
    test.app.inject({ method, url, ...(payload === undefined ? {} : { payload: payload as object }) });
  const create = async (memory: string, userId: string, topics?: string[]) => {
    const response = await inject('POST', '/memories', { memory, user_id: userId, ...(topics ? { topics } : {}) });
    expect(response.statusCode).toBe(200);
    return response.json();
  };

  it('creates, reads, lists, updates and deletes memories in Agno shapes', async () => {
    const tea = await create('User likes green tea', 'alice', ['preferences']);
    expect(tea).toEqual({ ...MEMORY_VIEW, memory: 'User likes green tea', topics: ['preferences'], user_id: 'alice' });
    const again = await create('user likes green tea.', 'alice');
    expect(again.memory_id).toBe(tea.memory_id);
    await create('User lives in Lisbon', 'alice', ['location']);
    await create('User lives in Oslo', 'bob', ['location']);

    const fetched = await inject('GET', `/memories/${tea.memory_id}`);
    expect(fetched.json()).toEqual(tea);
    expect((await inject('GET', `/memories/${tea.memory_id}?user_id=bob`)).statusCode).toBe(404);

    const list = await inject('GET', '/memories?user_id=alice&limit=1');
    expect(list.statusCode).toBe(200);
    expect(list.json()).toEqual({
      memories: [expect.objectContaining({ memory: 'User lives in Lisbon' })],
      meta: { page: 1, limit: 1, total_count: 2, total_pages: 2 },
    });
    const byTopic = await inject('GET', '/memories?topics=location,nothing');
    expect(
      byTopic
        .json()
        .memories.map((m: { memory: string }) => m.memory)
        .sort(),
    ).toEqual(['User lives in Lisbon', 'User lives in Oslo']);
    const bySearch = await inject('GET', '/memories?search_content=GREEN&sort_order=asc');
    expect(bySearch.json().meta.total_count).toBe(1);

    const patched = await inject('PATCH', `/memories/${tea.memory_id}`, {
      memory: 'User likes jasmine tea',
      topics: ['preferences', 'drinks'],
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({
      memory_id: tea.memory_id,
      memory: 'User likes jasmine tea',
      topics: ['preferences', 'drinks'],
    });

    const deleted = await inject('DELETE', `/memories/${tea.memory_id}`);
    expect(deleted.statusCode).toBe(204);
    expect(deleted.body).toBe('');
    const gone = await inject('GET', `/memories/${tea.memory_id}`);
    expect(gone.statusCode).toBe(404);
    expect(gone.json()).toMatchObject({ detail: 'Memory not found', code: 'AOS_MEMORY_NOT_FOUND' });

    const rest = (await inject('GET', '/memories')).json().memories.map((m: { memory_id: string }) => m.memory_id);
    const bulk = await inject('DELETE', '/memories', { memory_ids: [...rest, 'unknown'] });
    expect(bulk.statusCode).toBe(204);
    expect((await inject('GET', '/memories')).json().meta.total_count).toBe(0);
  });

  it('answers 422 in the root shape for bad bodies and queries', async () => {
    const empty = await inject('POST', '/memories', { memory: '' });
    expect(empty.statusCode).toBe(422);
    expect(empty.json().detail[0].loc).toEqual(['body', 'memory']);
    expect((await inject('POST', '/memories', { memory: 'x'.repeat(5001) })).statusCode).toBe(422);
    expect((await inject('DELETE', '/memories', { memory_ids: [] })).statusCode).toBe(422);
    expect((await inject('GET', '/memories?limit=0')).statusCode).toBe(422);
    expect((await inject('GET', '/memory')).statusCode).toBe(422);
    expect((await inject('POST', '/optimize-memories', { user_id: 'alice', model: 'nonsense' })).statusCode).toBe(422);
    const unknownProvider = await inject('POST', '/optimize-memories', { user_id: 'alice', model: 'opnai:gpt' });
    expect(unknownProvider.statusCode).toBe(400);
    expect(unknownProvider.json().code).toBe('AOS_MODEL_UNKNOWN');
  });

  it('reports topics and per-user stats', async () => {
    await create('User likes tea', 'alice', ['preferences', 'drinks']);
    await create('User works at a bakery', 'alice', ['work']);
    await create('User plays chess', 'bob', ['hobbies']);
    expect((await inject('GET', '/memory_topics')).json()).toEqual(['drinks', 'hobbies', 'preferences', 'work']);
    expect((await inject('GET', '/memory_topics?user_id=bob')).json()).toEqual(['hobbies']);
    const stats = await inject('GET', '/user_memory_stats?limit=10');
    expect(stats.statusCode).toBe(200);
    const body = stats.json();
    expect(body.meta).toEqual({ page: 1, limit: 10, total_count: 2, total_pages: 1 });
    expect(body.user_memory_stats).toEqual(
      expect.arrayContaining([
        { user_id: 'alice', total_memories: 2, last_memory_updated_at: expect.any(String) },
        { user_id: 'bob', total_memories: 1, last_memory_updated_at: expect.any(String) },
      ]),
    );
  });

  it('optimises with local:default by dropping only near-duplicates, and previews with apply: false', async () => {
    await create('User likes tea', 'alice');
    await create('User likes green tea in the morning', 'alice');
    await create('User lives in Lisbon', 'alice');
    await create('User likes tea', 'bob');
    const preview = await inject('POST', '/optimize-memories', { user_id: 'alice', apply: false });
    expect(preview.statusCode).toBe(200);
    expect(preview.json()).toMatchObject({ memories_before: 3, memories_after: 2, method: 'heuristic' });
    expect((await inject('GET', '/memories?user_id=alice')).json().meta.total_count).toBe(3);

    const applied = (await inject('POST', '/optimize-memories', { user_id: 'alice' })).json();
    expect(applied.memories.map((m: { memory: string }) => m.memory).sort()).toEqual([
      'User likes green tea in the morning',
      'User lives in Lisbon',
    ]);
    expect(applied.tokens_saved).toBe(applied.tokens_before - applied.tokens_after);
    expect(applied.tokens_saved).toBeGreaterThan(0);
    expect(applied.reduction_percentage).toBeGreaterThan(0);
    expect((await inject('GET', '/memories?user_id=alice')).json().meta.total_count).toBe(2);
    expect((await inject('GET', '/memories?user_id=bob')).json().meta.total_count).toBe(1);
  });

  it('writes memories, a session summary and an episode after a run of a memory agent, with events', async () => {
    const streamed = await inject('POST', '/agents/assistant/runs', {
      message: 'Hi! My favourite colour is teal. I live in Lisbon. What should I paint?',
      user_id: 'alice',
      session_id: 'paint-1',
      stream: true,
    });
    expect(streamed.statusCode).toBe(200);
    const events = [...streamed.body.matchAll(/^event: (\w+)$/gm)].map((match) => match[1]);
    const started = events.indexOf('MemoryUpdateStarted');
    expect(started).toBeGreaterThan(events.indexOf('RunContentCompleted'));
    expect(events.slice(started)).toEqual(['MemoryUpdateStarted', 'MemoryUpdateCompleted', 'RunCompleted']);
    const completed = JSON.parse(/event: MemoryUpdateCompleted\ndata: (.*)\n/.exec(streamed.body)?.[1] ?? '{}');
    expect(completed).toMatchObject({ method: 'heuristic', memories_added: 2 });

    const memories = (await inject('GET', '/memories?user_id=alice&sort_order=asc')).json().memories;
    expect(memories.map((m: { memory: string }) => m.memory)).toEqual([
      "User's favourite colour is teal",
      'User lives in Lisbon',
    ]);
    expect(memories[0]).toMatchObject({ agent_id: 'assistant', topics: ['preferences'] });

    const session = (await inject('GET', '/sessions/paint-1')).json();
    expect(session.memory).toEqual({ topics: expect.any(Array), summary: expect.stringContaining('favourite colour') });
    expect(session.memory.topics.length).toBeGreaterThan(0);

    const seed = await inject('GET', '/memory?user_id=alice');
    expect(seed.statusCode).toBe(200);
    expect(seed.json()).toEqual({
      user_id: 'alice',
      memories: expect.any(Array),
      preferences: [expect.objectContaining({ memory: "User's favourite colour is teal" })],
      summaries: [
        {
          session_id: 'paint-1',
          agent_id: 'assistant',
          summary: session.memory.summary,
          topics: session.memory.topics,
          updated_at: expect.any(String),
        },
      ],
    });
    expect((await inject('GET', '/memory?user_id=bob')).json()).toEqual({
      user_id: 'bob',
      memories: [],
      preferences: [],
      summaries: [],
    });

    // A run of an agent without memory writes nothing and emits no memory events.
    const plain = await inject('POST', '/agents/plain/runs', {
      message: 'My dog is called Rex',
      user_id: 'alice',
      stream: true,
    });
    expect(plain.body).not.toContain('MemoryUpdate');
    expect((await inject('GET', '/memories?user_id=alice')).json().meta.total_count).toBe(2);
    const noSummary = (await inject('GET', `/sessions/${/"session_id":"([^"]+)"/.exec(plain.body)?.[1]}`)).json();
    expect(noSummary.memory).toEqual({ topics: [], summary: null });
  });

  it('serves episodes and episode search under /api with score and matchType', async () => {
    for (const [session, message] of [
      ['trip', 'I want to plan a trip to Kyoto in April'],
      ['bread', 'How long should sourdough bread proof?'],
    ]) {
      const response = await inject('POST', '/agents/assistant/runs', {
        message,
        user_id: 'alice',
        session_id: session,
      });
      expect(response.statusCode).toBe(200);
    }
    const episodes = await inject('GET', '/api/memory/episodes?limit=5');
    expect(episodes.statusCode).toBe(200);
    const body = episodes.json();
    expect(body).toMatchObject({ count: 2, available: true });
    expect(body.episodes[0]).toEqual({
      id: expect.stringMatching(/^ep-/),
      summary: expect.stringContaining('sourdough'),
      keywords: expect.any(Array),
      topic: expect.any(String),
      timestamp: expect.any(Number),
      importance: expect.any(Number),
      type: 'conversation',
      score: expect.any(Number),
      matchType: 'recent',
    });
    expect(body.episodes[0].importance).toBeGreaterThan(0);
    expect(body.episodes[0].importance).toBeLessThanOrEqual(1);

    const search = await inject('GET', '/api/memory/search?q=kyoto%20trip&limit=5');
    expect(search.statusCode).toBe(200);
    expect(search.json()).toMatchObject({ query: 'kyoto trip', count: 1 });
    const [hit] = search.json().results;
    expect(hit).toMatchObject({ summary: expect.stringContaining('Kyoto'), matchType: 'keyword' });
    expect(hit.score).toBeGreaterThan(0);
    expect(hit.score).toBeLessThanOrEqual(1);

    const missing = await inject('GET', '/api/memory/search');
    expect(missing.statusCode).toBe(400);
    expect(missing.json()).toMatchObject({ error: expect.any(String), code: 'AOS_VALIDATION' });
    expect((await inject('GET', '/api/memory/episodes?limit=101')).statusCode).toBe(400);
  });

  it("answers iii's POST /api/agents/:id/memory from the agent's memories", async () => {
    await inject('POST', '/agents/assistant/runs', {
      message: 'I love hiking in the Alps. My cat is called Miso.',
      user_id: 'alice',
    });
    await create('User likes hiking boots', 'alice');
    const recalled = await inject('POST', '/api/agents/assistant/memory', { query: 'hiking', limit: 5 });
    expect(recalled.statusCode).toBe(200);
    expect(recalled.json()).toEqual([
      {
        role: 'user',
        content: 'User loves hiking in the Alps',
        score: expect.any(Number),
        timestamp: expect.any(Number),
        id: expect.any(String),
      },
    ]);
    const all = await inject('POST', '/api/agents/assistant/memory?limit=10');
    expect(all.statusCode, all.body).toBe(200);
    expect(
      all
        .json()
        .map((entry: { content: string }) => entry.content)
        .sort(),
    ).toEqual(['User loves hiking in the Alps', "User's cat is called Miso"]);
    expect((await inject('POST', '/api/agents/nobody/memory', { query: 'x' })).statusCode).toBe(404);
    expect((await inject('POST', '/api/agents/assistant/memory', { limit: 500 })).statusCode).toBe(400);
  });
});

describe('memory routes under user isolation', () => {
  const SECRET = 'memory-isolation-test-secret-0123456789abcdef';
  const SCOPES = 'memories:read memories:write memories:delete memory:read agents:run agents:read';
  const test = useTestApp({ ...CONFIG, auth: { user_isolation: true, jwt: { secret: SECRET } } });
  let alice: string;
  let bob: string;
  const sign = (sub: string) =>
    new SignJWT({ sub, scopes: SCOPES })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(new TextEncoder().encode(SECRET));
  const as = (token: string, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown) =>
    test.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}` },
      ...(payload === undefined ? {} : { payload: payload as object }),
    });

  beforeAll(async () => {
    [alice, bob] = await Promise.all([sign('alice'), sign('bob')]);
  });

  it("pins each user to their own memories: another user's is missing, whatever user_id says", async () => {
    const mine = (await as(alice, 'POST', '/memories', { memory: 'User likes figs', user_id: 'bob' })).json();
    expect(mine.user_id).toBe('alice');
    await as(bob, 'POST', '/memories', { memory: 'User likes plums' });
    expect((await as(bob, 'GET', `/memories/${mine.memory_id}`)).statusCode).toBe(404);
    expect((await as(bob, 'PATCH', `/memories/${mine.memory_id}`, { memory: 'hijacked' })).statusCode).toBe(404);
    expect((await as(bob, 'DELETE', `/memories/${mine.memory_id}`)).statusCode).toBe(404);
    await as(bob, 'DELETE', '/memories', { memory_ids: [mine.memory_id] });
    expect((await as(alice, 'GET', `/memories/${mine.memory_id}`)).statusCode).toBe(200);
    const bobs = (await as(bob, 'GET', '/memories?user_id=alice')).json();
    expect(bobs.memories.map((m: { memory: string }) => m.memory)).toEqual(['User likes plums']);
    expect((await as(bob, 'GET', '/memory?user_id=alice')).statusCode).toBe(404);
    expect((await as(bob, 'GET', '/memory_topics?user_id=alice')).json()).toEqual([]);
    expect((await as(bob, 'POST', '/optimize-memories', { user_id: 'alice' })).statusCode).toBe(404);
    expect((await as(bob, 'GET', '/user_memory_stats')).json().user_memory_stats).toEqual([
      { user_id: 'bob', total_memories: 1, last_memory_updated_at: expect.any(String) },
    ]);
  });

  it('keeps episodes of one user from another', async () => {
    await as(alice, 'POST', '/agents/assistant/runs', { message: 'I am planning a surprise party for Sam' });
    const own = (await as(alice, 'GET', '/api/memory/search?q=surprise%20party')).json();
    expect(own.count).toBe(1);
    expect((await as(bob, 'GET', '/api/memory/search?q=surprise%20party')).json().count).toBe(0);
    expect((await as(bob, 'GET', '/api/memory/episodes')).json().count).toBe(0);
  });
});
