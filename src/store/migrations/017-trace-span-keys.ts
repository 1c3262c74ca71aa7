import type { Kysely } from 'kysely';
import { columnTypes, dialectOf } from './column-types.js';

/**
 * Spans are keyed by (trace_id, span_id) instead of span_id alone (issue 10): trace ids start with the
 * time (`TimeOrderedIdGenerator`), so a batch of new spans appends to the end of this key, while a random
 * 64-bit span id put each span on a random page of the old key's index, which every export batch wrote to
 * the WAL again (most of tracing's cost on bench/tracing). The new key also serves "the spans of a trace",
 * so the `trace_spans_trace` index goes. Span ids now need only be unique within their trace, as in OTel.
 *
 * Neither dialect can change a primary key of a populated table the same way, so both rebuild it: new
 * table, copy, drop, rename (in one transaction; Kysely runs SQLite migrations outside one).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await inTransaction(db, (trx) => rebuild(trx, 'trace_spans_pk', ['trace_id', 'span_id']));
}

/** Back to one span id per table; fails (and changes nothing) if two traces share a span id. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await inTransaction(db, async (trx) => {
    await rebuild(trx, 'trace_spans_span_pk', ['span_id']);
    await trx.schema.createIndex('trace_spans_trace').on('trace_spans').columns(['trace_id', 'start_time']).execute();
  });
}

async function inTransaction(db: Kysely<unknown>, body: (trx: Kysely<unknown>) => Promise<void>): Promise<void> {
  // Postgres migrations already run in a transaction (DDL is transactional there).
  if (dialectOf(db) === 'postgres') await body(db);
  else await db.transaction().execute(body);
}

const COLUMNS = [
  'span_id',
  'trace_id',
  'parent_span_id',
  'workspace_id',
  'name',
  'span_type',
  'status',
  'status_message',
  'start_time',
  'end_time',
  'duration_ms',
  'attributes',
] as const;

/** Constraint names are index names on Postgres, unique in the schema: each direction uses its own. */
async function rebuild(db: Kysely<unknown>, keyName: string, key: readonly string[]): Promise<void> {
  const t = columnTypes(db);
  await db.schema
    .createTable('trace_spans_next')
    .addColumn('span_id', 'text', (column) => column.notNull())
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
    .addPrimaryKeyConstraint(keyName, key as never)
    .execute();
  const source = (db as Kysely<Record<string, Record<string, unknown>>>).selectFrom('trace_spans').select([...COLUMNS]);
  await (db as Kysely<Record<string, Record<string, unknown>>>)
    .insertInto('trace_spans_next')
    .columns([...COLUMNS])
    .expression(source)
    .execute();
  await db.schema.dropTable('trace_spans').execute();
  await db.schema.alterTable('trace_spans_next').renameTo('trace_spans').execute();
}
