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
import { parentPort, workerData } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import type { Kysely } from 'kysely';
import { runMigrations } from '../kysely/migrate.js';
import { KyselyObservabilityStore } from '../kysely/observability-store.js';
import type { Database as Schema } from '../kysely/tables.js';
import * as observability from '../migrations/009-observability.js';
import * as traceSpanKeys from '../migrations/017-trace-span-keys.js';
import { runInBackground } from './background-thread.js';
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

// Span writes are background work: at the lowest priority this thread runs on cores the requests leave idle.
// Should it fall behind, spans wait in the batch processor's queue (`tracing.max_queue_size`); trace reads
// queue behind the writes, so under full load they wait too. bench/tracing, two shared cores: nice 19 took the
// overhead from 7.1 % to 4.2–5.2 % of runs/s (whole runs in the bench's old order, which read tracing about
// 3 points high), the idle class about a point more (`background-thread.ts`).
runInBackground();

const port = parentPort;
if (!port) throw new Error('trace-worker.ts runs as a worker thread');
const opened = open(workerData as TraceWorkerData);
// A failed open is answered to every request; it must not also end the thread as an unhandled rejection.
opened.catch(() => {});
// Requests run one after another: a read after a write sees it, and `close` comes last.
let queue: Promise<unknown> = Promise.resolve();

async function answer(request: TraceRequest): Promise<TraceReply> {
  try {
    const { db, store, saveSpans } = await opened;
    if (request.method === 'close') {
      await db.destroy();
      return { id: request.id, result: null };
    }
    if (request.method === 'saveSpans') {
      saveSpans(request.args[0] as SpanWire[]);
      return { id: request.id, result: null };
    }
    if (!TRACE_METHODS.includes(request.method)) throw new Error(`unknown trace method ${request.method}`);
    const method = store[request.method as TraceMethod] as (...args: unknown[]) => Promise<unknown>;
    return { id: request.id, result: await method.apply(store, request.args) };
  } catch (error) {
    const {
      name = 'Error',
      message = String(error),
      code,
    } = (error ?? {}) as {
      name?: string;
      message?: string;
      code?: unknown;
    };
    return { id: request.id, error: { name, message, code: typeof code === 'string' ? code : undefined } };
  }
}

port.on('message', (request: TraceRequest) => {
  queue = queue.then(async () => {
    port.postMessage(await answer(request));
  });
});
