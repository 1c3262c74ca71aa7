/**
 * A file store's traces live in their own file, written by a worker thread (issue 10): the observability
 * contract holds there too, the spans land in `<name>.traces.db` (not the store's file), survive a reopen,
 * and traces a store file held from before are copied over once.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runObservabilityContract } from '../contract/observability.contract.js';
import type { KyselyStore } from '../kysely/kysely-store.js';
import type { SpanRecord } from '../observability-types.js';
import { openSqlite, WAL_AUTOCHECKPOINT_PAGES } from './open.js';
import { createSqliteStore } from './sqlite-store.js';
import { traceFilePath } from './trace-client.js';
import { TRACE_FILE_PAGE_SIZE } from './trace-writer.js';

const dir = mkdtempSync(join(tmpdir(), 'agentos-trace-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const span = (traceId: string, spanId: string, parentSpanId: string | null = null): SpanRecord => ({
  spanId,
  traceId,
  parentSpanId,
  workspaceId: 'default',
  name: `span ${spanId}`,
  spanType: parentSpanId ? 'LLM' : 'AGENT',
  status: 'OK',
  statusMessage: null,
  startTime: 1_000,
  endTime: 1_010,
  durationMs: 10,
  attributes: { 'agentos.run_id': `run-${traceId}` },
});

/** This process's threads by id, with their scheduling policy and nice value (`/proc/self/task/<tid>/stat`). */
const threads = () =>
  new Map(
    readdirSync('/proc/self/task').map((tid) => {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      // The fields after the command name (which may hold spaces) start at the third: nice is the 19th, policy the 41st.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return [tid, { nice: Number(fields[16]), policy: Number(fields[38]) }] as const;
    }),
  );
const SCHED_IDLE = 5;
const hasChrt = process.platform === 'linux' && !spawnSync('chrt', ['--version']).error;

const countRows = (file: string, table: string) => {
  const database = new Database(file, { readonly: true });
  try {
    return (database.prepare(`select count(*) as n from ${table}`).get() as { n: number }).n;
  } finally {
    database.close();
  }
};

describe('sqlite file store: observability contract through the trace worker', () => {
  let store: KyselyStore;
  beforeAll(async () => {
    store = createSqliteStore({ url: `sqlite:${join(dir, 'contract.db')}` });
    await store.migrate();
  });
  beforeEach(async () => {
    await store.observability.dangerouslyClearAll();
  });
  afterAll(async () => {
    await store.close();
  });
  runObservabilityContract(() => store);
});

describe('sqlite file store: the trace file', () => {
  it('writes spans to <name>.traces.db, keeps them across a reopen, and leaves the store file alone', async () => {
    const path = join(dir, 'own.db');
    expect(traceFilePath(path)).toBe(join(dir, 'own.traces.db'));
    let store = createSqliteStore({ url: `sqlite:${path}` });
    await store.migrate();
    await store.observability.saveSpans([span('t1', 'root'), span('t1', 'chat', 'root')]);
    expect((await store.observability.getTrace('default', 't1'))?.totalSpans).toBe(2);
    await store.close();
    expect(existsSync(traceFilePath(path))).toBe(true);
    expect(countRows(traceFilePath(path), 'trace_spans')).toBe(2);
    expect(countRows(path, 'trace_spans')).toBe(0);
    // A new trace file takes the worker's larger pages; the store's own file keeps SQLite's default.
    const pageSize = (file: string) => {
      const database = new Database(file, { readonly: true });
      try {
        return database.pragma('page_size', { simple: true });
      } finally {
        database.close();
      }
    };
    expect(pageSize(traceFilePath(path))).toBe(TRACE_FILE_PAGE_SIZE);
    expect(pageSize(path)).toBe(4096);

    store = createSqliteStore({ url: `sqlite:${path}` });
    await store.migrate();
    expect((await store.observability.listSpans('default', 't1')).map((s) => s.spanId).sort()).toEqual([
      'chat',
      'root',
    ]);
    // A closed store refuses instead of starting its worker again.
    await store.close();
    await expect(store.observability.listTraces({ workspaceId: 'default' })).rejects.toMatchObject({
      code: 'AOS_STORE_UNAVAILABLE',
    });
  });

  it('stores attributes as the JSON they were sent as, rounds span times outwards, and rejects what it cannot encode', async () => {
    const store = createSqliteStore({ url: `sqlite:${join(dir, 'wire.db')}` });
    await store.migrate();
    try {
      const attributes = { 'agentos.run_id': 'run-w', 'gen_ai.usage.input_tokens': 9, 'x.list': ['a', 'b'] };
      await store.observability.saveSpans([
        { ...span('w', 'root'), startTime: 1_000.4, endTime: 1_010.6, durationMs: 10.2, attributes },
      ]);
      // The summary keeps exact times (as the Kysely store's); the span row widens them to whole ms.
      expect(await store.observability.getTrace('default', 'w')).toMatchObject({
        startTime: 1_000.4,
        endTime: 1_010.6,
        durationMs: 10.2,
        runId: 'run-w',
      });
      expect(await store.observability.listSpans('default', 'w')).toMatchObject([
        { spanId: 'root', startTime: 1_000, endTime: 1_011, durationMs: 10.2, attributes },
      ]);
      // JSON has no BigInt: the write fails as a rejected promise (the exporter logs it), not a throw.
      const bad = { ...span('w2', 'root'), attributes: { n: 1n } };
      await expect(store.observability.saveSpans([bad])).rejects.toThrow(/BigInt/);
      expect(await store.observability.getTrace('default', 'w2')).toBeNull();
    } finally {
      await store.close();
    }
  });

  it.runIf(hasChrt)(
    'runs the trace worker in the idle scheduling class at nice 19 (Linux, util-linux chrt)',
    async () => {
      const before = threads();
      const store = createSqliteStore({ url: `sqlite:${join(dir, 'idle.db')}` });
      await store.migrate();
      try {
        // The worker starts on first use and lowers itself before it answers anything.
        await store.observability.saveSpans([span('idle', 'root')]);
        const started = [...threads()].filter(([tid]) => !before.has(tid)).map(([, thread]) => thread);
        expect(started).toContainEqual({ nice: 19, policy: SCHED_IDLE });
        // Only that thread: the event loop keeps its priority.
        expect(threads().get(String(process.pid))).toEqual(before.get(String(process.pid)));
      } finally {
        await store.close();
      }
    },
  );

  it('checkpoints a file with larger pages after as many bytes as one with 4 KB pages', () => {
    const small = openSqlite(join(dir, 'pages-4k.db'));
    const large = openSqlite(join(dir, 'pages-16k.db'), { pageSize: TRACE_FILE_PAGE_SIZE });
    try {
      expect(small.database.pragma('wal_autocheckpoint', { simple: true })).toBe(WAL_AUTOCHECKPOINT_PAGES);
      expect(large.database.pragma('page_size', { simple: true })).toBe(TRACE_FILE_PAGE_SIZE);
      expect(large.database.pragma('wal_autocheckpoint', { simple: true })).toBe(
        (WAL_AUTOCHECKPOINT_PAGES * 4096) / TRACE_FILE_PAGE_SIZE,
      );
    } finally {
      small.database.close();
      large.database.close();
    }
  });

  it('copies the traces of a store file from before the trace file existed, once', async () => {
    const path = join(dir, 'upgraded.db');
    // Traces written the old way: into the store's own tables (an in-process store over the same file
    // cannot be made here, so the rows go in directly, as the old store wrote them).
    const old = createSqliteStore({ url: `sqlite:${path}` });
    await old.migrate();
    await old.close();
    rmSync(traceFilePath(path), { force: true });
    const database = new Database(path);
    database
      .prepare(
        `insert into trace_spans (span_id, trace_id, parent_span_id, workspace_id, name, span_type, status,
         status_message, start_time, end_time, duration_ms, attributes)
         values ('root', 'old', null, 'default', 'invoke_agent old', 'AGENT', 'OK', null, 5, 9, 4, '{}')`,
      )
      .run();
    database
      .prepare(
        `insert into traces (trace_id, workspace_id, name, status, start_time, end_time, duration_ms, total_spans,
         error_count, created_at) values ('old', 'default', 'invoke_agent old', 'OK', 5, 9, 4, 1, 0, 9)`,
      )
      .run();
    database.close();

    const store = createSqliteStore({ url: `sqlite:${path}` });
    await store.migrate();
    expect((await store.observability.getTrace('default', 'old'))?.name).toBe('invoke_agent old');
    expect(await store.observability.listSpans('default', 'old')).toHaveLength(1);
    // Deleted here, it stays deleted: the copy happens when the trace file is new, not at every start.
    await store.observability.dangerouslyClearAll();
    await store.close();
    const again = createSqliteStore({ url: `sqlite:${path}` });
    await again.migrate();
    expect(await again.observability.getTrace('default', 'old')).toBeNull();
    await again.close();
  });
});
