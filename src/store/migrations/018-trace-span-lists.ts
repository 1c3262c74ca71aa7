import { type Kysely, sql } from 'kysely';

/**
 * The trace file's own migration (SQLite, `sqlite/trace-worker.ts`; not in the main list of `index.ts`): a
 * trace's spans move into one column of its summary row, `traces.spans`, a JSON array of span tuples
 * (`SpanWire` order, the attributes as an object). Spans were two rows each (table and primary key), nine
 * B-tree inserts per run with the summary's five; they are the larger half of the trace worker's SQLite
 * work (bench/tracing/writer.ts), and only the trace routes read them, a whole trace at a time.
 * `trace_spans` stays (empty) so the file keeps the shared schema the Kysely store's other methods use.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.schema.alterTable('traces').addColumn('spans', 'text').execute();
    await foldSpans(trx);
  });
}

/** Back to a row per span. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await sql`insert or ignore into trace_spans (span_id, trace_id, parent_span_id, workspace_id, name, span_type,
      status, status_message, start_time, end_time, duration_ms, attributes)
      select s.value ->> 0, s.value ->> 1, s.value ->> 2, s.value ->> 3, s.value ->> 4, s.value ->> 5, s.value ->> 6,
        s.value ->> 7, s.value ->> 8, s.value ->> 9, s.value ->> 10, s.value -> 11
      from traces t, json_each(t.spans) s where t.spans is not null`.execute(trx);
    await trx.schema.alterTable('traces').dropColumn('spans').execute();
  });
}

/**
 * Moves the rows of `trace_spans` into their trace's `spans` (traces that have none yet), then empties the
 * table: for this migration, and for traces imported from a store file of before the trace file.
 */
export async function foldSpans(db: Kysely<unknown>): Promise<void> {
  await sql`update traces set spans = (select json_group_array(json_array(span_id, trace_id, parent_span_id,
      workspace_id, name, span_type, status, status_message, start_time, end_time, duration_ms, json(attributes)))
      from trace_spans where trace_spans.trace_id = traces.trace_id)
    where spans is null and exists (select 1 from trace_spans where trace_spans.trace_id = traces.trace_id)`.execute(
    db,
  );
  await sql`delete from trace_spans`.execute(db);
}
