/**
 * Timing helpers the benchmarks share: summaries of samples (nearest-rank quantiles, medians, means), the number
 * formats they print them in, and a sleep, so every bench reads "p50" and "median" the same way.
 * @module
 */

/** Nearest-rank quantile (`q` in 0..1) of unsorted samples: the smallest value with a share `q` at or below it; NaN when empty. */
export function quantile(values: number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index] as number;
}

/** Median of unsorted samples (the mean of the middle two for an even count); NaN when empty. */
export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** Mean of samples; NaN when empty. */
export function mean(values: number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

/** Standard error of the mean of samples (sample standard deviation ÷ √n); NaN below two samples. */
export function standardError(values: number[]): number {
  if (values.length < 2) return Number.NaN;
  const average = mean(values);
  const squares = values.reduce((sum, value) => sum + (value - average) ** 2, 0);
  return Math.sqrt(squares / (values.length - 1) / values.length);
}

/** `value` with `digits` decimals, or `n/a` when it is not a finite number. */
export const fixed = (value: number, digits = 1): string => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');

/** Milliseconds as `12.34 ms`. */
export const ms = (value: number): string => `${value.toFixed(2)} ms`;

/** Resolves after `milliseconds`. */
export const sleep = (milliseconds: number): Promise<void> => new Promise((done) => setTimeout(done, milliseconds));
