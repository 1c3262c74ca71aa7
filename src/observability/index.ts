/**
 * Observability of one agentos process (issue 10): tracing (spans to the store, optionally OTLP),
 * Prometheus instruments, the price table, and the helpers runners call to open spans.
 *
 * Runners other than the agent loop (teams, workflows, knowledge) open their spans with
 * `observability.withSpan({ name, operation, workspaceId, attributes, parent? }, (span, ctx) => …)`
 * and hand `ctx` on: as `parent` of nested spans, as `traceParent` of agent runs they start.
 * @module
 */
import type { Context, Span } from '@opentelemetry/api';
import type { AgentOsConfig } from '../config/index.js';
import type { Logger } from '../logging/logger.js';
import type { ObservabilityStore } from '../store/observability-types.js';
import { type AgentRunInfo, AgentRunTrace } from './agent-trace.js';
import { Instruments } from './instruments.js';
import { PriceTable } from './pricing.js';
import { type SpanOptions, withSpan } from './spans.js';
import { createTracing, type Tracing } from './tracing.js';

export type { AgentRunInfo, AgentRunOutcome, RunObserver } from './agent-trace.js';
export { AgentRunTrace, runOutcome } from './agent-trace.js';
export { registerRequestMetrics } from './http-metrics.js';
export type { LatencySummary } from './instruments.js';
export { Instruments } from './instruments.js';
export { PriceTable } from './pricing.js';
export { PROMETHEUS_CONTENT_TYPE } from './prometheus.js';
export { AGENTOS as AGENTOS_ATTRIBUTES, GEN_AI } from './semconv.js';
export type { SpanOptions } from './spans.js';
export type { Tracing } from './tracing.js';

/** What services hold. */
export interface Observability {
  readonly tracing: Tracing;
  readonly instruments: Instruments;
  readonly prices: PriceTable;
  /** Opens the `invoke_agent` span of a run and returns the run's observer. */
  startAgentRun(info: AgentRunInfo): AgentRunTrace;
  /** {@link withSpan} on this process's tracer. */
  withSpan<T>(options: SpanOptions, fn: (span: Span, spanContext: Context) => Promise<T>): Promise<T>;
  /** Writes pending spans. */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

/** Options of {@link createObservability}. */
export interface CreateObservabilityOptions {
  config: Pick<AgentOsConfig, 'tracing' | 'pricing'>;
  store: ObservabilityStore;
  logger: Logger;
}

/** Builds the observability of a process. */
export async function createObservability({
  config,
  store,
  logger,
}: CreateObservabilityOptions): Promise<Observability> {
  const tracing = await createTracing({ config: config.tracing, store, logger });
  const instruments = new Instruments();
  const prices = new PriceTable(config.pricing);
  return {
    tracing,
    instruments,
    prices,
    startAgentRun: (info) => new AgentRunTrace(tracing, instruments, prices, info),
    withSpan: (options, fn) => withSpan(tracing.tracer, options, fn),
    flush: () => tracing.flush(),
    shutdown: () => tracing.shutdown(),
  };
}
