// The trace worker's write path alone (issue 10): `createSpanWriter` over a fresh trace file, fed the spans a
// real server stored (bench/tracing's blocking runs: an `invoke_agent` and a `chat` span per trace), in batches
// as the batch processor sends them, each batch as the worker receives it (structured-cloned `SpanWire`s, read
// back with `v8.deserialize`, which is what `postMessage` does). Prints the worker's CPU µs per trace (reading
// the batch and writing it), median of rounds, so a change to the writer, the wire or the schema can be
// measured without the noise of a whole server on a shared machine.
//
// Usage: node --import tsx bench/tracing/writer.ts <a .traces.db a server wrote> [batch size, 512]
//        (AGENTOS_BENCH_PAGE_SIZE=4096 for SQLite's default page size instead of the trace file's)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import Database from 'better-sqlite3';
import type { Kysely } from 'kysely';
import { runMigrations } from '../../src/store/kysely/migrate.js';
import { type TraceSpansTable, toSpan } from '../../src/store/kysely/observability-store.js';
import * as observability from '../../src/store/migrations/009-observability.js';
import * as traceSpanKeys from '../../src/store/migrations/017-trace-span-keys.js';
import { openSqlite } from '../../src/store/sqlite/open.js';
import { type SpanWire, toSpanWire } from '../../src/store/sqlite/trace-protocol.js';
import { createSpanWriter, TRACE_FILE_PAGE_SIZE } from '../../src/store/sqlite/trace-writer.js';
import { median } from '../lib/timing.js';

const [source, batchArg = '512'] = process.argv.slice(2);
if (!source) throw new Error('usage: writer.ts <file.traces.db> [batch size]');
const BATCH = Number(batchArg);
// AGENTOS_BENCH_PAGE_SIZE: another page size than the trace worker's, to compare.
const PAGE_SIZE = Number(process.env.AGENTOS_BENCH_PAGE_SIZE ?? TRACE_FILE_PAGE_SIZE);
const from = new Database(source, { readonly: true });
const spans = (
  from.prepare('select * from trace_spans order by trace_id, start_time limit 40000').all() as TraceSpansTable[]
)
  .map((row) => toSpan(row))
  // Ended order: the chat span first, then its agent span, as the batch processor receives them.
  .sort((a, b) => a.endTime - b.endTime);
from.close();
const traces = new Set(spans.map((span) => span.traceId)).size;

const dir = mkdtempSync(join(tmpdir(), 'agentos-bench-writer-'));
const rounds: number[] = [];
for (let round = 0; round < 7; round++) {
  const { database, db } = openSqlite(join(dir, `r${round}.traces.db`), { busyTimeoutMs: 5000, pageSize: PAGE_SIZE });
  await runMigrations(db as Kysely<unknown>, {
    '009-observability': observability,
    '017-trace-span-keys': traceSpanKeys,
  });
  const write = createSpanWriter(database, Date.now);
  const batches: Buffer[] = [];
  for (let index = 0; index < spans.length; index += BATCH) {
    batches.push(serialize(spans.slice(index, index + BATCH).map(toSpanWire)));
  }
  const before = process.cpuUsage();
  for (const batch of batches) write(deserialize(batch) as SpanWire[]);
  const used = process.cpuUsage(before);
  rounds.push((used.user + used.system) / traces);
  await db.destroy();
}
console.log(`${spans.length} spans, ${traces} traces, batches of ${BATCH}, ${PAGE_SIZE}-byte pages`);
console.log(
  `rounds: ${rounds.map((r) => r.toFixed(1)).join(', ')} µs CPU per trace; median ${median(rounds).toFixed(1)}`,
);
rmSync(dir, { recursive: true, force: true });
