import type { Kysely } from 'kysely';
import { columnTypes } from './column-types.js';

/**
 * Observability (issue 10): stored OpenTelemetry spans, one summary row per trace (recomputed from
 * its spans whenever a batch of them is written), daily metric aggregates and eval runs. Times are
 * epoch milliseconds; span durations keep sub-millisecond precision as doubles.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const t = columnTypes(db);
  await db.schema
    .createTable('trace_spans')
    .addColumn('span_id', 'text', (column) => column.primaryKey())
    .addColumn('trace_id', 'text', (column) => column.notNull())
    .addColumn('parent_span_id', 'text')
    .addColumn('workspace_id', 'text', (column) => column.notNull())
    .addColumn('name', 'text', (column) => column.notNull())
    .addColumn('span_type', 'text', (column) => column.notNull())
    .addColumn('status', 'text', (column) => column.notNull())
    .addColumn('status_message', 'text')
    .addColumn('start_time', t.epochMs, (column) => column.notNull())
    .addColumn('end_time', t.epochMs, (column) => column.notNull())
    .addColumn('duration_ms', 'double precision', (column) => column.notNull())
    .addColumn('attributes', t.json, (column) => column.notNull().defaultTo('{}'))
    .execute();
  await db.schema.createIndex('trace_spans_trace').on('trace_spans').columns(['trace_id', 'start_time']).execute();

  await db.schema
    .createTable('traces')
    .addColumn('trace_id', 'text', (column) => column.primaryKey())
    .addColumn('workspace_id', 'text', (column) => column.notNull())
    .addColumn('name', 'text', (column) => column.notNull())
    .addColumn('status', 'text', (column) => column.notNull())
    .addColumn('start_time', t.epochMs, (column) => column.notNull())
    .addColumn('end_time', t.epochMs, (column) => column.notNull())
    .addColumn('duration_ms', 'double precision', (column) => column.notNull())
    .addColumn('total_spans', 'integer', (column) => column.notNull())
    .addColumn('error_count', 'integer', (column) => column.notNull())
    .addColumn('input', 'text')
    .addColumn('output', 'text')
    .addColumn('error', 'text')
    .addColumn('run_id', 'text')
    .addColumn('session_id', 'text')
    .addColumn('user_id', 'text')
    .addColumn('agent_id', 'text')
    .addColumn('team_id', 'text')
    .addColumn('workflow_id', 'text')
    .addColumn('created_at', t.epochMs, (column) => column.notNull())
    .execute();
  await db.schema.createIndex('traces_workspace_start').on('traces').columns(['workspace_id', 'start_time']).execute();
  await db.schema.createIndex('traces_session').on('traces').columns(['workspace_id', 'session_id']).execute();
  await db.schema.createIndex('traces_run').on('traces').columns(['workspace_id', 'run_id']).execute();

  await db.schema
    .createTable('metrics_daily')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('workspace_id', 'text', (column) => column.notNull())
    .addColumn('date', 'text', (column) => column.notNull())
    .addColumn('data', t.json, (column) => column.notNull())
    .addColumn('created_at', t.epochMs, (column) => column.notNull())
    .addColumn('updated_at', t.epochMs, (column) => column.notNull())
    .addUniqueConstraint('metrics_daily_workspace_date', ['workspace_id', 'date'])
    .execute();

  await db.schema
    .createTable('eval_runs')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('workspace_id', 'text', (column) => column.notNull())
    .addColumn('name', 'text')
    .addColumn('eval_type', 'text', (column) => column.notNull())
    .addColumn('agent_id', 'text')
    .addColumn('team_id', 'text')
    .addColumn('workflow_id', 'text')
    .addColumn('model_id', 'text')
    .addColumn('model_provider', 'text')
    .addColumn('evaluated_component_name', 'text')
    .addColumn('eval_input', t.json, (column) => column.notNull())
    .addColumn('eval_data', t.json, (column) => column.notNull())
    .addColumn('created_at', t.epochMs, (column) => column.notNull())
    .addColumn('updated_at', t.epochMs, (column) => column.notNull())
    .execute();
  await db.schema
    .createIndex('eval_runs_workspace_created')
    .on('eval_runs')
    .columns(['workspace_id', 'created_at'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['eval_runs', 'metrics_daily', 'traces', 'trace_spans']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
