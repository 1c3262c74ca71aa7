/**
 * The trace file's format for a trace's spans (migration 018): `traces.spans` is a JSON array of span tuples in
 * {@link SpanWire} order, the attributes as an object. The trace worker writes it (`trace-writer.ts`) and
 * reads it for the trace routes and `agentos migrate`.
 * @module
 */
import type Database from 'better-sqlite3';
import type { SpanRecord, SpanType, TraceStatus } from '../observability-types.js';
import type { SpanWire } from './trace-protocol.js';

/** A span tuple as `traces.spans` holds it: {@link SpanWire} with the attributes as an object. */
export type SpanTuple = [
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
export function spanJson(wire: SpanWire): string {
  const attributes = wire[11];
  const head = JSON.stringify(wire.slice(0, 11));
  return `${head.slice(0, -1)},${attributes}]`;
}

/** The spans of `traces.spans` (migration 018), or none. */
export function parseSpanList(text: string | null | undefined): SpanTuple[] {
  return text ? (JSON.parse(text) as SpanTuple[]) : [];
}

/** A span of `traces.spans` as a record. */
export function spanOfTuple(tuple: SpanTuple): SpanRecord {
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
