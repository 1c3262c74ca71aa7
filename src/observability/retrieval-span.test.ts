import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeOpenAI, startFakeOpenAI } from '../../test/fake-openai.js';
import { buildTestApp, type TestApp } from '../../test/helpers.js';

// biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field
type Json = any;

describe('retrieval spans', () => {
  let fake: FakeOpenAI;
  let test: TestApp;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    test = await buildTestApp(
      {
        knowledge: [{ id: 'handbook', name: 'Handbook' }],
        agents: [
          { id: 'librarian', name: 'Librarian', model: 'openai:gpt-4o-mini', knowledge: 'handbook' },
          { id: 'companion', name: 'Companion', model: 'openai:gpt-4o-mini', memory: true },
        ],
        memory: { embedder: 'local:default' },
      },
      { OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'test-key' },
    );
    const accepted = await test.app.inject({
      method: 'POST',
      url: '/knowledge/content?knowledge_id=handbook',
      payload: { text_content: 'Warranty: every kettle is covered for two years.', name: 'warranty.txt' },
    });
    const id = accepted.json().id;
    for (;;) {
      const status = (await test.app.inject({ method: 'GET', url: `/knowledge/content/${id}/status` })).json();
      if (status.status === 'completed') break;
      if (status.status === 'failed') throw new Error(status.status_message);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    // Ingestion loads the offline embedder (≈ 250 ms alone, much longer on a busy machine).
  }, 60_000);
  afterAll(async () => {
    await test?.close();
    await fake?.close();
  });

  it('puts the knowledge search under its execute_tool span', async () => {
    fake.script(
      { toolCalls: [{ name: 'knowledge_search', arguments: { query: 'kettle warranty' } }] },
      { text: 'Two years.' },
    );
    const run = await test.app.inject({
      method: 'POST',
      url: '/agents/librarian/runs',
      payload: { message: 'Warranty?' },
    });
    expect(run.json().status).toBe('completed');
    const list = (await test.app.inject({ method: 'GET', url: `/traces?run_id=${run.json().run_id}` })).json();
    const detail: Json = (await test.app.inject({ method: 'GET', url: `/traces/${list.traces[0].trace_id}` })).json();
    const agent = detail.tree[0];
    expect(agent.spans.map((node: Json) => node.type)).toEqual(['LLM', 'TOOL', 'LLM']);
    const tool = agent.spans[1];
    expect(tool.spans).toHaveLength(1);
    expect(tool.spans[0]).toMatchObject({
      type: 'RETRIEVAL',
      name: 'retrieval handbook',
      parent_id: tool.id,
      status: 'OK',
      metadata: { 'gen_ai.operation.name': 'retrieval', 'gen_ai.data_source.id': 'handbook' },
    });
    // The query's embedding, under the retrieval span; the knowledge base embeds with local:default.
    const retrieval = tool.spans[0];
    expect(retrieval.spans).toHaveLength(1);
    const embedding = retrieval.spans[0];
    expect(embedding).toMatchObject({
      type: 'EMBEDDING',
      name: 'embeddings default',
      parent_id: retrieval.id,
      status: 'OK',
      metadata: {
        'gen_ai.operation.name': 'embeddings',
        'gen_ai.provider.name': 'local',
        'gen_ai.request.model': 'default',
        'gen_ai.embeddings.dimension.count': 512,
        'agentos.embeddings.inputs': 1,
        'agentos.workspace_id': 'default',
      },
    });
    expect(Date.parse(embedding.start_time)).toBeGreaterThanOrEqual(Date.parse(retrieval.start_time));
    expect(Date.parse(embedding.end_time)).toBeLessThanOrEqual(Date.parse(retrieval.end_time));
  });

  it('puts the memory recall embedding under the agent span', async () => {
    fake.script({ text: 'Hello again.' });
    const run = await test.app.inject({
      method: 'POST',
      url: '/agents/companion/runs',
      payload: { message: 'Do you remember my kettle?', user_id: 'ada' },
    });
    expect(run.json().status).toBe('completed');
    const list = (await test.app.inject({ method: 'GET', url: `/traces?run_id=${run.json().run_id}` })).json();
    const detail: Json = (await test.app.inject({ method: 'GET', url: `/traces/${list.traces[0].trace_id}` })).json();
    const agent = detail.tree[0];
    const embedding = agent.spans.find((node: Json) => node.type === 'EMBEDDING');
    expect(embedding).toMatchObject({
      name: 'embeddings default',
      parent_id: agent.id,
      metadata: { 'gen_ai.operation.name': 'embeddings', 'agentos.embeddings.inputs': 1 },
    });
  });

  it('opens no embeddings span for an embedder call outside any span (ingestion)', async () => {
    const list = (await test.app.inject({ method: 'GET', url: '/traces?limit=100' })).json();
    expect(list.traces.map((trace: Json) => trace.name)).not.toContainEqual(expect.stringMatching(/^embeddings/));
  });
});
