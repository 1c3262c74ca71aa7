/**
 * Messages between the store and the worker thread that owns the SQLite trace file (`trace-worker.ts`).
 * @module
 */

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
