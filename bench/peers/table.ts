// Formatting of the bench/peers report: one Markdown table, a column per system, then the ratios agentos ÷ each other
// system. Kept apart from run.ts so its arithmetic is unit-tested (table.test.ts).

/** One system of the comparison, in column order. */
export interface SystemColumn {
  key: string;
  label: string;
}

/** One measured quantity: a value per system key (missing or NaN prints `n/a`). */
export interface TableRow {
  label: string;
  /** Which direction is better; shown after the label as ↑ or ↓. */
  better: 'higher' | 'lower';
  /** Decimals of the values (ratios always get 2). */
  digits: number;
  values: Record<string, number | undefined>;
}

/** `a ÷ b`, or NaN when either is not a finite number or b is 0. */
export function ratio(a: number | undefined, b: number | undefined): number {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return Number.NaN;
  return a / b;
}

/** A number with fixed decimals, thousands grouped with a thin space; `n/a` when not finite. */
export function formatNumber(value: number | undefined, digits: number): string {
  if (value === undefined || !Number.isFinite(value)) return 'n/a';
  const [whole, fraction] = Math.abs(value).toFixed(digits).split('.') as [string, string | undefined];
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ' ');
  return `${value < 0 ? '-' : ''}${grouped}${fraction === undefined ? '' : `.${fraction}`}`;
}

/** Median of the finite values; NaN when there is none. */
export function median(values: readonly number[]): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** The `q` quantile (nearest rank) of the values; NaN when empty. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index] as number;
}

/**
 * The Markdown table: `| measurement | <system>… | <subject> ÷ <other>… |`. The subject is the first column; every
 * other system gets a ratio column.
 */
export function formatTable(rows: readonly TableRow[], systems: readonly SystemColumn[]): string {
  const [subject, ...others] = systems;
  if (!subject) throw new Error('formatTable needs at least one system');
  const header = [
    'measurement',
    ...systems.map((system) => system.label),
    ...others.map((other) => `${subject.label} ÷ ${other.label}`),
  ];
  const lines = [header, header.map((_, index) => (index === 0 ? '---' : '---:'))];
  for (const row of rows) {
    lines.push([
      `${row.label} ${row.better === 'higher' ? '↑' : '↓'}`,
      ...systems.map((system) => formatNumber(row.values[system.key], row.digits)),
      ...others.map((other) => formatNumber(ratio(row.values[subject.key], row.values[other.key]), 2)),
    ]);
  }
  return lines.map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}
