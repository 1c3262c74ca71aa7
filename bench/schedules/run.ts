/**
 * Cost of the schedule engine's tick: `listDue` (one indexed range scan) over tables of growing size,
 * and the claim that follows, with `select 1` as the baseline. The sizes are measured interleaved, in
 * short batches, and each reports its fastest and its median batch: on a shared machine a single long
 * loop per size measures the neighbours' load, not the table size (issue 8: a one-off 575 µs at 10k).
 * The query plan is printed too: the tick must search `schedules_due`, never scan the table.
 *
 *   npm run bench:schedules [-- 1000 10000 100000]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.js';

const SIZES = process.argv.slice(2).map(Number).filter(Number.isFinite);
if (SIZES.length === 0) SIZES.push(1_000, 10_000, 100_000);
const DUE = 10;
const BATCHES = 40;
const PER_BATCH = 50;

type Store = ReturnType<typeof createSqliteStore>;

/** Fastest and median per-call time (µs) of `body` over this round's batch. */
async function batch(body: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  for (let index = 0; index < PER_BATCH; index += 1) await body();
  return Number(process.hrtime.bigint() - started) / 1e3 / PER_BATCH;
}

function summary(samples: number[]): string {
  const sorted = [...samples].sort((left, right) => left - right);
  const median = sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
  return `min ${(sorted[0] ?? Number.NaN).toFixed(1).padStart(6)} µs  median ${median.toFixed(1).padStart(6)} µs`;
}

async function fill(store: Store, total: number, now: number): Promise<void> {
  for (let index = 0; index < total; index += 1) {
    // DUE rows are due now; the rest fall due over the next days, as a real table's would.
    await store.schedules.create({
      id: `s${index}`,
      workspaceId: 'default',
      name: `s${index}`,
      kind: 'interval',
      intervalMs: 60_000,
      timezone: 'UTC',
      target: { type: 'topic', topic: 't' },
      status: index % 10 === 9 ? 'paused' : 'active',
      nextRunAt: index < DUE ? now - 1 : now + 1000 + index * 8_000,
    });
  }
}

const dir = mkdtempSync(join(tmpdir(), 'agentos-bench-schedules-'));
try {
  const now = Date.now();
  const tables: Array<{ total: number; store: Store; slot: number; tick: number[]; claim: number[]; ping: number[] }> =
    [];
  for (const total of SIZES) {
    const store = createSqliteStore({ url: `sqlite:${join(dir, `bench-${total}.db`)}` });
    await store.migrate();
    await fill(store, total, now);
    tables.push({ total, store, slot: now, tick: [], claim: [], ping: [] });
  }
  for (let round = 0; round < BATCHES; round += 1) {
    for (const table of tables) {
      table.ping.push(await batch(() => table.store.ping()));
      table.tick.push(await batch(() => table.store.schedules.listDue(now, 100)));
      table.claim.push(
        await batch(async () => {
          // Claim and release one row, moving its slot on each time (the tick's write path).
          const row = await table.store.schedules.claim('s0', table.slot, table.slot + 1, {
            owner: 'bench',
            leaseUntil: table.slot + 60_000,
            at: table.slot,
          });
          table.slot += 1;
          if (row) await table.store.schedules.release('s0', 'bench', table.slot);
        }),
      );
    }
  }
  const first = tables[0];
  if (first) {
    await first.store.close();
    const database = new Database(join(dir, `bench-${first.total}.db`), { readonly: true });
    const plan = database
      .prepare(
        'explain query plan select * from "schedules" where "status" = ? and "next_run_at" <= ? and ("lease_until" is null or "lease_until" < ?) order by "next_run_at" asc limit ?',
      )
      .all('active', now, now, 100) as Array<{ detail: string }>;
    console.log(`tick query plan: ${plan.map((row) => row.detail).join('; ')}`);
    database.close();
  }
  console.log(`sqlite files, ${DUE - 1} due rows each, ${BATCHES} interleaved batches of ${PER_BATCH}`);
  for (const table of tables) {
    const due = table === first ? '' : ` (${(await table.store.schedules.listDue(now, 100)).length} due)`;
    console.log(`${String(table.total).padStart(7)} schedules${due}`);
    console.log(`  baseline select 1:  ${summary(table.ping)}`);
    console.log(`  tick (listDue):     ${summary(table.tick)}`);
    console.log(`  claim + release:    ${summary(table.claim)}`);
    if (table !== first) await table.store.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
