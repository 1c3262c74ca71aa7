/**
 * Messages between the store and the worker thread that owns the SQLite trace file (`trace-worker.ts`).
 * @module
 */
import { encodeJson } from '../kysely/json-codec.js';
import type { SpanRecord, SpanType, TraceStatus } from '../observability-types.js';

/** The {@link ObservabilityStore} methods the trace file serves. */
export const TRACE_METHODS = [
  'saveSpans',
  'listTraces',
  'getTrace',
  'listSpans',
  'traceSessionStats',
  'dangerouslyClearAll',
] as const;

export type TraceMethod = (typeof TRACE_METHODS)[number];

/** `close` closes the connection once earlier requests are answered; the store then ends the thread. */
export interface TraceRequest {
  id: number;
  method: TraceMethod | 'close';
  args: unknown[];
}

export type TraceReply =
  | { id: number; result: unknown }
  | { id: number; error: { name: string; message: string; code?: string | undefined } };

/** What the worker is started with. */
export interface TraceWorkerData {
  /** The trace file. */
  path: string;
  busyTimeoutMs: number;
  /** The store's own file: traces it holds (written before traces had a file of their own) are copied once. */
  importFrom?: string | undefined;
}

/**
 * A span as the store hands it to the trace worker: its `trace_spans` row in column order (`SPAN_COLUMNS` of
 * `trace-writer.ts`), with times not yet rounded and the attributes already JSON. The worker stores that text as
 * it came and parses it for one span per trace (the summary's), where span records with attribute objects cost
 * it a deserialised object per attribute set and a `JSON.stringify` per span: about 3 µs of the worker's CPU per
 * trace, a fifth of its work on a batch (bench/tracing/writer.ts). The sender's cost is about the same either
 * way: it encodes the attributes once as JSON instead of walking them for the structured clone.
 */
export type SpanWire = [
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
  attributes: string,
];

/** A span record as {@link SpanWire}. */
export function toSpanWire(span: SpanRecord): SpanWire {
  return [
    span.spanId,
    span.traceId,
    span.parentSpanId,
    span.workspaceId,
    span.name,
    span.spanType,
    span.status,
    span.statusMessage,
    span.startTime,
    span.endTime,
    span.durationMs,
    encodeJson(span.attributes),
  ];
}
