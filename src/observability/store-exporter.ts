/**
 * The span exporter that writes finished spans to the store. It runs behind the SDK's batch
 * processor, so a request or run only queues its spans; writes happen in batches off its path.
 * @module
 */
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-node';
import type { Logger } from '../logging/logger.js';
import type { ObservabilityStore, SpanRecord, SpanType, TraceStatus } from '../store/observability-types.js';
import { hrToMs, RecordingSpan } from './recording-tracer.js';
import { AGENTOS, GEN_AI } from './semconv.js';

/** `ExportResultCode` of `@opentelemetry/core` (SUCCESS, FAILED), without depending on that package. */
const SUCCESS = 0;
const FAILED = 1;

const TYPE_OF_OPERATION: Record<string, SpanType> = {
  invoke_agent: 'AGENT',
  invoke_workflow: 'WORKFLOW',
  chat: 'LLM',
  text_completion: 'LLM',
  execute_tool: 'TOOL',
  embeddings: 'EMBEDDING',
  retrieval: 'RETRIEVAL',
};

const STATUS: Record<number, TraceStatus> = { 0: 'UNSET', 1: 'OK', 2: 'ERROR' };

/** The node type of a span: an explicit `agentos.span_type`, else its GenAI operation. */
export function spanTypeOf(attributes: Record<string, unknown>): SpanType {
  const explicit = attributes[AGENTOS.spanType];
  if (typeof explicit === 'string') return explicit as SpanType;
  const operation = attributes[GEN_AI.operationName];
  return (typeof operation === 'string' ? TYPE_OF_OPERATION[operation] : undefined) ?? 'SPAN';
}

/** Converts an SDK span to its stored form. */
export function toSpanRecord(span: ReadableSpan): SpanRecord {
  // Not copied: a span is read-only once ended, and the record is written and dropped with it.
  const attributes = span.attributes as Record<string, unknown>;
  const workspace = attributes[AGENTOS.workspaceId];
  const context = span.spanContext();
  // agentos's own spans keep epoch milliseconds; others give OTel's [seconds, nanoseconds].
  const own = span instanceof RecordingSpan;
  const startTime = own ? span.startMs : hrToMs(span.startTime);
  const endTime = own ? span.endMs : hrToMs(span.endTime);
  return {
    spanId: context.spanId,
    traceId: context.traceId,
    parentSpanId: span.parentSpanContext?.spanId ?? null,
    workspaceId: typeof workspace === 'string' ? workspace : 'default',
    name: span.name,
    spanType: spanTypeOf(attributes),
    status: STATUS[span.status.code] ?? 'UNSET',
    statusMessage: span.status.message ?? null,
    startTime,
    endTime,
    durationMs: own ? endTime - startTime : hrToMs(span.duration),
    attributes,
  };
}

/** Options of {@link StoreSpanExporter}. */
export interface StoreSpanExporterOptions {
  /**
   * With a store that queues its writes ({@link ObservabilityStore.queuesSpanWrites}): spans handed over and not yet
   * written, at most; beyond it a batch is reported exported only once written, so the batch processor's queue
   * (and its limit) takes the rest, as with any other store.
   */
  maxUnwrittenSpans?: number;
}

/** Writes spans to {@link ObservabilityStore.saveSpans}; a failed write is logged and dropped, never retried forever. */
export class StoreSpanExporter implements SpanExporter {
  private pending = new Set<Promise<void>>();
  private unwritten = 0;
  private readonly maxUnwritten: number;

  constructor(
    private readonly store: ObservabilityStore,
    private readonly logger: Logger,
    options: StoreSpanExporterOptions = {},
  ) {
    this.maxUnwritten = options.maxUnwrittenSpans ?? Number.POSITIVE_INFINITY;
  }

  export(spans: ReadableSpan[], resultCallback: (result: { code: number; error?: Error }) => void): void {
    const count = spans.length;
    const written = this.write(spans.map(toSpanRecord), count);
    // A store that queues writes has the spans once `saveSpans` returns: the batch is reported exported at once,
    // so the batch processor drops its spans now rather than when the write is done (they die young, see
    // `trace-worker.ts`) and hands over the next batch without waiting.
    if (this.store.queuesSpanWrites === true && this.unwritten + count <= this.maxUnwritten) {
      this.handOver(written, count);
      resultCallback({ code: SUCCESS });
      return;
    }
    this.track(written.then((error) => resultCallback(error ? { code: FAILED, error } : { code: SUCCESS })));
  }

  /** Writes records; resolves to the error of a failed write (logged here), or nothing. */
  private write(records: SpanRecord[], count: number): Promise<Error | undefined> {
    return this.store.saveSpans(records).then(
      () => undefined,
      (error: unknown) => {
        this.logger.warn({ err: error, spans: count }, 'storing trace spans failed');
        return error instanceof Error ? error : new Error(String(error));
      },
    );
  }

  // Apart from `export`, so that what waits for the write holds neither the spans nor the processor's callback.
  private handOver(written: Promise<unknown>, count: number): void {
    this.unwritten += count;
    this.track(
      written.then(() => {
        this.unwritten -= count;
      }),
    );
  }

  private track(settled: Promise<void>): void {
    const tracked = settled.finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
  }

  /** Resolves once every batch handed to the store is written (or failed). */
  async forceFlush(): Promise<void> {
    await Promise.all([...this.pending]);
  }

  async shutdown(): Promise<void> {
    await this.forceFlush();
  }
}
