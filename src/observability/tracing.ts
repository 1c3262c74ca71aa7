/**
 * Tracing setup: one tracer per {@link Observability} (agentos's {@link RecordingTracer}, never a global
 * provider, so two apps in one process keep their traces apart), spans batched to the store by the SDK's
 * batch processor, optionally also to an OTLP collector. Parent spans are passed explicitly (`withSpan`'s
 * context, `traceParent` of a run); `tracing.propagate_context` also installs OTel's process-wide
 * AsyncLocalStorage context manager, which nests spans of libraries that use the active context, at a CPU
 * cost on Node 20.
 * @module
 */
import { randomFillSync } from 'node:crypto';
import { context, type Tracer, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  type IdGenerator,
  type SpanProcessor,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-node';
import type { TracingConfig } from '../config/observability-schema.js';
import type { Logger } from '../logging/logger.js';
import type { ObservabilityStore } from '../store/observability-types.js';
import { VERSION } from '../version.js';
import { OtlpJsonExporter } from './otlp-exporter.js';
import { RecordingTracer } from './recording-tracer.js';
import { AGENTOS } from './semconv.js';
import { StoreSpanExporter } from './store-exporter.js';

/** What the rest of agentos sees of tracing. */
export interface Tracing {
  readonly enabled: boolean;
  /** Prompts, replies and tool arguments may be recorded (`tracing.capture_content`). */
  readonly captureContent: boolean;
  readonly tracer: Tracer;
  /** Writes every finished span now (routes call it before reading traces). */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

/** Keys every span copies from its parent, so the store can file child spans under the right tenant and run. */
const INHERITED = [AGENTOS.workspaceId] as const;

/**
 * Random bits drawn from the OS in blocks (as `src/runtime/ids.ts`) and turned into hex a block at a time; an id
 * is a slice of that text. A `Buffer#toString('hex')` per id is a call into C++ for 16 or 24 characters: up to
 * 2.8 µs per run for a run's three ids in a loaded server's profile (bench/tracing/README.md, which says why the
 * profiler overstates native calls), where a slice stays in JavaScript.
 */
const pool = Buffer.allocUnsafe(8 * 512);
let hex = '';
let used = 0;

function randomHex(bytes: number): string {
  const chars = bytes * 2;
  if (used + chars > hex.length) {
    randomFillSync(pool);
    hex = pool.toString('hex');
    used = 0;
  }
  used += chars;
  return hex.slice(used - chars, used);
}

/**
 * Trace ids that start with the time (epoch seconds, as AWS X-Ray's ids do) and end in 96 random bits.
 * The store keys traces and spans by trace id: random ids would put each run's rows on a random page of
 * those B-trees, so every batch rewrote a page per run (most of the export's cost); ordered ids append
 * to the last pages. Span ids stay random (64 bits, never all zero: OTel's invalid id).
 */
export class TimeOrderedIdGenerator implements IdGenerator {
  generateTraceId(): string {
    const seconds = Math.floor(Date.now() / 1000) >>> 0;
    return seconds.toString(16).padStart(8, '0') + randomHex(12);
  }

  generateSpanId(): string {
    let id = randomHex(8);
    while (id === '0000000000000000') id = randomHex(8);
    return id;
  }
}

let contextManagerInstalled = false;

/** Installs the AsyncLocalStorage context manager once per process (OTel allows only one). */
async function installContextManager(): Promise<void> {
  if (contextManagerInstalled) return;
  // `false` means another library installed one first, which propagates context just as well.
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  contextManagerInstalled = true;
}

/** Options of {@link createTracing}. */
export interface CreateTracingOptions {
  config: TracingConfig;
  store: ObservabilityStore;
  logger: Logger;
}

/**
 * Builds tracing from `tracing:`; disabled tracing hands out a no-op tracer (spans cost nothing). Imported
 * statically: the bundle (scripts/bundle.mjs) loses the SDK's CommonJS named exports behind a dynamic import.
 */
export async function createTracing({ config, store, logger }: CreateTracingOptions): Promise<Tracing> {
  if (!config.enabled) {
    return {
      enabled: false,
      captureContent: false,
      // The API's tracer when no provider is registered: every span is a no-op.
      tracer: trace.getTracerProvider().getTracer('agentos'),
      flush: async () => {},
      shutdown: async () => {},
    };
  }
  // Opt-in: on Node 20 an AsyncLocalStorage context manager slows every promise of the process
  // (bench/tracing measured ~30 % more CPU per run); parents are passed explicitly instead.
  if (config.propagate_context) await installContextManager();
  const batch = {
    scheduledDelayMillis: config.batch_delay_ms,
    maxExportBatchSize: config.max_batch_size,
    maxQueueSize: Math.max(config.max_queue_size, config.max_batch_size),
  };
  const processors: SpanProcessor[] = [new BatchSpanProcessor(new StoreSpanExporter(store, logger), batch)];
  if (config.otlp) {
    processors.push(new BatchSpanProcessor(new OtlpJsonExporter(config.otlp, logger), batch));
  }
  const tracer = new RecordingTracer({
    processors,
    idGenerator: new TimeOrderedIdGenerator(),
    // Every trace unless a share is set; children follow their trace's decision (the SDK's ParentBasedSampler).
    rootSampler: config.sample_rate < 1 ? new TraceIdRatioBasedSampler(config.sample_rate) : undefined,
    resource: resourceFromAttributes({ 'service.name': 'agentos', 'service.version': VERSION }),
    instrumentationScope: { name: 'agentos', version: VERSION },
    inherited: INHERITED,
  });
  return {
    enabled: true,
    captureContent: config.capture_content,
    tracer,
    flush: async () => {
      await Promise.all(processors.map((processor) => processor.forceFlush()));
    },
    shutdown: async () => {
      await Promise.all(processors.map((processor) => processor.shutdown()));
    },
  };
}
