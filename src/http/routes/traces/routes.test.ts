import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeOpenAI, startFakeOpenAI } from '../../../../test/fake-openai.js';
import { buildTestApp, type TestApp } from '../../../../test/helpers.js';

// biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field
type Json = any;

const dir = mkdtempSync(join(tmpdir(), 'agentos-traces-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// In memory the store writes spans on the event loop; a file store's go to its trace worker in another file
// (trace-client.ts, trace-worker.ts). Both must give the same traces through the routes.
describe.each([
  ['in memory', 'sqlite::memory:'],
  ['in a file', `sqlite:${join(dir, 'traces.db')}`],
])('traces (store %s)', (_where, databaseUrl) => {
  let fake: FakeOpenAI;
  let test: TestApp;

  const run = async (agent: string, message: string, extra: Record<string, unknown> = {}): Promise<Json> => {
    const response = await test.app.inject({
      method: 'POST',
      url: `/agents/${agent}/runs`,
      payload: { message, ...extra },
    });
    expect(response.statusCode).toBe(200);
    return response.json();
  };
  const get = async (url: string): Promise<Json> => {
    const response = await test.app.inject({ method: 'GET', url });
    expect(response.statusCode, response.body).toBe(200);
    return response.json();
  };
  const search = (payload: Record<string, unknown>) =>
    test.app.inject({ method: 'POST', url: '/traces/search', payload });

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    test = await buildTestApp(
      {
        agents: [
          { id: 'calc', name: 'Calc', model: 'openai:gpt-4o-mini', tools: ['calculator'] },
          { id: 'echo', name: 'Echo', model: 'openai:gpt-4o-mini' },
        ],
        // A long batch delay: the routes must flush queued spans themselves before reading.
        tracing: { batch_delay_ms: 60_000 },
        database: { url: databaseUrl },
      },
      { OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'test-key' },
    );
  });
  afterAll(async () => {
    await test?.close();
    await fake?.close();
  });
  beforeEach(async () => {
    fake.reset();
    await test.services.observability.flush();
    await test.services.store.dangerouslyClearAll();
  });

  it('traces a run with a tool as AGENT → LLM, TOOL, LLM with parents, durations and tokens', async () => {
    fake.script(
      {
        toolCalls: [{ id: 'call_7', name: 'calculator', arguments: { expression: '6*7' } }],
        usage: { prompt_tokens: 20, completion_tokens: 5 },
        firstChunkDelayMs: 15,
      },
      { text: 'It is 42.', usage: { prompt_tokens: 30, completion_tokens: 4 }, firstChunkDelayMs: 15 },
    );
    const result = await run('calc', 'What is 6*7?', { session_id: 'trace-session', user_id: 'ann' });
    expect(result.status).toBe('completed');

    const list = await get(`/traces?run_id=${result.run_id}`);
    expect(list.meta.total_count).toBe(1);
    const summary = list.traces[0];
    expect(summary).toMatchObject({
      name: 'invoke_agent Calc',
      status: 'OK',
      total_spans: 4,
      error_count: 0,
      run_id: result.run_id,
      session_id: 'trace-session',
      user_id: 'ann',
      agent_id: 'calc',
      // Content is captured only with tracing.capture_content.
      input: null,
    });

    const detail = await get(`/traces/${summary.trace_id}`);
    expect(detail.tree).toHaveLength(1);
    const agent = detail.tree[0];
    expect(agent.type).toBe('AGENT');
    expect(agent.parent_id).toBeNull();
    expect(agent.spans.map((node: Json) => node.type)).toEqual(['LLM', 'TOOL', 'LLM']);
    const [chat1, tool, chat2] = agent.spans;
    for (const child of agent.spans) {
      expect(child.parent_id).toBe(agent.id);
      expect(child.spans).toEqual([]);
      expect(child.duration_ms).toBeGreaterThanOrEqual(0);
      expect(Date.parse(child.start_time)).toBeGreaterThanOrEqual(Date.parse(agent.start_time));
      expect(Date.parse(child.end_time)).toBeLessThanOrEqual(Date.parse(agent.end_time));
    }
    // The model's part of a step ends where its tool starts; the second model call follows the tool.
    // The span opens at the request, so it covers the scripted 15 ms wait for the first chunk.
    expect(chat1.duration_ms).toBeGreaterThanOrEqual(14);
    expect(Date.parse(chat1.end_time)).toBeLessThanOrEqual(Date.parse(tool.start_time) + 1);
    expect(Date.parse(tool.end_time)).toBeLessThanOrEqual(Date.parse(chat2.start_time) + 1);
    expect(agent.duration_ms).toBeGreaterThanOrEqual(chat1.duration_ms + chat2.duration_ms);
    expect(chat1).toMatchObject({
      name: 'chat gpt-4o-mini',
      metadata: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'gpt-4o-mini',
        'gen_ai.usage.input_tokens': 20,
        'gen_ai.usage.output_tokens': 5,
        'gen_ai.conversation.id': 'trace-session',
      },
    });
    expect(chat1.metadata['gen_ai.response.model']).toEqual(expect.any(String));
    expect(chat2.metadata).toMatchObject({ 'gen_ai.usage.input_tokens': 30, 'gen_ai.usage.output_tokens': 4 });
    expect(tool).toMatchObject({
      name: 'execute_tool calculator',
      status: 'OK',
      metadata: {
        'gen_ai.operation.name': 'execute_tool',
        'gen_ai.tool.name': 'calculator',
        'gen_ai.tool.call.id': 'call_7',
      },
    });
    expect(tool.metadata['gen_ai.tool.call.arguments']).toBeUndefined();
    expect(agent.metadata).toMatchObject({
      'gen_ai.operation.name': 'invoke_agent',
      'gen_ai.agent.name': 'Calc',
      'gen_ai.usage.input_tokens': 50,
      'gen_ai.usage.output_tokens': 9,
    });

    const single = await get(`/traces/${summary.trace_id}?span_id=${tool.id}`);
    expect(single.tree.map((node: Json) => node.id)).toEqual([tool.id]);
  });

  it('nests an agent run under a span opened with withSpan (how team and workflow runners trace)', async () => {
    fake.setDefault({ text: 'step done' });
    const { observability, runs } = test.services;
    const record = await observability.withSpan(
      {
        name: 'invoke_workflow content',
        operation: 'invoke_workflow',
        workspaceId: 'default',
        attributes: { 'agentos.workflow_id': 'content', 'agentos.run_id': 'wf-run-1' },
      },
      async (_span, traceParent) => {
        const handle = await runs.start({ workspaceId: 'default', agentId: 'echo', message: 'step 1', traceParent });
        return handle.done;
      },
    );
    expect(record.status).toBe('completed');
    const list = await get('/traces?workflow_id=content');
    expect(list.traces).toHaveLength(1);
    expect(list.traces[0]).toMatchObject({ name: 'invoke_workflow content', run_id: 'wf-run-1', total_spans: 3 });
    const detail = await get(`/traces/${list.traces[0].trace_id}`);
    const [workflow] = detail.tree;
    expect(workflow.type).toBe('WORKFLOW');
    expect(workflow.spans.map((node: Json) => node.type)).toEqual(['AGENT']);
    expect(workflow.spans[0].metadata['agentos.run_id']).toBe(record.runId);
    expect(workflow.spans[0].spans.map((node: Json) => node.type)).toEqual(['LLM']);
  });

  it('marks a failed run ERROR with error.type', async () => {
    fake.script({ status: 500, error: 'upstream broke' }, { status: 500, error: 'upstream broke' });
    const result = await run('echo', 'fail please');
    expect(result.status).toBe('error');
    const list = await get(`/traces?run_id=${result.run_id}&status=ERROR`);
    expect(list.traces).toHaveLength(1);
    expect(list.traces[0].error_count).toBeGreaterThan(0);
    const detail = await get(`/traces/${list.traces[0].trace_id}`);
    expect(detail.tree[0].status).toBe('ERROR');
    expect(detail.tree[0].metadata['error.type']).toEqual(expect.any(String));
  });

  it('filters with the FilterExpr DSL and groups by session', async () => {
    fake.setDefault({ text: 'ok' });
    const a = await run('echo', 'one', { session_id: 's-a', user_id: 'u1' });
    const b = await run('echo', 'two', { session_id: 's-a', user_id: 'u1' });
    const c = await run('calc', 'three', { session_id: 's-b', user_id: 'u2' });

    const ids = async (filter: unknown): Promise<string[]> => {
      const response = await search({ filter });
      expect(response.statusCode, response.body).toBe(200);
      return response
        .json()
        .results.map((trace: Json) => trace.run_id)
        .sort();
    };
    expect(await ids({ op: 'EQ', key: 'agent_id', value: 'echo' })).toEqual([a.run_id, b.run_id].sort());
    expect(await ids({ op: 'NEQ', key: 'agent_id', value: 'echo' })).toEqual([c.run_id]);
    expect(await ids({ op: 'IN', key: 'run_id', value: [a.run_id, c.run_id] })).toEqual([a.run_id, c.run_id].sort());
    expect(await ids({ op: 'STARTSWITH', key: 'name', value: 'invoke_agent Ca' })).toEqual([c.run_id]);
    expect(await ids({ op: 'CONTAINS', key: 'session_id', value: '-b' })).toEqual([c.run_id]);
    expect(
      await ids({
        op: 'AND',
        conditions: [
          { op: 'EQ', key: 'user_id', value: 'u1' },
          { op: 'NOT', condition: { op: 'EQ', key: 'run_id', value: a.run_id } },
        ],
      }),
    ).toEqual([b.run_id]);
    expect(
      await ids({
        op: 'OR',
        conditions: [
          { op: 'EQ', key: 'run_id', value: a.run_id },
          { op: 'EQ', key: 'session_id', value: 's-b' },
        ],
      }),
    ).toEqual([a.run_id, c.run_id].sort());
    expect(await ids({ op: 'GTE', key: 'total_spans', value: 2 })).toHaveLength(3);
    expect(await ids({ op: 'LT', key: 'start_time', value: '2000-01-01T00:00:00Z' })).toEqual([]);
    expect(await ids({ op: 'GT', key: 'start_time', value: '2000-01-01T00:00:00Z' })).toHaveLength(3);
    // LIKE wildcards in a value match literally.
    expect(await ids({ op: 'CONTAINS', key: 'session_id', value: '%' })).toEqual([]);

    const grouped = await search({ group_by: 'session', filter: { op: 'EQ', key: 'user_id', value: 'u1' } });
    expect(grouped.json().results).toEqual([
      expect.objectContaining({ session_id: 's-a', user_id: 'u1', agent_id: 'echo', total_traces: 2 }),
    ]);
    const stats = await get('/trace_session_stats?agent_id=echo');
    expect(stats.sessions).toEqual([expect.objectContaining({ session_id: 's-a', total_traces: 2 })]);
  });

  it('answers 422 to a bad filter and 404 to an unknown trace', async () => {
    expect((await search({ filter: { op: 'EQ', key: 'password', value: 'x' } })).statusCode).toBe(422);
    expect((await search({ filter: { op: 'CONTAINS', key: 'duration_ms', value: '1' } })).statusCode).toBe(422);
    expect((await search({ filter: { op: 'GT', key: 'start_time', value: 'yesterday' } })).statusCode).toBe(422);
    let deep: unknown = { op: 'EQ', key: 'name', value: 'x' };
    for (let i = 0; i < 10; i++) deep = { op: 'NOT', condition: deep };
    expect((await search({ filter: deep })).statusCode).toBe(422);
    const missing = await test.app.inject({ method: 'GET', url: `/traces/${'0'.repeat(32)}` });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ code: 'AOS_TRACE_NOT_FOUND' });
    expect((await test.app.inject({ method: 'GET', url: '/traces/not-hex' })).statusCode).toBe(422);
  });

  it('describes the filterable fields', async () => {
    const schema = await get('/traces/filter-schema');
    expect(schema.fields.map((field: Json) => field.key)).toContain('agent_id');
    expect(schema.logical_operators).toEqual(['AND', 'OR', 'NOT']);
  });

  it('keeps traces of one workspace out of another', async () => {
    fake.setDefault({ text: 'ok' });
    const result = await run('echo', 'mine');
    const other = await test.app.inject({
      method: 'GET',
      url: `/traces?run_id=${result.run_id}`,
      headers: { 'x-workspace-id': 'other' },
    });
    expect(other.statusCode).toBe(200);
    expect(other.json().traces).toEqual([]);
  });
});
