import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeOpenAI, type RecordedRequest, type ScriptedReply, startFakeOpenAI } from '../../test/fake-openai.js';
import { buildTestApp, type TestApp } from '../../test/helpers.js';
import { describeSession, dropContainedMemories, extractStatedMemories } from './heuristics.js';

/** The system prompt of a recorded chat completion request. */
function systemOf(request: RecordedRequest | undefined): string {
  const system = request?.body.messages?.find((message) => message.role === 'system');
  return typeof system?.content === 'string' ? system.content : '';
}

const isMemoryUpdate = (request: RecordedRequest) => systemOf(request).includes('long-term memory');

describe('memory across runs (scripted OpenAI-compatible upstream)', () => {
  let fake: FakeOpenAI;
  let test: TestApp;
  /** What the fake answers to memory-update requests; answers to runs echo. */
  let update: ScriptedReply;

  const run = async (message: string, userId: string | undefined, sessionId?: string) => {
    const response = await test.app.inject({
      method: 'POST',
      url: '/agents/companion/runs',
      payload: {
        message,
        stream: true,
        ...(userId ? { user_id: userId } : {}),
        ...(sessionId ? { session_id: sessionId } : {}),
      },
    });
    expect(response.statusCode).toBe(200);
    return response.body;
  };
  /** The answer request (not the memory update) of the latest run. */
  const lastAnswerRequest = () => fake.modelRequests.filter((request) => !isMemoryUpdate(request)).at(-1);

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    test = await buildTestApp(
      {
        agents: [
          { id: 'companion', name: 'Companion', model: 'openai:gpt-4o-mini', instructions: 'Be kind.', memory: true },
          { id: 'searcher', name: 'Searcher', model: 'openai:gpt-4o-mini', tools: ['memory_search'] },
        ],
      },
      { OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'test-key' },
    );
  });
  afterAll(async () => {
    await test?.close();
    await fake?.close();
  });
  beforeEach(async () => {
    await test.services.store.dangerouslyClearAll();
    fake.reset();
    update = { text: JSON.stringify({ memories: [], summary: 'User chatted.', topics: ['chat'], importance: 0.2 }) };
    fake.setDefault((request) =>
      isMemoryUpdate(request) ? update : { text: `Echo: ${String(request.body.messages?.at(-1)?.content ?? '')}` },
    );
  });

  it('recalls a memory stated in run 1 of user A in a new session of user A, and never for user B', async () => {
    update = {
      text:
        'Here you go:\n```json\n' +
        JSON.stringify({
          memories: [{ memory: "User's favourite colour is teal", topics: ['Preferences'] }],
          summary: 'User shared their favourite colour.',
          topics: ['colours'],
          importance: 0.7,
        }) +
        '\n```',
    };
    const first = await run('Hello! My favourite colour is teal.', 'alice', 'alice-1');
    expect(first).toMatch(/event: MemoryUpdateStarted[\s\S]*event: MemoryUpdateCompleted[\s\S]*event: RunCompleted/);
    expect(first).toContain('"method":"model"');
    expect(first).toContain('"memories_added":1');

    // The update went to the run's model, non-streamed, with the run's conversation.
    const updateRequest = fake.modelRequests.find(isMemoryUpdate);
    expect(updateRequest?.body.model).toBe('gpt-4o-mini');
    expect(JSON.stringify(updateRequest?.body.messages)).toContain('My favourite colour is teal');

    const stored = (await test.app.inject({ method: 'GET', url: '/memories?user_id=alice' })).json();
    expect(stored.memories).toEqual([
      expect.objectContaining({
        memory: "User's favourite colour is teal",
        topics: ['preferences'],
        agent_id: 'companion',
      }),
    ]);
    const session = (await test.app.inject({ method: 'GET', url: '/sessions/alice-1' })).json();
    expect(session.memory).toEqual({ topics: ['colours'], summary: 'User shared their favourite colour.' });

    update = { text: JSON.stringify({ memories: [], summary: 'User asked about paint.', topics: ['paint'] }) };
    await run('Which colour should I paint my bike?', 'alice', 'alice-2');
    expect(systemOf(lastAnswerRequest())).toContain("- User's favourite colour is teal");
    expect(systemOf(lastAnswerRequest())).toContain('Be kind.');

    await run('Which colour should I paint my bike?', 'bob', 'bob-1');
    expect(systemOf(lastAnswerRequest())).not.toContain('teal');
    await run('Which colour should I paint my bike?', undefined);
    expect(systemOf(lastAnswerRequest())).not.toContain('teal');
  });

  it('keeps the run completed when the memory model answers nonsense, and reports the error', async () => {
    update = { text: 'I cannot do JSON today.' };
    const body = await run('My name is Ada.', 'alice');
    expect(body).toMatch(
      /event: MemoryUpdateCompleted\ndata: .*"error":"the memory model answered without a JSON object"/,
    );
    expect(body).toContain('event: RunCompleted');
    expect((await test.app.inject({ method: 'GET', url: '/memories?user_id=alice' })).json().memories).toEqual([]);
  });

  it("offers memory_search, which reads only the run's own user", async () => {
    await test.services.store.memory.create({
      workspaceId: 'default',
      userId: 'alice',
      memory: 'User drives a teal van',
    });
    const toolResultOf = async (userId: string) => {
      fake.reset();
      fake.script(
        { toolCalls: [{ name: 'memory_search', arguments: { query: 'what car does the user drive' } }] },
        { text: 'Done.' },
      );
      const response = await test.app.inject({
        method: 'POST',
        url: '/agents/searcher/runs',
        payload: { message: 'What do I drive?', user_id: userId },
      });
      expect(response.statusCode).toBe(200);
      expect(fake.modelRequests[0]?.body.tools?.map((tool) => (tool.function as { name: string }).name)).toEqual([
        'memory_search',
      ]);
      const toolMessage = fake.modelRequests[1]?.body.messages?.find((message) => message.role === 'tool');
      return JSON.parse(String(toolMessage?.content));
    };
    const alice = await toolResultOf('alice');
    expect(alice.results).toEqual([
      expect.objectContaining({ memory: 'User drives a teal van', match_type: 'keyword', score: expect.any(Number) }),
    ]);
    expect((await toolResultOf('bob')).results).toEqual([]);
  });

  it('recalls within the token budget, relevant memories first', async () => {
    const { memory } = test.services;
    for (let index = 0; index < 300; index += 1) {
      await test.services.store.memory.create({
        workspaceId: 'default',
        userId: 'alice',
        memory: `User noted fact number ${index} about gardening tools and soil`,
        tokens: 9,
      });
    }
    await test.services.store.memory.create({
      workspaceId: 'default',
      userId: 'alice',
      memory: 'User is allergic to peanuts',
    });
    const recalled = await memory.recall({
      workspaceId: 'default',
      userId: 'alice',
      message: 'Any peanuts in this?',
      tokens: 60,
    });
    expect(recalled.memories[0]).toMatchObject({ memory: 'User is allergic to peanuts', matchType: 'keyword' });
    expect(recalled.tokens).toBeLessThanOrEqual(60);
    expect(recalled.memories.length).toBeLessThan(10);
    expect(recalled.text.split('\n').length).toBe(recalled.memories.length + 1);
    expect((await memory.recall({ workspaceId: 'default', userId: 'bob', message: 'peanuts' })).memories).toEqual([]);
  });
});

describe('memory heuristics (local:default)', () => {
  it('turns first-person statements into third-person memories and skips questions and requests', () => {
    expect(
      extractStatedMemories(
        "Hi. My name is Ada Lovelace. I live in London! I'm a mathematician. I'm wondering about engines. Do I like tea?",
      ),
    ).toEqual([
      { memory: "User's name is Ada Lovelace", topics: ['personal'] },
      { memory: 'User lives in London', topics: ['location'] },
      { memory: 'User is a mathematician', topics: ['general'] },
    ]);
    expect(extractStatedMemories('Please remember that my sister is vegan')).toEqual([
      { memory: 'User: their sister is vegan', topics: ['health'] },
    ]);
    expect(extractStatedMemories('What is 2 + 2?')).toEqual([]);
    expect(extractStatedMemories('I have a question. I need help with my essay. I want you to be brief.')).toEqual([]);
    expect(extractStatedMemories('I have two kids.')).toEqual([{ memory: 'User has two kids', topics: ['family'] }]);
  });

  it('summarises what was asked and drops contained memories', () => {
    expect(describeSession(['How do I bake bread?'])).toEqual({
      summary: 'User asked: "How do I bake bread?"',
      topics: ['bake', 'bread'],
    });
    expect(describeSession(['bread recipe', 'more bread tips']).summary).toMatch(/^User made 2 requests about bread/);
    expect(
      dropContainedMemories([
        { memory: 'User likes tea' },
        { memory: 'User likes green tea' },
        { memory: 'User likes Tea!' },
      ]),
    ).toEqual([{ memory: 'User likes green tea' }]);
  });
});

describe('semantic recall (memory.embedder: local:default)', () => {
  let test: TestApp;

  beforeAll(async () => {
    test = await buildTestApp({
      agents: [{ id: 'assistant', name: 'Assistant', model: 'local:default', memory: true }],
      memory: { embedder: 'local:default' },
    });
  });
  afterAll(async () => {
    await test?.close();
  });

  it('finds a paraphrase no keyword matches, embedded once on write, and forgets deleted memories', async () => {
    const { store, memory } = test.services;
    const create = async (text: string) =>
      (await test.app.inject({ method: 'POST', url: '/memories', payload: { memory: text, user_id: 'alice' } })).json();
    const teal = await create("User's favourite colour is teal");
    await create('User works night shifts as a nurse');
    await create('User has two cats named Salt and Pepper');
    await create('User is training for a marathon in spring');
    const scope = 'memory\u0000default\u0000alice';
    expect((await store.search.stats(scope)).chunks).toBe(4);

    const question = 'Which hue do I like best?';
    expect(await store.memory.search('default', 'alice', question, 5)).toEqual([]);
    const recalled = await memory.recall({ workspaceId: 'default', userId: 'alice', message: question });
    expect(recalled.memories[0]).toMatchObject({ memory: "User's favourite colour is teal", matchType: 'vector' });
    expect((await memory.recall({ workspaceId: 'default', userId: 'bob', message: question })).memories).toEqual([]);

    const patched = await test.app.inject({
      method: 'PATCH',
      url: `/memories/${teal.memory_id}`,
      payload: { memory: "User's favourite colour is crimson" },
    });
    expect(patched.statusCode).toBe(200);
    const after = await memory.recall({ workspaceId: 'default', userId: 'alice', message: question });
    expect(after.memories[0]?.memory).toBe("User's favourite colour is crimson");
    expect((await store.search.stats(scope)).chunks).toBe(4);

    expect((await test.app.inject({ method: 'DELETE', url: `/memories/${teal.memory_id}` })).statusCode).toBe(204);
    expect((await store.search.stats(scope)).chunks).toBe(3);
    const gone = await memory.recall({ workspaceId: 'default', userId: 'alice', message: question });
    expect(gone.memories.map((entry) => entry.memory)).not.toContain("User's favourite colour is crimson");
  }, 60_000);
});
