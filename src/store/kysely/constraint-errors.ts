/**
 * Recognises constraint violations of both drivers by their codes, so store code can turn them into
 * typed errors without importing a driver.
 * @module
 */

function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** A primary-key or unique violation (better-sqlite3 `SQLITE_CONSTRAINT_*`, Postgres 23505). */
export function isUniqueViolation(error: unknown): boolean {
  const code = codeOf(error);
  return code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === '23505';
}

/** A foreign-key violation (better-sqlite3 `SQLITE_CONSTRAINT_FOREIGNKEY`, Postgres 23503). */
export function isForeignKeyViolation(error: unknown): boolean {
  const code = codeOf(error);
  return code === 'SQLITE_CONSTRAINT_FOREIGNKEY' || code === '23503';
}
