/**
 * Latency percentiles of the voice engines for `GET /api/voice/stats`, over a window of the most recent
 * samples (agtOS reports p50/p95/p99 and a count, zeros before any data).
 * @module
 */

/** Percentiles in milliseconds over the window, and how many samples were ever recorded. */
export interface LatencySummary {
  p50: number;
  p95: number;
  p99: number;
  count: number;
}

/** A bounded window of latency samples. */
export class LatencyWindow {
  private readonly samples: number[] = [];
  private recorded = 0;

  constructor(private readonly size = 1000) {}

  /** Records one duration in milliseconds. */
  record(milliseconds: number): void {
    this.samples.push(milliseconds);
    if (this.samples.length > this.size) this.samples.shift();
    this.recorded++;
  }

  /** Nearest-rank percentiles of the window. */
  summary(): LatencySummary {
    if (this.samples.length === 0) return { p50: 0, p95: 0, p99: 0, count: 0 };
    const sorted = [...this.samples].sort((left, right) => left - right);
    const at = (percentile: number) =>
      Math.round(sorted[Math.min(sorted.length - 1, Math.ceil((percentile / 100) * sorted.length) - 1)] ?? 0);
    return { p50: at(50), p95: at(95), p99: at(99), count: this.recorded };
  }
}

/** Counts events per minute over the last minute. */
export class RateCounter {
  private readonly times: number[] = [];

  constructor(private readonly now: () => number = Date.now) {}

  /** Records one event now. */
  mark(): void {
    this.times.push(this.now());
    this.prune();
  }

  /** Events in the last 60 seconds. */
  perMinute(): number {
    this.prune();
    return this.times.length;
  }

  private prune(): void {
    const cutoff = this.now() - 60_000;
    while (this.times.length > 0 && (this.times[0] ?? 0) < cutoff) this.times.shift();
  }
}
