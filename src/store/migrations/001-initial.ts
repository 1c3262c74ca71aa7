import type { Kysely } from 'kysely';
import { columnTypes } from './column-types.js';

/**
 * Sessions, runs, run events and API keys. Every tenant-owned row carries `workspace_id`
 * (CONTRACT.md §4); events are keyed by (run_id, event_index) so replay is an index range scan.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const t = columnTypes(db);
  await db.schema
    .createTable('sessions')
    .addColumn('session_id', 'text', (column) => column.primaryKey())
    .addColumn('workspace_id', 'text', (column) => column.notNull())
    .addColumn('session_type', 'text', (column) => column.notNull())
    .addColumn('component_id', 'text', (column) => column.notNull())
    .addColumn('user_id', 'text')
    .addColumn('session_name', 'text')
    .addColumn('session_state', t.json, (column) => column.notNull().defaultTo('{}'))
    .addColumn('metadata', t.json, (column) => column.notNull().defaultTo('{}'))
    .addColumn('created_at', t.epochMs, (column) => column.notNull())
    .addColumn('updated_at', t.epochMs, (column) => column.notNull())
    .execute();
  await db.schema
    .createIndex('sessions_workspace_updated')
    .on('sessions')
    .columns(['workspace_id', 'updated_at'])
    .execute();
  await db.schema.createIndex('sessions_workspace_user').on('sessions').columns(['workspace_id', 'user_id']).execute();

  await db.schema
    .createTable('runs')
    .addColumn('run_id', 'text', (column) => column.primaryKey())
    .addColumn('session_id', 'text', (column) => column.notNull().references('sessions.session_id').onDelete('cascade'))
    .addColumn('workspace_id', 'text', (column) => column.notNull())
    .addColumn('component_type', 'text', (column) => column.notNull())
    .addColumn('component_id', 'text', (column) => column.notNull())
    .addColumn('parent_run_id', 'text')
    .addColumn('user_id', 'text')
    .addColumn('status', 'text', (column) => column.notNull())
    .addColumn('input', t.json, (column) => column.notNull().defaultTo('{}'))
    .addColumn('content', 'text')
    .addColumn('metrics', t.json, (column) => column.notNull().defaultTo('{}'))
    .addColumn('error', 'text')
    .addColumn('owner', 'text')
    .addColumn('heartbeat_at', t.epochMs)
    .addColumn('created_at', t.epochMs, (column) => column.notNull())
    .addColumn('updated_at', t.epochMs, (column) => column.notNull())
    .execute();
  await db.schema.createIndex('runs_session_created').on('runs').columns(['session_id', 'created_at']).execute();
  await db.schema.createIndex('runs_workspace_status').on('runs').columns(['workspace_id', 'status']).execute();
  await db.schema
    .createIndex('runs_workspace_component')
    .on('runs')
    .columns(['workspace_id', 'component_type', 'component_id'])
    .execute();

  await db.schema
    .createTable('run_events')
    .addColumn('run_id', 'text', (column) => column.notNull().references('runs.run_id').onDelete('cascade'))
    .addColumn('event_index', 'integer', (column) => column.notNull())
    .addColumn('event', 'text', (column) => column.notNull())
    .addColumn('payload', t.json, (column) => column.notNull())
    .addColumn('created_at', t.epochMs, (column) => column.notNull())
    .addPrimaryKeyConstraint('run_events_pk', ['run_id', 'event_index'])
    .execute();

  await db.schema
    .createTable('api_keys')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('name', 'text', (column) => column.notNull())
    .addColumn('key_hash', 'text', (column) => column.notNull().unique())
    .addColumn('key_prefix', 'text', (column) => column.notNull())
    .addColumn('scopes', t.json, (column) => column.notNull().defaultTo('[]'))
    .addColumn('workspace_id', 'text', (column) => column.notNull())
    .addColumn('created_at', t.epochMs, (column) => column.notNull())
    .addColumn('last_used_at', t.epochMs)
    .addColumn('revoked_at', t.epochMs)
    .execute();
}

/** Drops the tables of {@link up}, children first. */
export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['run_events', 'runs', 'sessions', 'api_keys']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
