import type { Kysely } from 'kysely';
import { columnTypes } from './column-types.js';

/**
 * Schedules with their firing history, and the event bus (persisted events, one delivery row per
 * subscriber). Flags are 0/1 integers on both dialects. The engine's tick reads due schedules through
 * `schedules_due` (status, next_run_at) and due deliveries through `bus_deliveries_due`, one indexed
 * range scan each.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const t = columnTypes(db);
  await db.schema
    .createTable('schedules')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('workspace_id', 'text', (column) => column.notNull())
    .addColumn('name', 'text', (column) => column.notNull())
    .addColumn('description', 'text')
    .addColumn('kind', 'text', (column) => column.notNull())
    .addColumn('cron_expr', 'text')
    .addColumn('timezone', 'text', (column) => column.notNull())
    .addColumn('interval_ms', t.epochMs)
    .addColumn('at_ms', t.epochMs)
    .addColumn('target', t.json, (column) => column.notNull())
    .addColumn('payload', t.json, (column) => column.notNull().defaultTo('{}'))
    .addColumn('catch_up', 'text', (column) => column.notNull())
    .addColumn('timeout_ms', t.epochMs, (column) => column.notNull())
    .addColumn('max_retries', 'integer', (column) => column.notNull())
    .addColumn('retry_delay_ms', t.epochMs, (column) => column.notNull())
    .addColumn('status', 'text', (column) => column.notNull())
    .addColumn('next_run_at', t.epochMs)
    .addColumn('last_run_at', t.epochMs)
    .addColumn('run_count', 'integer', (column) => column.notNull().defaultTo(0))
    .addColumn('locked_by', 'text')
    .addColumn('lease_until', t.epochMs)
    .addColumn('created_at', t.epochMs, (column) => column.notNull())
    .addColumn('updated_at', t.epochMs, (column) => column.notNull())
    .execute();
  await db.schema.createIndex('schedules_due').on('schedules').columns(['status', 'next_run_at']).execute();
  await db.schema
    .createIndex('schedules_workspace_created')
    .on('schedules')
    .columns(['workspace_id', 'created_at'])
    .execute();

  await db.schema
    .createTable('schedule_runs')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('schedule_id', 'text', (column) => column.notNull().references('schedules.id').onDelete('cascade'))
    .addColumn('workspace_id', 'text', (column) => column.notNull())
    .addColumn('slot_at', t.epochMs)
    .addColumn('attempt', 'integer', (column) => column.notNull())
    .addColumn('manual', 'integer', (column) => column.notNull().defaultTo(0))
    .addColumn('worker', 'text', (column) => column.notNull())
    .addColumn('triggered_at', t.epochMs, (column) => column.notNull())
    .addColumn('completed_at', t.epochMs)
    .addColumn('status', 'text', (column) => column.notNull())
    .addColumn('status_code', 'integer')
    .addColumn('run_id', 'text')
    .addColumn('session_id', 'text')
    .addColumn('error', 'text')
    .addColumn('input', t.json, (column) => column.notNull().defaultTo('{}'))
    .addColumn('output', t.json)
    .addColumn('created_at', t.epochMs, (column) => column.notNull())
    .execute();
  await db.schema
    .createIndex('schedule_runs_schedule_created')
    .on('schedule_runs')
    .columns(['schedule_id', 'created_at'])
    .execute();

  await db.schema
    .createTable('bus_events')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('workspace_id', 'text', (column) => column.notNull())
    .addColumn('topic', 'text', (column) => column.notNull())
    .addColumn('payload', t.json, (column) => column.notNull().defaultTo('{}'))
    .addColumn('idempotency_key', 'text')
    .addColumn('source', 'text')
    .addColumn('created_at', t.epochMs, (column) => column.notNull())
    .execute();
  // NULL keys are distinct on both dialects, so only keyed publications are deduplicated.
  await db.schema
    .createIndex('bus_events_idempotency')
    .on('bus_events')
    .columns(['workspace_id', 'idempotency_key'])
    .unique()
    .execute();
  await db.schema
    .createIndex('bus_events_workspace_created')
    .on('bus_events')
    .columns(['workspace_id', 'created_at'])
    .execute();

  await db.schema
    .createTable('bus_deliveries')
    .addColumn('event_id', 'text', (column) => column.notNull().references('bus_events.id').onDelete('cascade'))
    .addColumn('subscriber_id', 'text', (column) => column.notNull())
    .addColumn('workspace_id', 'text', (column) => column.notNull())
    .addColumn('status', 'text', (column) => column.notNull())
    .addColumn('attempts', 'integer', (column) => column.notNull().defaultTo(0))
    .addColumn('next_attempt_at', t.epochMs)
    .addColumn('locked_by', 'text')
    .addColumn('lease_until', t.epochMs)
    .addColumn('last_error', 'text')
    .addColumn('delivered_at', t.epochMs)
    .addColumn('created_at', t.epochMs, (column) => column.notNull())
    .addPrimaryKeyConstraint('bus_deliveries_pk', ['event_id', 'subscriber_id'])
    .execute();
  await db.schema
    .createIndex('bus_deliveries_due')
    .on('bus_deliveries')
    .columns(['status', 'next_attempt_at'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('bus_deliveries').ifExists().execute();
  await db.schema.dropTable('bus_events').ifExists().execute();
  await db.schema.dropTable('schedule_runs').ifExists().execute();
  await db.schema.dropTable('schedules').ifExists().execute();
}
