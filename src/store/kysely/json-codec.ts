/**
 * JSON columns: written as text (valid for SQLite text and Postgres jsonb alike), read back from
 * either a string (SQLite) or an already parsed value (node-postgres parses jsonb).
 * @module
 */

/** Serialises a JSON column value. */
export function encodeJson(value: unknown): string {
  return JSON.stringify(value ?? null);
}

/** Parses a JSON column value, falling back to `fallback` for NULL. */
export function decodeJson<T>(value: unknown, fallback: T): T {
  if (value === null || value === undefined) return fallback;
  if (typeof value === 'string') return JSON.parse(value) as T;
  return value as T;
}
