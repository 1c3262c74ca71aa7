import type { Kysely } from 'kysely';
import { columnTypes } from './column-types.js';

/**
 * Shared rate-limit state: one row per limiter key (`<class>:<principal>`) holding the GCRA
 * theoretical arrival time in epoch milliseconds. A row whose `tat` lies in the past is the same as
 * no row (a full bucket), so rows can be pruned at any time.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const t = columnTypes(db);
  await db.schema
    .createTable('rate_limits')
    .addColumn('key', 'text', (column) => column.primaryKey())
    .addColumn('tat', t.epochMs, (column) => column.notNull())
    .execute();
  await db.schema.createIndex('rate_limits_tat').on('rate_limits').column('tat').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('rate_limits').ifExists().execute();
}
