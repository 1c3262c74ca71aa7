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

/** Writes spans to {@link ObservabilityStore.saveSpans}; a failed write is logged and dropped, never retried forever. */
export class StoreSpanExporter implements SpanExporter {
  private pending = new Set<Promise<void>>();

  constructor(
    private readonly store: ObservabilityStore,
    private readonly logger: Logger,
  ) {}

  export(spans: ReadableSpan[], resultCallback: (result: { code: number; error?: Error }) => void): void {
    const write = this.store
      .saveSpans(spans.map(toSpanRecord))
      .then(
        () => resultCallback({ code: SUCCESS }),
        (error: unknown) => {
          this.logger.warn({ err: error, spans: spans.length }, 'storing trace spans failed');
          resultCallback({ code: FAILED, error: error instanceof Error ? error : new Error(String(error)) });
        },
      )
      .finally(() => this.pending.delete(write));
    this.pending.add(write);
  }

  async forceFlush(): Promise<void> {
    await Promise.all([...this.pending]);
  }

  async shutdown(): Promise<void> {
    await this.forceFlush();
  }
}
