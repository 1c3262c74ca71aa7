/**
 * How the trace worker stores spans: `saveSpans` of the Kysely observability store (same summaries,
 * `summarise` is shared) as prepared better-sqlite3 statements in one synchronous transaction. The trace
 * file keeps a trace's spans in its summary row (`traces.spans`, migration 018), not a row per span.
 * Kysely compiled each batch into multi-row inserts of hundreds of nodes, most of the worker's CPU per
 * span; its thread shares the machine's cores with the requests (bench/tracing), and the worker only ever
 * talks SQLite.
 * @module
 */
import type Database from 'better-sqlite3';
import { decodeJson } from '../kysely/json-codec.js';
import { type SummarySpan, summarise, TRACE_COLUMNS, type TraceSpansTable } from '../kysely/observability-store.js';
import * as observability from '../migrations/009-observability.js';
import * as traceSpanKeys from '../migrations/017-trace-span-keys.js';
import * as traceSpanLists from '../migrations/018-trace-span-lists.js';
import type { SpanRecord, SpanType, TraceStatus } from '../observability-types.js';
import type { SpanWire } from './trace-protocol.js';

/**
 * The trace file's migrations: the main schema's observability tables (so the Kysely store serves its reads),
 * then its own format for spans (018, which the main schema does not take).
 */
export const TRACE_FILE_MIGRATIONS = {
  '009-observability': observability,
  '017-trace-span-keys': traceSpanKeys,
  '018-trace-span-lists': traceSpanLists,
};

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

// Positional parameters: better-sqlite3 binds an array by index, an object by a property lookup per
// column; with positions the worker writes a trace about 5 % faster (bench/tracing/writer.ts).
const placeholders = (columns: readonly string[]) => columns.map(() => '?').join(', ');

/** A span of the batch: what the summary reads, with the attributes as sent (JSON). */
interface BatchSpan extends SummarySpan {
  attributesJson: string;
}

const attributesOf = (span: BatchSpan) => decodeJson<Record<string, unknown>>(span.attributesJson, {});

function fromWire(wire: SpanWire): BatchSpan {
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

/** A span tuple as `traces.spans` holds it: {@link SpanWire} with the attributes as an object. */
type StoredTuple = [
  spanId: string,
  traceId: string,
  parentSpanId: string | null,
  workspaceId: string,
  name: string,
  spanType: SpanType,
  status: TraceStatus,
  statusMessage: string | null,
  startTime: number,
  endTime: number,
  durationMs: number,
  attributes: Record<string, unknown>,
];

/** The JSON of one span in `traces.spans`: its row tuple, the attributes' JSON (as sent) embedded as they are. */
function spanJson(wire: SpanWire): string {
  const attributes = wire[11];
  const head = JSON.stringify(wire.slice(0, 11));
  return `${head.slice(0, -1)},${attributes}]`;
}

/** The spans of `traces.spans` (migration 018), or none. */
export function parseSpanList(text: string | null | undefined): StoredTuple[] {
  return text ? (JSON.parse(text) as StoredTuple[]) : [];
}

/** A span of `traces.spans` as a record. */
export function spanOfTuple(tuple: StoredTuple): SpanRecord {
  return {
    spanId: tuple[0],
    traceId: tuple[1],
    parentSpanId: tuple[2],
    workspaceId: tuple[3],
    name: tuple[4],
    spanType: tuple[5],
    status: tuple[6],
    statusMessage: tuple[7],
    startTime: tuple[8],
    endTime: tuple[9],
    durationMs: tuple[10],
    attributes: tuple[11],
  };
}

/**
 * Spans in the order the trace routes list them: by start; stored times are whole milliseconds, so of two
 * spans started in the same one, the one that ended first (a quick tool call before the next model call).
 */
export function byStart(a: SpanRecord, b: SpanRecord): number {
  return a.startTime - b.startTime || a.endTime - b.endTime || (a.spanId < b.spanId ? -1 : a.spanId > b.spanId ? 1 : 0);
}

/** `listSpans` of the trace file: the spans of one trace in the workspace, from its summary row. */
export function createSpanReader(database: Database.Database): (workspaceId: string, traceId: string) => SpanRecord[] {
  const spansOf = database.prepare('select spans from traces where workspace_id = ? and trace_id = ?').pluck();
  return (workspaceId, traceId) =>
    parseSpanList(spansOf.get(workspaceId, traceId) as string | null | undefined)
      .map(spanOfTuple)
      .sort(byStart);
}

/** Returns `saveSpans` over `database` (whose schema the trace file's migrations made), for spans as the store sends them. */
export function createSpanWriter(database: Database.Database, now: () => number): (spans: SpanWire[]) => void {
  const insertTrace = database.prepare(
    `insert into traces (${TRACE_COLUMNS.join(', ')}, spans) values (${placeholders(TRACE_COLUMNS)}, ?) on conflict (trace_id) do nothing`,
  );
  const storedSpans = database.prepare('select spans from traces where trace_id = ?').pluck();
  // A trace keeps the time its summary was first written (`created_at`), as the Kysely upsert does.
  const updateTrace = database.prepare(
    `update traces set ${TRACE_COLUMNS.filter((column) => column !== 'trace_id' && column !== 'created_at')
      .map((column) => `${column} = ?`)
      .join(', ')}, spans = ? where trace_id = ?`,
  );
  return database.transaction((spans: SpanWire[]) => {
    const byTrace = new Map<string, { spans: BatchSpan[]; json: string[] }>();
    for (const wire of spans) {
      const span = fromWire(wire);
      // The stored span: times widened outwards to whole ms, as `spanRow` stores them (the summary keeps
      // them exact, as the Kysely store's does).
      wire[8] = Math.floor(wire[8]);
      wire[9] = Math.ceil(wire[9]);
      const list = byTrace.get(span.traceId);
      if (list) {
        list.spans.push(span);
        list.json.push(spanJson(wire));
      } else byTrace.set(span.traceId, { spans: [span], json: [spanJson(wire)] });
    }
    const at = now();
    for (const [traceId, batch] of byTrace) {
      const summary = summarise(batch.spans, at, attributesOf);
      if (!summary) continue;
      // Most traces are new: their summary and spans are one insert (no lookup first). One with spans from an
      // earlier batch is merged with them (a span stored before is kept, as a retried batch must change
      // nothing) and summarised again over all of them.
      const values: unknown[] = TRACE_COLUMNS.map((column) => summary[column]);
      values.push(`[${batch.json.join(',')}]`);
      if (insertTrace.run(values).changes > 0) continue;
      const stored = parseSpanList(storedSpans.get(traceId) as string | null);
      const all = [...stored];
      const known = new Set(stored.map((tuple) => tuple[0]));
      for (const json of batch.json) {
        const tuple = JSON.parse(json) as StoredTuple;
        if (known.has(tuple[0])) continue;
        known.add(tuple[0]);
        all.push(tuple);
      }
      if (all.length === stored.length) continue;
      const whole = summarise(all.map(spanOfTuple), at, (span) => span.attributes);
      if (!whole) continue;
      const update: unknown[] = TRACE_COLUMNS.filter((column) => column !== 'trace_id' && column !== 'created_at').map(
        (column) => whole[column],
      );
      update.push(JSON.stringify(all), traceId);
      updateTrace.run(update);
    }
  });
}
