import type { Kysely } from 'kysely';
import { columnTypes } from './column-types.js';

/**
 * Approvals (research/agno.md §1.9): one row per paused tool call awaiting a human decision. The run
 * status is not copied here; readers join the runs table, so it cannot drift.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const t = columnTypes(db);
  await db.schema
    .createTable('approvals')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('workspace_id', 'text', (column) => column.notNull())
    .addColumn('run_id', 'text', (column) => column.notNull())
    .addColumn('session_id', 'text', (column) => column.notNull())
    .addColumn('status', 'text', (column) => column.notNull())
    .addColumn('source_type', 'text', (column) => column.notNull())
    .addColumn('approval_type', 'text', (column) => column.notNull())
    .addColumn('pause_type', 'text', (column) => column.notNull())
    .addColumn('tool_call_id', 'text', (column) => column.notNull())
    .addColumn('tool_name', 'text', (column) => column.notNull())
    .addColumn('tool_args', t.json, (column) => column.notNull().defaultTo('{}'))
    .addColumn('expires_at', t.epochMs)
    .addColumn('agent_id', 'text')
    .addColumn('team_id', 'text')
    .addColumn('workflow_id', 'text')
    .addColumn('user_id', 'text')
    .addColumn('schedule_id', 'text')
    .addColumn('schedule_run_id', 'text')
    .addColumn('source_name', 'text')
    .addColumn('requirements', t.json, (column) => column.notNull().defaultTo('[]'))
    .addColumn('context', t.json, (column) => column.notNull().defaultTo('{}'))
    .addColumn('resolution_data', t.json)
    .addColumn('resolved_by', 'text')
    .addColumn('resolved_at', t.epochMs)
    .addColumn('created_at', t.epochMs, (column) => column.notNull())
    .addColumn('updated_at', t.epochMs, (column) => column.notNull())
    .execute();
  await db.schema
    .createIndex('approvals_workspace_status_created')
    .on('approvals')
    .columns(['workspace_id', 'status', 'created_at'])
    .execute();
  await db.schema.createIndex('approvals_run').on('approvals').columns(['workspace_id', 'run_id']).execute();
  await db.schema.createIndex('approvals_expiry').on('approvals').columns(['status', 'expires_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('approvals').ifExists().execute();
}
