/**
 * Contract of the observability domain (spans, trace summaries, FilterExpr queries, daily metrics,
 * eval runs), registered by `runStoreContract` so it runs on every adapter (SQLite always,
 * Postgres with `AGENTOS_TEST_PG=1`).
 * @module
 */
import { describe, expect, it } from 'vitest';
import type { SpanRecord } from '../observability-types.js';
import type { Store } from '../types.js';

const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);

function span(overrides: Partial<SpanRecord> & Pick<SpanRecord, 'spanId' | 'traceId'>): SpanRecord {
  return {
    parentSpanId: null,
    workspaceId: 'default',
    name: 'invoke_agent Calc',
    spanType: 'AGENT',
    status: 'OK',
    statusMessage: null,
    startTime: T0,
    endTime: T0 + 100,
    durationMs: 100,
    attributes: {},
    ...overrides,
  };
}

/** A root span with the run identity attributes the store reads. */
function root(traceId: string, spanId: string, attributes: Record<string, unknown>, start = T0): SpanRecord {
  return span({ traceId, spanId, startTime: start, endTime: start + 100, attributes });
}

/** Registers the observability contract; `store()` returns the suite's store (cleared before each test). */
export function runObservabilityContract(store: () => Store): void {
  describe('observability', () => {
    it('lists the spans of a trace by start, and of two started in the same millisecond the one that ended first', async () => {
      const obs = store().observability;
      const child = (spanId: string, start: number, end: number) =>
        span({ traceId: 'order', spanId, parentSpanId: 'root', spanType: 'LLM', startTime: start, endTime: end });
      await obs.saveSpans([
        // Span ids in the reverse of the expected order, so the id cannot be what sorts them.
        child('a-next-call', T0 + 10.6, T0 + 40),
        child('b-quick-tool', T0 + 10.2, T0 + 10.4),
        child('c-first-call', T0 + 1, T0 + 10),
        root('order', 'root', {}),
      ]);
      const listed = await obs.listSpans('default', 'order');
      expect(listed.map((item) => item.spanId)).toEqual(['root', 'c-first-call', 'b-quick-tool', 'a-next-call']);
    });

    it('summarises a trace from spans arriving in any batch order', async () => {
      const obs = store().observability;
      // Children end first, so they are exported before the root.
      await obs.saveSpans([
        span({
          traceId: 't1',
          spanId: 'c1',
          parentSpanId: 'r1',
          name: 'chat m',
          spanType: 'LLM',
          startTime: T0 + 5,
          endTime: T0 + 40,
          durationMs: 35,
        }),
        span({
          traceId: 't1',
          spanId: 'c2',
          parentSpanId: 'r1',
          name: 'execute_tool x',
          spanType: 'TOOL',
          status: 'ERROR',
          statusMessage: 'boom',
          startTime: T0 + 40,
          endTime: T0 + 60,
          durationMs: 20,
        }),
      ]);
      const partial = await obs.getTrace('default', 't1');
      expect(partial).toMatchObject({ totalSpans: 2, errorCount: 1, status: 'ERROR', runId: null });
      await obs.saveSpans([
        root('t1', 'r1', {
          'agentos.run_id': 'run-1',
          'gen_ai.conversation.id': 's1',
          'user.id': 'u1',
          'gen_ai.agent.id': 'calc',
        }),
      ]);
      // A retried batch changes nothing.
      await obs.saveSpans([root('t1', 'r1', { 'agentos.run_id': 'run-1' })]);
      const trace = await obs.getTrace('default', 't1');
      expect(trace).toMatchObject({
        name: 'invoke_agent Calc',
        totalSpans: 3,
        errorCount: 1,
        status: 'ERROR',
        durationMs: 100,
        startTime: T0,
        runId: 'run-1',
        sessionId: 's1',
        userId: 'u1',
        agentId: 'calc',
        error: 'boom',
      });
      const spans = await obs.listSpans('default', 't1');
      expect(spans.map((entry) => entry.spanId)).toEqual(['r1', 'c1', 'c2']);
      expect(spans[1]).toMatchObject({ parentSpanId: 'r1', spanType: 'LLM', durationMs: 35 });
      expect(await obs.getTrace('other', 't1')).toBeNull();
      expect(await obs.listSpans('other', 't1')).toEqual([]);
    });

    it('summarises every trace of a large batch, written in chunks', async () => {
      const obs = store().observability;
      // 101 traces, one of them seen before: 202 spans go in as 64 + 64 + 64 + 8 + 2, 101 traces as 64 + 32 + 4 + 1.
      await obs.saveSpans([span({ traceId: 'big-0', spanId: 'big-0-early', parentSpanId: 'big-0-root' })]);
      const batch = Array.from({ length: 101 }, (_, index) => [
        root(`big-${index}`, `big-${index}-root`, { 'agentos.run_id': `run-${index}` }, T0 + index),
        span({
          traceId: `big-${index}`,
          spanId: `big-${index}-chat`,
          parentSpanId: `big-${index}-root`,
          status: index % 10 === 0 ? 'ERROR' : 'OK',
          startTime: T0 + index + 1,
          endTime: T0 + index + 2,
        }),
      ]).flat();
      await obs.saveSpans(batch);
      const page = await obs.listTraces({ workspaceId: 'default', limit: 200 });
      expect(page.total).toBe(101);
      const byId = new Map(page.items.map((trace) => [trace.traceId, trace]));
      expect(byId.get('big-0')).toMatchObject({ totalSpans: 3, errorCount: 1, runId: 'run-0' });
      expect(byId.get('big-57')).toMatchObject({ totalSpans: 2, errorCount: 0, runId: 'run-57', startTime: T0 + 57 });
      expect(byId.get('big-100')).toMatchObject({ totalSpans: 2, errorCount: 1, status: 'ERROR' });
    });

    it('filters traces with FilterExpr and counts them per session', async () => {
      const obs = store().observability;
      await obs.saveSpans([
        root('a', 'ra', { 'agentos.run_id': 'run-a', 'gen_ai.conversation.id': 's1', 'gen_ai.agent.id': 'calc' }, T0),
        root(
          'b',
          'rb',
          { 'agentos.run_id': 'run-b', 'gen_ai.conversation.id': 's1', 'gen_ai.agent.id': 'echo' },
          T0 + 1000,
        ),
        root(
          'c',
          'rc',
          { 'agentos.run_id': 'run_c', 'gen_ai.conversation.id': 's2', 'gen_ai.agent.id': 'echo' },
          T0 + 2000,
        ),
      ]);
      const ids = async (filter: Parameters<typeof obs.listTraces>[0]['filter']) =>
        (await obs.listTraces({ workspaceId: 'default', filter })).items.map((trace) => trace.traceId);
      expect(await ids(undefined)).toEqual(['c', 'b', 'a']);
      expect(await ids({ op: 'EQ', key: 'agent_id', value: 'echo' })).toEqual(['c', 'b']);
      expect(await ids({ op: 'GTE', key: 'start_time', value: T0 + 1000 })).toEqual(['c', 'b']);
      expect(await ids({ op: 'IN', key: 'run_id', value: ['run-a', 'run_c'] })).toEqual(['c', 'a']);
      expect(await ids({ op: 'IN', key: 'run_id', value: [] })).toEqual([]);
      // `_` is a LIKE wildcard; it must match only itself.
      expect(await ids({ op: 'CONTAINS', key: 'run_id', value: '_' })).toEqual(['c']);
      expect(await ids({ op: 'STARTSWITH', key: 'run_id', value: 'run-' })).toEqual(['b', 'a']);
      expect(
        await ids({
          op: 'OR',
          conditions: [
            { op: 'EQ', key: 'run_id', value: 'run-a' },
            { op: 'NOT', condition: { op: 'LT', key: 'start_time', value: T0 + 2000 } },
          ],
        }),
      ).toEqual(['c', 'a']);
      const page = await obs.listTraces({ workspaceId: 'default', page: 2, limit: 2 });
      expect(page).toMatchObject({ total: 3, items: [{ traceId: 'a' }] });
      const stats = await obs.traceSessionStats({ workspaceId: 'default' });
      expect(stats.total).toBe(2);
      expect(stats.items).toEqual([
        expect.objectContaining({ sessionId: 's2', totalTraces: 1, firstTraceAt: T0 + 2000 }),
        expect.objectContaining({ sessionId: 's1', totalTraces: 2, firstTraceAt: T0, lastTraceAt: T0 + 1000 }),
      ]);
    });

    it('upserts daily metrics per workspace and day', async () => {
      const obs = store().observability;
      const first = await obs.upsertDailyMetrics('default', '2026-11-22', { agent_runs_count: 1 });
      const again = await obs.upsertDailyMetrics('default', '2026-11-22', { agent_runs_count: 3 });
      expect(again.id).toBe(first.id);
      expect(again.data).toEqual({ agent_runs_count: 3 });
      await obs.upsertDailyMetrics('default', '2026-11-23', { agent_runs_count: 2 });
      await obs.upsertDailyMetrics('other', '2026-11-23', { agent_runs_count: 9 });
      expect((await obs.listDailyMetrics('default')).map((day) => day.date)).toEqual(['2026-11-22', '2026-11-23']);
      expect((await obs.listDailyMetrics('default', '2026-11-23')).map((day) => day.data)).toEqual([
        { agent_runs_count: 2 },
      ]);
      expect(await obs.listDailyMetrics('default', undefined, '2026-11-21')).toEqual([]);
    });

    it('reads run usage of a time range', async () => {
      const s = store();
      await s.sessions.create({
        sessionId: 'us',
        workspaceId: 'default',
        sessionType: 'agent',
        componentId: 'calc',
        userId: 'u1',
      });
      await s.runs.create({
        runId: 'ur',
        sessionId: 'us',
        workspaceId: 'default',
        componentType: 'agent',
        componentId: 'calc',
        userId: 'u1',
        input: { message: 'hi' },
        status: 'running',
      });
      await s.runs.update('default', 'ur', {
        status: 'completed',
        metrics: { input_tokens: 5, output_tokens: 2 },
        output: { model: 'openai:m' },
      });
      const rows = await s.observability.runUsage('default', 0, Date.now() + 1000);
      expect(rows).toEqual([
        expect.objectContaining({
          runId: 'ur',
          userId: 'u1',
          status: 'completed',
          metrics: { input_tokens: 5, output_tokens: 2 },
          output: { model: 'openai:m' },
        }),
      ]);
      expect(await s.observability.runUsage('other', 0, Date.now() + 1000)).toEqual([]);
      expect(await s.observability.runUsage('default', 0, 1)).toEqual([]);
    });

    it('stores, lists, renames and deletes eval runs within a workspace', async () => {
      const obs = store().observability;
      const base = {
        workspaceId: 'default',
        name: null,
        agentId: 'calc',
        teamId: null,
        workflowId: null,
        modelId: 'gpt-4o-mini',
        modelProvider: 'openai',
        evaluatedComponentName: 'Calc',
        evalInput: { input: 'x' },
        evalData: { passed: true },
      };
      const accuracy = await obs.createEvalRun({ ...base, evalType: 'accuracy' });
      const perf = await obs.createEvalRun({ ...base, evalType: 'performance', agentId: 'other' });
      await obs.createEvalRun({ ...base, workspaceId: 'elsewhere', evalType: 'accuracy' });
      expect(await obs.getEvalRun('default', accuracy.id)).toEqual(accuracy);
      expect(await obs.getEvalRun('elsewhere', accuracy.id)).toBeNull();
      expect((await obs.listEvalRuns({ workspaceId: 'default' })).total).toBe(2);
      expect((await obs.listEvalRuns({ workspaceId: 'default', evalTypes: ['performance'] })).items).toEqual([perf]);
      expect((await obs.listEvalRuns({ workspaceId: 'default', agentId: 'calc' })).items).toEqual([accuracy]);
      expect((await obs.listEvalRuns({ workspaceId: 'default', componentType: 'team' })).total).toBe(0);
      expect((await obs.renameEvalRun('default', perf.id, 'fast'))?.name).toBe('fast');
      expect(await obs.renameEvalRun('elsewhere', perf.id, 'nope')).toBeNull();
      expect(await obs.deleteEvalRuns('default', [perf.id, 'missing'])).toBe(1);
      expect(await obs.getEvalRun('default', perf.id)).toBeNull();
    });
  });
}
