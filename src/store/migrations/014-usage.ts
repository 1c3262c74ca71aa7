import type { Kysely } from 'kysely';
import { columnTypes } from './column-types.js';

/**
 * Usage sums for quotas and `GET /api/costs` (issue 5): one row per UTC day, workspace, principal,
 * agent and model. Token sums use the 64-bit integer type (`bigint` on Postgres) since a busy day
 * can pass 2^31 tokens; cost is a double in USD.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const t = columnTypes(db);
  await db.schema
    .createTable('usage_daily')
    .addColumn('day', 'text', (column) => column.notNull())
    .addColumn('workspace_id', 'text', (column) => column.notNull())
    .addColumn('principal', 'text', (column) => column.notNull())
    .addColumn('agent_id', 'text', (column) => column.notNull())
    .addColumn('model_id', 'text', (column) => column.notNull())
    .addColumn('input_tokens', t.epochMs, (column) => column.notNull().defaultTo(0))
    .addColumn('output_tokens', t.epochMs, (column) => column.notNull().defaultTo(0))
    .addColumn('runs', t.epochMs, (column) => column.notNull().defaultTo(0))
    .addColumn('cost_usd', 'double precision', (column) => column.notNull().defaultTo(0))
    .addColumn('updated_at', t.epochMs, (column) => column.notNull())
    .addPrimaryKeyConstraint('usage_daily_pk', ['day', 'workspace_id', 'principal', 'agent_id', 'model_id'])
    .execute();
  // Budget checks sum one principal's day across workspaces.
  await db.schema.createIndex('usage_daily_principal').on('usage_daily').columns(['principal', 'day']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('usage_daily').ifExists().execute();
}
