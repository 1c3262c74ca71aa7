import type { Migration } from 'kysely';
import * as initial from './001-initial.js';
import * as runOutput from './002-run-output.js';
import * as rateLimits from './003-rate-limits.js';
import * as auditLog from './004-audit-log.js';

/**
 * The SQLite migrations in order. Names sort lexically, which is the order Kysely applies them in;
 * a new file gets the next number and an entry here, and an applied migration is never edited.
 */
export const sqliteMigrations: Record<string, Migration> = {
  '001-initial': initial,
  '002-run-output': runOutput,
  '003-rate-limits': rateLimits,
  '004-audit-log': auditLog,
};
