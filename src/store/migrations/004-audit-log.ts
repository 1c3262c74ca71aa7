import type { Kysely } from 'kysely';
import { addSerialPrimaryKey, columnTypes } from './column-types.js';

/**
 * The security audit log: append-only rows chained by HMAC-SHA256, each `hash` covering the row and
 * the `prev_hash` of the row before it (`security/audit-log.ts`). `seq` is AUTOINCREMENT so a deleted
 * tail entry's number is never reused.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const t = columnTypes(db);
  await addSerialPrimaryKey(db.schema.createTable('audit_log'), t, 'seq')
    .addColumn('at', t.epochMs, (column) => column.notNull())
    .addColumn('kind', 'text', (column) => column.notNull())
    .addColumn('principal', 'text')
    .addColumn('workspace_id', 'text')
    .addColumn('details', t.json, (column) => column.notNull().defaultTo('{}'))
    .addColumn('prev_hash', 'text', (column) => column.notNull())
    .addColumn('hash', 'text', (column) => column.notNull())
    .execute();
  await db.schema.createIndex('audit_log_kind_seq').on('audit_log').columns(['kind', 'seq']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('audit_log').ifExists().execute();
}
