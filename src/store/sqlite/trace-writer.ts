/**
 * How the trace worker stores spans: `saveSpans` of the Kysely observability store (same rows, same
 * summaries, `summarise` is shared) as prepared better-sqlite3 statements in one synchronous transaction.
 * Kysely compiled each batch into multi-row inserts of hundreds of nodes, most of the worker's CPU per
 * span; its thread shares the machine's cores with the requests (bench/tracing), and the worker only ever
 * talks SQLite.
 * @module
 */
import type Database from 'better-sqlite3';
import { decodeJson } from '../kysely/json-codec.js';
import {
  type SummarySpan,
  spanFieldsOf,
  summarise,
  type TraceSpansTable,
  type TracesTable,
} from '../kysely/observability-store.js';
import type { SpanWire } from './trace-protocol.js';

/** Page size of a new trace file, in bytes (SQLite's default is 4096; see `trace-worker.ts`). */
export const TRACE_FILE_PAGE_SIZE = 16_384;

/** The columns of `trace_spans`, in the order of {@link SpanWire}. */
export const SPAN_COLUMNS = [
  'span_id',
  'trace_id',
  'parent_span_id',
  'workspace_id',
  'name',
  'span_type',
  'status',
  'status_message',
  'start_time',
  'end_time',
  'duration_ms',
  'attributes',
] as const satisfies readonly (keyof TraceSpansTable)[];

const TRACE_COLUMNS = [
  'trace_id',
  'workspace_id',
  'name',
  'status',
  'start_time',
  'end_time',
  'duration_ms',
  'total_spans',
  'error_count',
  'input',
  'output',
  'error',
  'run_id',
  'session_id',
  'user_id',
  'agent_id',
  'team_id',
  'workflow_id',
  'created_at',
] as const satisfies readonly (keyof TracesTable)[];

// Positional parameters: better-sqlite3 binds an array by index, an object by a property lookup per
// column; with positions the worker writes a trace about 5 % faster (bench/tracing/writer.ts).
const placeholders = (columns: readonly string[]) => columns.map(() => '?').join(', ');

/** A span of the batch, or one stored before: what the summary reads, with the attributes as stored (JSON). */
interface StoredSpan extends SummarySpan {
  attributesJson: string;
}

const attributesOf = (span: StoredSpan) => decodeJson<Record<string, unknown>>(span.attributesJson, {});

function fromWire(wire: SpanWire): StoredSpan {
  return {
    spanId: wire[0],
    traceId: wire[1],
    parentSpanId: wire[2],
    workspaceId: wire[3],
    name: wire[4],
    status: wire[6],
    statusMessage: wire[7],
    startTime: wire[8],
    endTime: wire[9],
    durationMs: wire[10],
    attributesJson: wire[11],
  };
}

function fromRow(row: TraceSpansTable): StoredSpan {
  return { ...spanFieldsOf(row), attributesJson: row.attributes as string };
}

/** Returns `saveSpans` over `database` (whose schema the observability migrations made), for spans as the store sends them. */
export function createSpanWriter(database: Database.Database, now: () => number): (spans: SpanWire[]) => void {
  const insertSpan = database.prepare(
    `insert into trace_spans (${SPAN_COLUMNS.join(', ')}) values (${placeholders(SPAN_COLUMNS)}) ` +
      'on conflict (trace_id, span_id) do nothing',
  );
  const storedSpans = database.prepare('select * from trace_spans where trace_id = ?');
  const insertTrace = database.prepare(
    `insert into traces (${TRACE_COLUMNS.join(', ')}) values (${placeholders(TRACE_COLUMNS)}) on conflict (trace_id) do nothing`,
  );
  // A trace keeps the time its summary was first written (`created_at`), as the Kysely upsert does.
  const upsertTrace = database.prepare(
    `insert into traces (${TRACE_COLUMNS.join(', ')}) values (${placeholders(TRACE_COLUMNS)}) on conflict (trace_id) do update set ` +
      TRACE_COLUMNS.filter((column) => column !== 'trace_id' && column !== 'created_at')
        .map((column) => `${column} = excluded.${column}`)
        .join(', '),
  );
  return database.transaction((spans: SpanWire[]) => {
    const byTrace = new Map<string, StoredSpan[]>();
    for (const wire of spans) {
      const span = fromWire(wire);
      // The wire is the row: times widened outwards to whole ms, as `spanRow` stores them (the summary keeps
      // them exact, as the Kysely store's does).
      wire[8] = Math.floor(wire[8]);
      wire[9] = Math.ceil(wire[9]);
      insertSpan.run(wire);
      const list = byTrace.get(span.traceId);
      if (list) list.push(span);
      else byTrace.set(span.traceId, [span]);
    }
    const at = now();
    for (const [traceId, batch] of byTrace) {
      const summary = summarise(batch, at, attributesOf);
      // Most traces are new: their summary is one insert (no lookup first, about 1 µs of the worker's CPU per
      // trace in writer.ts). One with spans from an earlier batch is summarised again over all of them.
      if (!summary || insertTrace.run(TRACE_COLUMNS.map((column) => summary[column])).changes > 0) continue;
      const all = (storedSpans.all(traceId) as TraceSpansTable[]).map((row) => fromRow(row));
      const whole = summarise(all, at, attributesOf);
      if (whole) upsertTrace.run(TRACE_COLUMNS.map((column) => whole[column]));
    }
  });
}
