/**
 * Rate-limit rules (`100/h`) and the four request classes of CONTRACT.md §5.
 * @module
 */

/** The request classes a rate limit applies to, in the order the docs list them. */
export const RATE_LIMIT_CLASSES = ['read', 'write', 'message', 'workflow_run'] as const;

/** One of {@link RATE_LIMIT_CLASSES}. */
export type RateLimitClass = (typeof RATE_LIMIT_CLASSES)[number];

/** A parsed rule: at most `limit` requests per `window_ms` milliseconds. */
export interface RateLimitRule {
  limit: number;
  window_ms: number;
}

const WINDOW_MS: Readonly<Record<string, number>> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** The limits a class keeps when the config leaves it out. */
export const DEFAULT_RATE_LIMITS: Readonly<Record<RateLimitClass, string>> = {
  read: '200/h',
  write: '100/h',
  message: '60/h',
  workflow_run: '100/h',
};

const RULE_PATTERN = /^(\d+)\s*\/\s*([smhd])$/;

/** Parses `N/s`, `N/m`, `N/h` or `N/d` (N ≥ 1) into a {@link RateLimitRule}, or returns `null` when it is not one. */
export function parseRateLimit(value: string): RateLimitRule | null {
  const match = RULE_PATTERN.exec(value.trim());
  if (!match) return null;
  const [, count = '', unit = ''] = match;
  const limit = Number(count);
  const windowMs = WINDOW_MS[unit];
  if (windowMs === undefined || !Number.isSafeInteger(limit) || limit < 1) return null;
  return { limit, window_ms: windowMs };
}
