import type { Kysely } from 'kysely';
import { columnTypes } from './column-types.js';

/**
 * The scopes of whoever last set a schedule's target (security review, finding 3): a firing acts with
 * the internal principal's run scopes narrowed to these, so a scheduled team or workflow cannot run a
 * member its author could not. Null on rows written before, which then fire with no run rights.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const t = columnTypes(db);
  await db.schema.alterTable('schedules').addColumn('author_scopes', t.json).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('schedules').dropColumn('author_scopes').execute();
}
