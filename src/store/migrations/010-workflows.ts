import type { Kysely } from 'kysely';
import { columnTypes } from './column-types.js';

/**
 * Workflow durability and API-created workflows: one checkpoint row per (run, step path), written at
 * every step transition, so a restarted server resumes an interrupted run after its last completed
 * step; and definitions created over `POST /api/workflows`, per workspace.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const t = columnTypes(db);
  await db.schema
    .createTable('workflow_steps')
    .addColumn('run_id', 'text', (column) => column.notNull().references('runs.run_id').onDelete('cascade'))
    .addColumn('step_key', 'text', (column) => column.notNull())
    .addColumn('step_name', 'text', (column) => column.notNull())
    .addColumn('status', 'text', (column) => column.notNull())
    .addColumn('output', t.json)
    .addColumn('state', t.json, (column) => column.notNull().defaultTo('{}'))
    .addColumn('attempts', 'integer', (column) => column.notNull().defaultTo(0))
    .addColumn('duration_ms', 'integer', (column) => column.notNull().defaultTo(0))
    .addColumn('error', 'text')
    .addColumn('seq', 'integer', (column) => column.notNull())
    .addColumn('created_at', t.epochMs, (column) => column.notNull())
    .addColumn('updated_at', t.epochMs, (column) => column.notNull())
    .addPrimaryKeyConstraint('workflow_steps_pk', ['run_id', 'step_key'])
    .execute();
  await db.schema
    .createTable('workflow_definitions')
    .addColumn('workspace_id', 'text', (column) => column.notNull())
    .addColumn('workflow_id', 'text', (column) => column.notNull())
    .addColumn('name', 'text', (column) => column.notNull())
    .addColumn('description', 'text')
    .addColumn('definition', t.json, (column) => column.notNull().defaultTo('{}'))
    .addColumn('created_at', t.epochMs, (column) => column.notNull())
    .addColumn('updated_at', t.epochMs, (column) => column.notNull())
    .addPrimaryKeyConstraint('workflow_definitions_pk', ['workspace_id', 'workflow_id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('workflow_steps').ifExists().execute();
  await db.schema.dropTable('workflow_definitions').ifExists().execute();
}
