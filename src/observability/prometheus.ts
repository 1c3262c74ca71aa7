/**
 * A small metrics registry with Prometheus text exposition (format 0.0.4): counters, gauges
 * (set, or read when scraped) and cumulative histograms, each with fixed label names. One registry
 * per {@link Observability}, so parallel apps in one process (tests) never share counts.
 * @module
 */

type Labels = Record<string, string>;

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labelText(names: readonly string[], values: readonly string[], extra?: [string, string]): string {
  const pairs = names.map((name, index) => `${name}="${escapeLabel(values[index] ?? '')}"`);
  if (extra) pairs.push(`${extra[0]}="${escapeLabel(extra[1])}"`);
  return pairs.length === 0 ? '' : `{${pairs.join(',')}}`;
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

abstract class Metric {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {}

  protected key(labels: Labels): string[] {
    return this.labelNames.map((name) => labels[name] ?? '');
  }

  abstract expose(): string[];

  protected header(type: string): string[] {
    return [`# HELP ${this.name} ${this.help.replace(/\n/g, ' ')}`, `# TYPE ${this.name} ${type}`];
  }
}

/** A monotonically increasing count. */
export class Counter extends Metric {
  private readonly values = new Map<string, { labels: string[]; value: number }>();

  inc(labels: Labels = {}, by = 1): void {
    const values = this.key(labels);
    const id = values.join('\u0000');
    const entry = this.values.get(id);
    if (entry) entry.value += by;
    else this.values.set(id, { labels: values, value: by });
  }

  /** The current count of one label set (tests, `/health/metrics`). */
  get(labels: Labels = {}): number {
    return this.values.get(this.key(labels).join('\u0000'))?.value ?? 0;
  }

  expose(): string[] {
    const lines = this.header('counter');
    for (const { labels, value } of this.values.values()) {
      lines.push(`${this.name}${labelText(this.labelNames, labels)} ${formatValue(value)}`);
    }
    return lines;
  }
}

/** A value that goes up and down; `collect` (when given) reads it at scrape time. */
export class Gauge extends Metric {
  private readonly values = new Map<string, { labels: string[]; value: number }>();

  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    private readonly collect?: () => Array<{ labels?: Labels; value: number }>,
  ) {
    super(name, help, labelNames);
  }

  set(labels: Labels, value: number): void {
    const values = this.key(labels);
    this.values.set(values.join('\u0000'), { labels: values, value });
  }

  inc(labels: Labels = {}, by = 1): void {
    const values = this.key(labels);
    const id = values.join('\u0000');
    const current = this.values.get(id)?.value ?? 0;
    this.values.set(id, { labels: values, value: current + by });
  }

  dec(labels: Labels = {}, by = 1): void {
    this.inc(labels, -by);
  }

  expose(): string[] {
    if (this.collect) for (const sample of this.collect()) this.set(sample.labels ?? {}, sample.value);
    const lines = this.header('gauge');
    for (const { labels, value } of this.values.values()) {
      lines.push(`${this.name}${labelText(this.labelNames, labels)} ${formatValue(value)}`);
    }
    return lines;
  }
}

/** Cumulative buckets plus `_sum` and `_count`, per label set. */
export class Histogram extends Metric {
  private readonly series = new Map<string, { labels: string[]; counts: number[]; sum: number; count: number }>();

  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    readonly buckets: readonly number[],
  ) {
    super(name, help, labelNames);
  }

  observe(labels: Labels, value: number): void {
    const values = this.key(labels);
    const id = values.join('\u0000');
    let entry = this.series.get(id);
    if (!entry) {
      entry = { labels: values, counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.series.set(id, entry);
    }
    for (let index = 0; index < this.buckets.length; index++) {
      if (value <= (this.buckets[index] as number)) entry.counts[index] = (entry.counts[index] ?? 0) + 1;
    }
    entry.sum += value;
    entry.count += 1;
  }

  expose(): string[] {
    const lines = this.header('histogram');
    for (const { labels, counts, sum, count } of this.series.values()) {
      this.buckets.forEach((bound, index) => {
        lines.push(
          `${this.name}_bucket${labelText(this.labelNames, labels, ['le', formatValue(bound)])} ${counts[index]}`,
        );
      });
      lines.push(`${this.name}_bucket${labelText(this.labelNames, labels, ['le', '+Inf'])} ${count}`);
      lines.push(`${this.name}_sum${labelText(this.labelNames, labels)} ${formatValue(sum)}`);
      lines.push(`${this.name}_count${labelText(this.labelNames, labels)} ${count}`);
    }
    return lines;
  }
}

/** Holds the metrics of one process and renders them for a scrape. */
export class MetricsRegistry {
  private readonly metrics: Metric[] = [];

  private add<T extends Metric>(metric: T): T {
    if (this.metrics.some((existing) => existing.name === metric.name)) {
      throw new Error(`metric ${metric.name} registered twice`);
    }
    this.metrics.push(metric);
    return metric;
  }

  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.add(new Counter(name, help, labelNames));
  }

  gauge(
    name: string,
    help: string,
    labelNames: readonly string[] = [],
    collect?: () => Array<{ labels?: Labels; value: number }>,
  ): Gauge {
    return this.add(new Gauge(name, help, labelNames, collect));
  }

  histogram(name: string, help: string, labelNames: readonly string[], buckets: readonly number[]): Histogram {
    return this.add(
      new Histogram(
        name,
        help,
        labelNames,
        [...buckets].sort((a, b) => a - b),
      ),
    );
  }

  /** Prometheus text exposition format 0.0.4; ends with a newline. */
  expose(): string {
    return `${this.metrics.flatMap((metric) => metric.expose()).join('\n')}\n`;
  }
}

/** The content type of {@link MetricsRegistry.expose}. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
