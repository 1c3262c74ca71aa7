/**
 * The store's side of the SQLite trace file (issue 10): {@link TraceWorkerClient} starts the worker thread
 * (`trace-worker.ts`) on first use and forwards trace calls to it; {@link SplitObservabilityStore} serves
 * the trace methods of {@link ObservabilityStore} from there and everything else from the main file.
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { AgentOsError, ERROR_CODES, type ErrorCode } from '../../errors/index.js';
import { type TraceSpansTable, toSpan } from '../kysely/observability-store.js';
import type {
  DailyMetricsRecord,
  EvalRunCreate,
  EvalRunFilter,
  EvalRunRecord,
  ObservabilityStore,
  RunUsageRow,
  SpanRecord,
  TraceQuery,
  TraceRecord,
  TraceSessionStats,
} from '../observability-types.js';
import type { Page } from '../types.js';
import {
  type TraceMethod,
  type TraceReply,
  type TraceRequest,
  type TraceWorkerData,
  toSpanWire,
} from './trace-protocol.js';

/** Where a store file's traces live: `agentos.db` → `agentos.traces.db`. */
export function traceFilePath(storePath: string): string {
  return storePath.endsWith('.db') ? `${storePath.slice(0, -'.db'.length)}.traces.db` : `${storePath}.traces`;
}

/**
 * Every span of a store file's trace file, in batches (for `agentos migrate --from … --to …`, whose table copy
 * only sees the store's own file). Nothing when the store has no trace file.
 */
export async function* traceFileSpans(storePath: string, batchSize = 500): AsyncGenerator<SpanRecord[]> {
  const file = traceFilePath(storePath);
  if (storePath === ':memory:' || !existsSync(file)) return;
  const database = new Database(file, { readonly: true, fileMustExist: true });
  try {
    let batch: SpanRecord[] = [];
    for (const row of database.prepare('select * from trace_spans order by trace_id, span_id').iterate()) {
      batch.push(toSpan(row as TraceSpansTable));
      if (batch.length === batchSize) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  } finally {
    database.close();
  }
}

/**
 * The ES module of `tsx/esm/api`, from tsx's own package exports: an eval'd worker resolves bare names from
 * the working directory, which may be anywhere, and `require.resolve` would give the CommonJS build.
 */
function tsxApiUrl(from: string): string {
  const manifest = createRequire(from).resolve('tsx/package.json');
  const { exports } = JSON.parse(readFileSync(manifest, 'utf8')) as {
    exports: Record<string, { import?: { default?: string } }>;
  };
  const file = exports['./esm/api']?.import?.default;
  if (!file) throw new Error('tsx/esm/api has no ES module export');
  return pathToFileURL(join(dirname(manifest), file)).href;
}

/**
 * The worker's entry beside this module: TypeScript sources (tests, `tsx`) load it through tsx's loader;
 * the CLI bundle (scripts/bundle.mjs) has it as `dist/trace-worker.mjs`, one folder above its chunks.
 */
function startWorker(data: TraceWorkerData): Worker {
  const here = import.meta.url;
  // A young generation a third of V8's default (48 MB), which would keep tens of MB resident for the thread after
  // a busy minute; but large enough that a 512-span batch dies young. At 4 MB a collection came in the middle of
  // nearly every batch and promoted it (1.3 KB per run, `--trace-gc-nvp`), and the old generation's collections
  // followed: the threads besides the event loop used 5-20 µs more CPU per run at 1,000 runs/s (bench/tracing).
  const options = { workerData: data, resourceLimits: { maxYoungGenerationSizeMb: 16 } };
  if (here.endsWith('.ts')) {
    const entry = JSON.stringify(new URL('./trace-worker.ts', here).href);
    const boot = `import(${JSON.stringify(tsxApiUrl(here))}).then((tsx) => { tsx.register(); return import(${entry}); });`;
    return new Worker(boot, { eval: true, ...options });
  }
  if (here.endsWith('.mjs')) {
    const entry = new URL(here.includes('/chunks/') ? '../trace-worker.mjs' : './trace-worker.mjs', here);
    return new Worker(entry, options);
  }
  return new Worker(new URL('./trace-worker.js', here), options);
}

/** An error as the worker reported it; agentos errors keep their code (and so their HTTP status). */
function revive(error: { name: string; message: string; code?: string | undefined }): Error {
  if (error.code && error.code in ERROR_CODES) return new AgentOsError(error.code as ErrorCode, error.message);
  const revived = new Error(error.message);
  revived.name = error.name;
  return revived;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/** Calls into the trace worker; started on the first call, restarted on the next call after it died. */
export class TraceWorkerClient {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;

  constructor(private readonly data: TraceWorkerData) {}

  call<T>(method: TraceMethod, args: unknown[]): Promise<T> {
    if (this.closed) return Promise.reject(new AgentOsError('AOS_STORE_UNAVAILABLE', 'The trace store is closed'));
    return this.send(method, args) as Promise<T>;
  }

  private send(method: TraceRequest['method'], args: unknown[]): Promise<unknown> {
    const worker = this.worker ?? this.spawn();
    const id = this.nextId++;
    // Keeps the process alive only while an answer is owed (an idle store must not hold a CLI open).
    if (this.pending.size === 0) worker.ref();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, method, args } satisfies TraceRequest);
    });
  }

  private spawn(): Worker {
    const worker = startWorker(this.data);
    worker.unref();
    worker.on('message', (reply: TraceReply) => {
      const pending = this.pending.get(reply.id);
      if (!pending) return;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) worker.unref();
      if ('error' in reply) pending.reject(revive(reply.error));
      else pending.resolve(reply.result);
    });
    const fail = (error: Error) => {
      if (this.worker === worker) this.worker = undefined;
      for (const pending of this.pending.values()) pending.reject(error);
      this.pending.clear();
    };
    worker.on('error', (error) =>
      fail(new AgentOsError('AOS_STORE_UNAVAILABLE', `The trace store failed: ${error.message}`, { cause: error })),
    );
    worker.on('exit', (code) =>
      fail(new AgentOsError('AOS_STORE_UNAVAILABLE', `The trace store's worker exited (code ${code})`)),
    );
    this.worker = worker;
    return worker;
  }

  /** Answers what was asked, closes the trace file and ends the worker. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const worker = this.worker;
    if (!worker) return;
    await this.send('close', []).catch(() => {});
    // The trace file is closed; the thread may still hold handles of its own (tsx's loader, in tests).
    await worker.terminate();
  }
}

/** Trace methods from the trace worker, the rest (metrics, evals, run usage) from the store's own file. */
export class SplitObservabilityStore implements ObservabilityStore {
  constructor(
    private readonly base: ObservabilityStore,
    private readonly traces: TraceWorkerClient,
  ) {}

  saveSpans(spans: SpanRecord[]): Promise<void> {
    if (spans.length === 0) return Promise.resolve();
    // Encoded here, on the caller's thread (see `SpanWire`); an encoding error fails the write like any other.
    try {
      return this.traces.call('saveSpans', [spans.map(toSpanWire)]);
    } catch (error) {
      return Promise.reject(error);
    }
  }
  listTraces(query: TraceQuery): Promise<Page<TraceRecord>> {
    return this.traces.call('listTraces', [query]);
  }
  getTrace(workspaceId: string, traceId: string): Promise<TraceRecord | null> {
    return this.traces.call('getTrace', [workspaceId, traceId]);
  }
  listSpans(workspaceId: string, traceId: string): Promise<SpanRecord[]> {
    return this.traces.call('listSpans', [workspaceId, traceId]);
  }
  traceSessionStats(query: TraceQuery): Promise<Page<TraceSessionStats>> {
    return this.traces.call('traceSessionStats', [query]);
  }
  runUsage(workspaceId: string | null, from: number, to: number): Promise<RunUsageRow[]> {
    return this.base.runUsage(workspaceId, from, to);
  }
  upsertDailyMetrics(workspaceId: string, date: string, data: Record<string, unknown>): Promise<DailyMetricsRecord> {
    return this.base.upsertDailyMetrics(workspaceId, date, data);
  }
  listDailyMetrics(workspaceId: string, fromDate?: string, toDate?: string): Promise<DailyMetricsRecord[]> {
    return this.base.listDailyMetrics(workspaceId, fromDate, toDate);
  }
  createEvalRun(input: EvalRunCreate): Promise<EvalRunRecord> {
    return this.base.createEvalRun(input);
  }
  getEvalRun(workspaceId: string, id: string): Promise<EvalRunRecord | null> {
    return this.base.getEvalRun(workspaceId, id);
  }
  listEvalRuns(filter: EvalRunFilter): Promise<Page<EvalRunRecord>> {
    return this.base.listEvalRuns(filter);
  }
  renameEvalRun(workspaceId: string, id: string, name: string): Promise<EvalRunRecord | null> {
    return this.base.renameEvalRun(workspaceId, id, name);
  }
  deleteEvalRuns(workspaceId: string, ids: string[]): Promise<number> {
    return this.base.deleteEvalRuns(workspaceId, ids);
  }
  async dangerouslyClearAll(): Promise<void> {
    await this.base.dangerouslyClearAll();
    await this.traces.call('dangerouslyClearAll', []);
  }
}
