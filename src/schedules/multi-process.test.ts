/**
 * Two `agentos serve` processes on one database race for every slot of a seconds-resolution cron
 * schedule; each slot must fire exactly once. The database is a parameter: a SQLite file (or
 * `AGENTOS_TEST_SCHEDULE_DB_URL`), and a fresh Postgres database when `AGENTOS_TEST_PG=1`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { startServe } from '../../test/cli.js';
import { createTestDatabase, PG_ENABLED, type TestDatabase } from '../../test/pg-cluster.js';
import { openStore } from '../services.js';

const SLOTS = 100;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The race, on the database `databaseUrl()` names (created before the servers start). */
function raceOn(name: string, databaseUrl: (dir: string) => Promise<string>): void {
  const dir = mkdtempSync(join(tmpdir(), 'agentos-sched-mp-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it(
    `${name}: a cron schedule with seconds fires exactly once per slot over ${SLOTS} slots with two servers`,
    async () => {
      const dbUrl = await databaseUrl(dir);
      const config = join(dir, 'agentos.config.yaml');
      writeFileSync(config, 'rate_limits: false\nschedules: { tick_ms: 250 }\n');
      const args = ['--config', config, '--db', dbUrl];
      const first = await startServe(dir, args);
      const second = await startServe(dir, args);
      try {
        const created = await fetch(`${first.url}/api/scheduler/tasks`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ name: 'race', scheduleType: 'cron', expression: '* * * * * *', eventTopic: 'race' }),
        });
        expect(created.status).toBe(201);
        // Both processes see the task: it is in the shared database.
        const listed = (await (await fetch(`${second.url}/api/scheduler/tasks`)).json()) as { count: number };
        expect(listed.count).toBe(1);

        const deadline = Date.now() + (SLOTS + 30) * 1000;
        for (;;) {
          const tasks = (await (await fetch(`${second.url}/api/scheduler/tasks`)).json()) as {
            tasks: Array<{ runCount: number }>;
          };
          if ((tasks.tasks[0]?.runCount ?? 0) >= SLOTS + 2 || Date.now() > deadline) break;
          await sleep(1000);
        }
      } finally {
        await Promise.all([first.stop(), second.stop()]);
      }

      const store = await openStore(dbUrl, dir);
      try {
        const [schedule] = (await store.schedules.list({ workspaceId: 'default' })).items;
        const runs = (
          await store.schedules.listRuns({ workspaceId: 'default', scheduleId: schedule?.id ?? '', limit: 1000 })
        ).items;
        const perSlot = new Map<number, number>();
        for (const run of runs) perSlot.set(run.slotAt ?? -1, (perSlot.get(run.slotAt ?? -1) ?? 0) + 1);
        // No slot fired twice…
        expect([...perSlot.entries()].filter(([, count]) => count > 1)).toEqual([]);
        // …and none was left out: the slots form one unbroken run of seconds, at least SLOTS long.
        const slots = [...perSlot.keys()].sort((a, b) => a - b);
        expect(slots.length).toBeGreaterThanOrEqual(SLOTS);
        expect((slots.at(-1) ?? 0) - (slots[0] ?? 0)).toBe((slots.length - 1) * 1000);
        expect(runs.every((run) => run.status === 'success')).toBe(true);
        expect(schedule?.runCount).toBe(runs.length);
        // One bus event per firing.
        expect((await store.eventBus.listEvents({ workspaceId: 'default', topic: 'race' })).total).toBe(runs.length);
        const workers = new Set(runs.map((run) => run.worker));
        console.info(`slots fired: ${runs.length}, by ${workers.size} process(es)`);
      } finally {
        await store.close();
      }
    },
    (SLOTS + 60) * 1000,
  );
}

describe('schedules across processes', () => {
  raceOn('sqlite', async (dir) => process.env.AGENTOS_TEST_SCHEDULE_DB_URL ?? `sqlite:${join(dir, 'agentos.db')}`);
});

describe.skipIf(!PG_ENABLED)('schedules across processes on postgres', () => {
  let database: TestDatabase | undefined;
  afterAll(async () => {
    await database?.drop();
  });
  raceOn('postgres', async () => {
    database = await createTestDatabase(inject('pgAdminUrl'));
    return database.url;
  });
});
