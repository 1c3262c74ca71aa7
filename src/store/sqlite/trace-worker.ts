/**
 * The worker thread that owns a SQLite store's trace file (issue 10). Writing spans cost the event loop
 * about a tenth of a blocking run (bench/tracing: B-tree inserts, WAL frames, checkpoints), although
 * nothing waits for them; here they run on another thread, in a file of their own, so they never hold
 * the write lock the runs' transactions need (SQLite's busy wait would stall the event loop). The store
 * talks to it through `trace-client.ts`; requests are answered in order.
 *
 * The trace file takes the observability migrations of the main schema (its trace tables; the metrics and
 * eval tables it also creates stay empty), so both places share one schema and one store implementation.
 * @module
 */
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import type { Kysely } from 'kysely';
import { runMigrations } from '../kysely/migrate.js';
import { KyselyObservabilityStore } from '../kysely/observability-store.js';
import type { Database as Schema } from '../kysely/tables.js';
import * as observability from '../migrations/009-observability.js';
import * as traceSpanKeys from '../migrations/017-trace-span-keys.js';
import { openSqlite } from './open.js';
import {
  type SpanWire,
  TRACE_METHODS,
  type TraceMethod,
  type TraceReply,
  type TraceRequest,
  type TraceWorkerData,
} from './trace-protocol.js';
import { createSpanWriter, SPAN_COLUMNS, TRACE_FILE_PAGE_SIZE } from './trace-writer.js';

const TRACE_FILE_MIGRATIONS = { '009-observability': observability, '017-trace-span-keys': traceSpanKeys };

const columns = SPAN_COLUMNS.join(', ');

/** Copies the traces a store file held before traces moved to their own file (once, when the file is new). */
function importTraces(database: Database.Database, from: string): void {
  database.prepare('attach database ? as previous').run(from);
  try {
    const tables = database
      .prepare(
        "select count(*) as n from previous.sqlite_master where type = 'table' and name in ('traces', 'trace_spans')",
      )
      .get() as { n: number };
    if (tables.n < 2) return;
    database.transaction(() => {
      database
        .prepare(`insert or ignore into trace_spans (${columns}) select ${columns} from previous.trace_spans`)
        .run();
      // Both tables come from the same migration, so the columns line up.
      database.prepare('insert or ignore into traces select * from previous.traces').run();
    })();
  } finally {
    database.prepare('detach database previous').run();
  }
}

async function open(data: TraceWorkerData) {
  // 16 KB pages: rows append to the last page of each B-tree, and a larger page splits and is written back
  // a quarter as often; the writer's CPU per trace 15.9 → 13.8 µs (bench/tracing/writer.ts). Applies to new files.
  const { database, db } = openSqlite<Schema>(data.path, {
    busyTimeoutMs: data.busyTimeoutMs,
    pageSize: TRACE_FILE_PAGE_SIZE,
  });
  const migrated = await runMigrations(db as Kysely<unknown>, TRACE_FILE_MIGRATIONS);
  if (data.importFrom && migrated.applied.includes('009-observability')) importTraces(database, data.importFrom);
  return { db, store: new KyselyObservabilityStore(db, Date.now), saveSpans: createSpanWriter(database, Date.now) };
}

// Span writes are background work: at the lowest priority this thread runs on cores the requests leave idle
// (Linux applies `setpriority` on pid 0 to the calling thread only; elsewhere it may lower the whole process,
// so it is left alone there). Should it fall behind, spans wait in the batch processor's queue
// (`tracing.max_queue_size`). bench/tracing: overhead 7.1 % → 4.2–5.2 % of runs/s on two shared cores.
if (process.platform === 'linux') {
  try {
    setPriority(19);
  } catch {
    // Not permitted (some containers): normal priority.
  }
}

const port = parentPort;
if (!port) throw new Error('trace-worker.ts runs as a worker thread');
const opened = open(workerData as TraceWorkerData);
// A failed open is answered to every request; it must not also end the thread as an unhandled rejection.
opened.catch(() => {});
// Requests run one after another: a read after a write sees it, and `close` comes last.
let queue: Promise<unknown> = Promise.resolve();

/**
 * Span writes wait here to be written together. The store hands spans over in small batches so that the event
 * loop drops them young (`StoreSpanExporter`, `tracing.ts`: a 512-span batch held in the main heap until written
 * was promoted by its scavenges, 7 KB per run at 1,000 runs/s, `--trace-gc-nvp`); the worker still writes them a
 * few hundred per transaction, since each commit costs about as much as sixty span rows (bench/tracing/writer.ts:
 * 17.6 µs per trace at 64 spans per transaction, 13.4 at 512). A write is answered once written; any other request
 * writes what waits first, so it sees every write sent before it.
 */
const waiting: { ids: number[]; batches: SpanWire[][]; spans: number } = { ids: [], batches: [], spans: 0 };
let writeTimer: NodeJS.Timeout | undefined;

/** Spans that are written at once rather than after {@link WRITE_DELAY_MS}. */
const WRITE_SPANS = 512;
/** How long received spans may wait for more; at 1,000 runs/s (2,000 spans/s) a transaction of 512 fills sooner. */
const WRITE_DELAY_MS = 250;

function errorOf(error: unknown): Extract<TraceReply, { error: unknown }>['error'] {
  const {
    name = 'Error',
    message = String(error),
    code,
  } = (error ?? {}) as {
    name?: string;
    message?: string;
    code?: unknown;
  };
  return { name, message, code: typeof code === 'string' ? code : undefined };
}

/** Writes the waiting spans in one transaction and answers their requests. */
function writeWaiting(saveSpans: (spans: SpanWire[]) => void): void {
  clearTimeout(writeTimer);
  writeTimer = undefined;
  const { ids, batches } = waiting;
  if (ids.length === 0) return;
  waiting.ids = [];
  waiting.batches = [];
  waiting.spans = 0;
  try {
    saveSpans(batches.length === 1 ? (batches[0] as SpanWire[]) : batches.flat());
    for (const id of ids) port?.postMessage({ id, result: null } satisfies TraceReply);
  } catch {
    // One request's batch must not fail the others': each is written again on its own, and answered for itself.
    ids.forEach((id, index) => {
      try {
        saveSpans(batches[index] as SpanWire[]);
        port?.postMessage({ id, result: null } satisfies TraceReply);
      } catch (error) {
        port?.postMessage({ id, error: errorOf(error) } satisfies TraceReply);
      }
    });
  }
}

/** Takes a write: written now when enough spans wait, else within {@link WRITE_DELAY_MS}. */
async function receiveSpans(request: TraceRequest): Promise<void> {
  let saveSpans: (spans: SpanWire[]) => void;
  try {
    ({ saveSpans } = await opened);
  } catch (error) {
    port?.postMessage({ id: request.id, error: errorOf(error) } satisfies TraceReply);
    return;
  }
  const spans = request.args[0] as SpanWire[];
  waiting.ids.push(request.id);
  waiting.batches.push(spans);
  waiting.spans += spans.length;
  if (waiting.spans >= WRITE_SPANS) writeWaiting(saveSpans);
  else {
    writeTimer ??= setTimeout(() => {
      queue = queue.then(() => writeWaiting(saveSpans));
    }, WRITE_DELAY_MS);
  }
}

async function answer(request: TraceRequest): Promise<TraceReply> {
  try {
    const { db, store, saveSpans } = await opened;
    writeWaiting(saveSpans);
    if (request.method === 'close') {
      await db.destroy();
      return { id: request.id, result: null };
    }
    if (!TRACE_METHODS.includes(request.method)) throw new Error(`unknown trace method ${request.method}`);
    const method = store[request.method as TraceMethod] as (...args: unknown[]) => Promise<unknown>;
    return { id: request.id, result: await method.apply(store, request.args) };
  } catch (error) {
    return { id: request.id, error: errorOf(error) };
  }
}

port.on('message', (request: TraceRequest) => {
  queue = queue.then(async () => {
    if (request.method === 'saveSpans') await receiveSpans(request);
    else port.postMessage(await answer(request));
  });
});
