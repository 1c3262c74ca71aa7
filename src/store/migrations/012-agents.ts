import type { Kysely } from 'kysely';
import { columnTypes } from './column-types.js';

/**
 * Agents stored in the database (Automatos / iii `/api/agents`), personas, the plugin catalog, plugins
 * enabled per workspace and plugins assigned per agent (research/agtos-automatos.md §2.4: catalog →
 * workspace → agent). Agent ids are unique per workspace; deleted agents keep their row (soft delete).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const t = columnTypes(db);
  await db.schema
    .createTable('db_agents')
    .addColumn('workspace_id', 'text', (column) => column.notNull())
    .addColumn('agent_id', 'text', (column) => column.notNull())
    .addColumn('name', 'text', (column) => column.notNull())
    .addColumn('agent_type', 'text', (column) => column.notNull())
    .addColumn('description', 'text')
    .addColumn('status', 'text', (column) => column.notNull())
    .addColumn('model_config', t.json, (column) => column.notNull().defaultTo('{}'))
    .addColumn('persona_id', 'text')
    .addColumn('use_custom_persona', 'integer', (column) => column.notNull().defaultTo(0))
    .addColumn('custom_persona_prompt', 'text')
    .addColumn('instructions', 'text')
    .addColumn('tools', t.json, (column) => column.notNull().defaultTo('[]'))
    .addColumn('tags', t.json, (column) => column.notNull().defaultTo('[]'))
    .addColumn('configuration', t.json, (column) => column.notNull().defaultTo('{}'))
    .addColumn('created_at', t.epochMs, (column) => column.notNull())
    .addColumn('updated_at', t.epochMs, (column) => column.notNull())
    .addColumn('deleted_at', t.epochMs)
    .addPrimaryKeyConstraint('db_agents_pk', ['workspace_id', 'agent_id'])
    .execute();
  await db.schema
    .createIndex('db_agents_workspace_updated')
    .on('db_agents')
    .columns(['workspace_id', 'updated_at'])
    .execute();

  await db.schema
    .createTable('personas')
    .addColumn('persona_id', 'text', (column) => column.primaryKey())
    // NULL = a global persona every workspace sees.
    .addColumn('workspace_id', 'text')
    .addColumn('slug', 'text', (column) => column.notNull())
    .addColumn('name', 'text', (column) => column.notNull())
    .addColumn('description', 'text')
    .addColumn('system_prompt', 'text', (column) => column.notNull())
    .addColumn('suggested_temperature', 'double precision')
    .addColumn('category', 'text')
    .addColumn('tags', t.json, (column) => column.notNull().defaultTo('[]'))
    .addColumn('created_at', t.epochMs, (column) => column.notNull())
    .addColumn('updated_at', t.epochMs, (column) => column.notNull())
    .execute();

  await db.schema
    .createTable('plugins')
    .addColumn('plugin_id', 'text', (column) => column.primaryKey())
    .addColumn('slug', 'text', (column) => column.notNull().unique())
    .addColumn('name', 'text', (column) => column.notNull())
    .addColumn('version', 'text', (column) => column.notNull())
    .addColumn('description', 'text')
    .addColumn('content', 'text', (column) => column.notNull())
    .addColumn('tags', t.json, (column) => column.notNull().defaultTo('[]'))
    .addColumn('created_at', t.epochMs, (column) => column.notNull())
    .execute();

  await db.schema
    .createTable('workspace_plugins')
    .addColumn('workspace_id', 'text', (column) => column.notNull())
    .addColumn('plugin_id', 'text', (column) => column.notNull().references('plugins.plugin_id').onDelete('cascade'))
    .addColumn('enabled_at', t.epochMs, (column) => column.notNull())
    .addPrimaryKeyConstraint('workspace_plugins_pk', ['workspace_id', 'plugin_id'])
    .execute();

  await db.schema
    .createTable('agent_plugins')
    .addColumn('workspace_id', 'text', (column) => column.notNull())
    .addColumn('agent_id', 'text', (column) => column.notNull())
    .addColumn('plugin_id', 'text', (column) => column.notNull().references('plugins.plugin_id').onDelete('cascade'))
    .addColumn('priority', 'integer', (column) => column.notNull())
    .addColumn('assigned_at', t.epochMs, (column) => column.notNull())
    .addPrimaryKeyConstraint('agent_plugins_pk', ['workspace_id', 'agent_id', 'plugin_id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['agent_plugins', 'workspace_plugins', 'plugins', 'personas', 'db_agents']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
