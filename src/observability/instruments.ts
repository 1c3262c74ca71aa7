/**
 * The Prometheus metrics agentos exports (seed 000's `api_request_duration_ms` and
 * `function_error_total`, plus runs, tokens, cost, active runs and streams, rate-limit refusals)
 * and the recent request latencies behind `/health/metrics`' percentiles.
 * @module
 */
import { type Counter, type Gauge, type Histogram, MetricsRegistry } from './prometheus.js';

/** Request-duration buckets in milliseconds. */
const DURATION_BUCKETS_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000];
/** How many recent request durations the percentiles are computed over. */
const RECENT_WINDOW = 2048;

/** The instruments runs feed. */
export interface RunInstruments {
  runs: Counter;
  tokens: Counter;
  cost: Counter;
  functionErrors: Counter;
  activeRuns: Gauge;
}

/** Latency percentiles in milliseconds (0 before any request). */
export interface LatencySummary {
  p50: number;
  p95: number;
  p99: number;
  count: number;
}

/** Nearest-rank percentile of an ascending list. */
function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

/** All metrics of one process. */
export class Instruments implements RunInstruments {
  readonly registry = new MetricsRegistry();
  readonly requestDuration: Histogram;
  readonly requests: Counter;
  readonly functionErrors: Counter;
  readonly runs: Counter;
  readonly tokens: Counter;
  readonly cost: Counter;
  readonly activeRuns: Gauge;
  readonly activeStreams: Gauge;
  readonly rateLimitHits: Counter;
  private readonly recent: number[] = [];
  private recentNext = 0;
  private totalCount = 0;
  private errorCount = 0;
  private readonly startedAt = Date.now();

  constructor() {
    const r = this.registry;
    this.requestDuration = r.histogram(
      'api_request_duration_ms',
      'HTTP request duration in milliseconds by route, method and status.',
      ['route', 'method', 'status'],
      DURATION_BUCKETS_MS,
    );
    this.requests = r.counter('agentos_http_requests_total', 'HTTP requests by method and status class.', [
      'method',
      'status',
    ]);
    this.functionErrors = r.counter('function_error_total', 'Failed tool (function) calls by tool and error type.', [
      'function_id',
      'error_type',
    ]);
    this.runs = r.counter('agentos_runs_total', 'Finished runs by component type and final status.', [
      'component_type',
      'status',
    ]);
    this.tokens = r.counter('agentos_tokens_total', 'Model tokens by model and direction (input, output).', [
      'model',
      'type',
    ]);
    this.cost = r.counter('agentos_cost_usd_total', 'Estimated model cost in USD by model (pricing table).', ['model']);
    this.activeRuns = r.gauge('agentos_active_runs', 'Runs executing in this process.');
    this.activeStreams = r.gauge('agentos_active_streams', 'Open streaming responses (SSE).');
    this.rateLimitHits = r.counter('agentos_rate_limit_hits_total', 'Requests refused with 429 by route.', ['route']);
  }

  /** Records one finished request. */
  observeRequest(route: string, method: string, status: number, durationMs: number): void {
    this.requestDuration.observe({ route, method, status: String(status) }, durationMs);
    this.requests.inc({ method, status: String(status) });
    if (status === 429) this.rateLimitHits.inc({ route });
    this.totalCount += 1;
    if (status >= 500) this.errorCount += 1;
    if (this.recent.length < RECENT_WINDOW) this.recent.push(durationMs);
    else this.recent[this.recentNext] = durationMs;
    this.recentNext = (this.recentNext + 1) % RECENT_WINDOW;
  }

  /** Requests answered since start. */
  totalRequests(): number {
    return this.totalCount;
  }

  /** Requests answered with a 5xx since start. */
  errorRequests(): number {
    return this.errorCount;
  }

  /** p50/p95/p99 of the most recent requests. */
  latency(): LatencySummary {
    const sorted = [...this.recent].sort((a, b) => a - b);
    return {
      p50: percentile(sorted, 50),
      p95: percentile(sorted, 95),
      p99: percentile(sorted, 99),
      count: sorted.length,
    };
  }

  /** Seconds since these instruments were created (process start, in practice). */
  uptimeSeconds(): number {
    return Math.round((Date.now() - this.startedAt) / 1000);
  }
}
