import type { Kysely } from 'kysely';
import { columnTypes } from './column-types.js';

/**
 * Agno components ("Studio", research/agno.md §1.10): agents, teams and workflows defined in the database,
 * each with numbered config versions (drafts editable, published ones frozen) and a current version that
 * runs unless a request names another. Part of migration number 012 (issue 9), in its own file so
 * databases that already applied `012-agents` get these tables too.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const t = columnTypes(db);
  await db.schema
    .createTable('components')
    .addColumn('workspace_id', 'text', (column) => column.notNull())
    .addColumn('component_id', 'text', (column) => column.notNull())
    .addColumn('component_type', 'text', (column) => column.notNull())
    .addColumn('name', 'text', (column) => column.notNull())
    .addColumn('description', 'text')
    .addColumn('current_version', 'integer')
    .addColumn('metadata', t.json, (column) => column.notNull().defaultTo('{}'))
    .addColumn('created_at', t.epochMs, (column) => column.notNull())
    .addColumn('updated_at', t.epochMs, (column) => column.notNull())
    .addColumn('deleted_at', t.epochMs)
    .addPrimaryKeyConstraint('components_pk', ['workspace_id', 'component_id'])
    .execute();
  await db.schema
    .createTable('component_configs')
    .addColumn('workspace_id', 'text', (column) => column.notNull())
    .addColumn('component_id', 'text', (column) => column.notNull())
    .addColumn('version', 'integer', (column) => column.notNull())
    .addColumn('label', 'text')
    .addColumn('stage', 'text', (column) => column.notNull())
    .addColumn('config', t.json, (column) => column.notNull().defaultTo('{}'))
    .addColumn('notes', 'text')
    .addColumn('created_at', t.epochMs, (column) => column.notNull())
    .addColumn('updated_at', t.epochMs, (column) => column.notNull())
    .addPrimaryKeyConstraint('component_configs_pk', ['workspace_id', 'component_id', 'version'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('component_configs').ifExists().execute();
  await db.schema.dropTable('components').ifExists().execute();
}
