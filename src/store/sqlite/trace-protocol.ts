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

/**
 * `close` closes the connection once earlier requests are answered; the store then ends the thread. `drain`
 * stores what the span ring holds (`span-ring.ts`); every other request does that first too, so a read sees
 * every span written to the ring before it was asked.
 */
export interface TraceRequest {
  id: number;
  method: TraceMethod | 'close' | 'drain';
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
  /** The span ring's memory (`createSpanRing`), shared with the store's side. */
  ring: SharedArrayBuffer;
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

/**
 * A span as one text for the span ring: its {@link SpanWire} without the attributes as a JSON array, a newline,
 * then the attributes' JSON (JSON text has no raw newline, so the first one ends the array). The attributes,
 * most of a span's bytes, are thus encoded once and never escaped into a string of the array.
 */
export function toSpanText(span: SpanRecord): string {
  const head = JSON.stringify([
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
  ]);
  return `${head}\n${encodeJson(span.attributes)}`;
}

/** The {@link SpanWire} of a {@link toSpanText} text. */
export function fromSpanText(text: string): SpanWire {
  const cut = text.indexOf('\n');
  const wire = JSON.parse(text.slice(0, cut)) as unknown[];
  wire.push(text.slice(cut + 1));
  return wire as SpanWire;
}
