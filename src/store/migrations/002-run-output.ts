import type { Kysely } from 'kysely';
import { columnTypes } from './column-types.js';

/**
 * Run details the runtime needs: the messages of the run, its output record (tools, model,
 * finish reason) and a cancel request that another process can set and the run's owner polls.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const t = columnTypes(db);
  await db.schema
    .alterTable('runs')
    .addColumn('messages', t.json, (column) => column.notNull().defaultTo('[]'))
    .execute();
  await db.schema
    .alterTable('runs')
    .addColumn('output', t.json, (column) => column.notNull().defaultTo('{}'))
    .execute();
  await db.schema.alterTable('runs').addColumn('cancel_requested_at', t.epochMs).execute();
  await db.schema.createIndex('runs_owner_status').on('runs').columns(['owner', 'status']).execute();
}

/** SQLite can drop columns since 3.35; the bundled better-sqlite3 is newer. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('runs_owner_status').ifExists().execute();
  for (const column of ['cancel_requested_at', 'output', 'messages']) {
    await db.schema.alterTable('runs').dropColumn(column).execute();
  }
}
