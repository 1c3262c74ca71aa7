/**
 * UTC days: budgets reset when the UTC date changes, and usage rows are keyed by it.
 * @module
 */

/** The UTC date of an instant, `YYYY-MM-DD`. */
export function utcDay(at: number): string {
  return new Date(at).toISOString().slice(0, 10);
}

/** Whole seconds (at least 1) from `at` until the next UTC midnight. */
export function secondsUntilNextUtcDay(at: number): number {
  const date = new Date(at);
  const next = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() + 1);
  return Math.max(1, Math.ceil((next - at) / 1000));
}
