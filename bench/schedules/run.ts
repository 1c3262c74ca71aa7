/**
 * Cost of the schedule engine's tick: `listDue` (one indexed range scan) over a table of many
 * schedules, against `select 1` measured in the same run as the baseline, and the claim that follows.
 * Prints ratios, so numbers compare across machines.
 *
 *   npm run bench:schedules [-- 10000]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.js';

const TOTAL = Number(process.argv[2] ?? 10_000);
const DUE = 10;
const ROUNDS = 2000;

async function time(rounds: number, body: () => Promise<unknown>): Promise<number> {
  for (let index = 0; index < 50; index += 1) await body();
  const started = process.hrtime.bigint();
  for (let index = 0; index < rounds; index += 1) await body();
  return Number(process.hrtime.bigint() - started) / 1e3 / rounds;
}

const dir = mkdtempSync(join(tmpdir(), 'agentos-bench-schedules-'));
try {
  const store = createSqliteStore({ url: `sqlite:${join(dir, 'bench.db')}` });
  await store.migrate();
  const now = Date.now();
  for (let index = 0; index < TOTAL; index += 1) {
    // DUE rows are due now; the rest fall due over the next day, as a real table's would.
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
  const baseline = await time(ROUNDS, () => store.ping());
  const tick = await time(ROUNDS, () => store.schedules.listDue(now, 100));
  const due = await store.schedules.listDue(now, 100);
  let slot = now;
  const claim = await time(ROUNDS, async () => {
    // Claim and release the same row, moving its slot on each time (the tick's write path).
    const row = await store.schedules.claim('s0', slot, slot + 1, {
      owner: 'bench',
      leaseUntil: slot + 60_000,
      at: slot,
    });
    slot += 1;
    if (row) await store.schedules.release('s0', 'bench', slot);
  });
  console.log(`schedules: ${TOTAL} (${due.length} due), sqlite file, ${ROUNDS} rounds`);
  console.log(`baseline select 1:     ${baseline.toFixed(1)} µs`);
  console.log(`tick (listDue):        ${tick.toFixed(1)} µs  = ${(tick / baseline).toFixed(1)}× baseline`);
  console.log(`claim + release:       ${claim.toFixed(1)} µs  = ${(claim / baseline).toFixed(1)}× baseline`);
  await store.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
