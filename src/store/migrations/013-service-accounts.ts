import type { Kysely } from 'kysely';
import { columnTypes } from './column-types.js';

/**
 * Service accounts (research/agno.md §1.11) and roles on keys (issue 5): a `service_accounts` table, and
 * on `api_keys` the role a key carries, the service account a token belongs to and when a token expires.
 * Existing keys keep a null role and no expiry, so nothing they could do changes.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const t = columnTypes(db);
  await db.schema
    .createTable('service_accounts')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('workspace_id', 'text', (column) => column.notNull())
    .addColumn('name', 'text', (column) => column.notNull())
    .addColumn('description', 'text')
    .addColumn('role', 'text')
    .addColumn('scopes', t.json, (column) => column.notNull().defaultTo('[]'))
    .addColumn('created_by', 'text')
    .addColumn('created_at', t.epochMs, (column) => column.notNull())
    .addColumn('updated_at', t.epochMs, (column) => column.notNull())
    .addColumn('revoked_at', t.epochMs)
    .execute();
  await db.schema
    .createIndex('service_accounts_workspace_name')
    .on('service_accounts')
    .columns(['workspace_id', 'name'])
    .execute();
  await db.schema.alterTable('api_keys').addColumn('role', 'text').execute();
  await db.schema.alterTable('api_keys').addColumn('service_account_id', 'text').execute();
  await db.schema.alterTable('api_keys').addColumn('expires_at', t.epochMs).execute();
  await db.schema.createIndex('api_keys_service_account').on('api_keys').column('service_account_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('api_keys_service_account').ifExists().execute();
  for (const column of ['expires_at', 'service_account_id', 'role']) {
    await db.schema.alterTable('api_keys').dropColumn(column).execute();
  }
  await db.schema.dropTable('service_accounts').ifExists().execute();
}
