/**
 * The span processor for a store with a {@link SpanStream} (the SQLite file store): each span goes to the store
 * as it ends, converted to its record at once, and the store is asked to write what it has every
 * `tracing.max_batch_size` spans or `tracing.batch_delay_ms` after the first unwritten one. It replaces the SDK's
 * batch processor for such a store (issue 10, bench/tracing/README.md): that one keeps every span object until
 * its batch of 512 is full, long enough for them to be promoted into the old generation, and then exports the
 * batch as one structured clone. Stores without a stream keep the batch processor and `StoreSpanExporter`.
 * @module
 */
import { TraceFlags } from '@opentelemetry/api';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace-node';
import type { Logger } from '../logging/logger.js';
import type { SpanStream } from '../store/observability-types.js';
import { toSpanRecord } from './store-exporter.js';

/** Read once: a CommonJS export is a getter call per use in the bundle (see recording-tracer.ts). */
const { SAMPLED } = TraceFlags;

export interface StreamSpanProcessorOptions {
  /** Spans after which the store is asked to write (`tracing.max_batch_size`). */
  batchSize: number;
  /** How long the first unwritten span waits at most (`tracing.batch_delay_ms`). */
  delayMs: number;
}

export class StreamSpanProcessor implements SpanProcessor {
  private unwritten = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly flushes = new Set<Promise<void>>();
  private dropped = 0;
  private stopped = false;

  constructor(
    private readonly stream: SpanStream,
    private readonly logger: Logger,
    private readonly options: StreamSpanProcessorOptions,
  ) {}

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    if (this.stopped || (span.spanContext().traceFlags & SAMPLED) === 0) return;
    if (!this.stream.write(toSpanRecord(span))) {
      // The store is behind (its writer runs at background priority): dropped, as the batch processor drops
      // beyond its queue, rather than held in memory without bound.
      if (this.dropped++ === 0) this.logger.warn('trace spans dropped: the trace store is behind');
      if (this.flushes.size === 0) void this.write();
      return;
    }
    if (++this.unwritten >= this.options.batchSize) void this.write();
    else if (!this.timer) {
      this.timer = setTimeout(() => void this.write(), this.options.delayMs);
      this.timer.unref();
    }
  }

  /** Asks the store to write; a failure is logged (spans are telemetry: never retried forever, as the exporter). */
  private write(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.unwritten = 0;
    const flush: Promise<void> = this.stream
      .flush()
      .then(() => {
        if (this.dropped > 0) this.logger.warn({ spans: this.dropped }, 'trace spans were dropped');
        this.dropped = 0;
      })
      .catch((error: unknown) => this.logger.warn({ err: error }, 'storing trace spans failed'))
      .finally(() => this.flushes.delete(flush));
    this.flushes.add(flush);
    return flush;
  }

  async forceFlush(): Promise<void> {
    await Promise.all([...this.flushes, this.write()]);
  }

  async shutdown(): Promise<void> {
    if (this.stopped) return;
    await this.forceFlush();
    this.stopped = true;
  }
}
