/**
 * Cron schedules on two replicas of one Postgres database (issue 12): every slot fires exactly once, whichever
 * replica claims it. Skipped unless AGENTOS_TEST_PG=1.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createPostgresStore } from '../../src/store/postgres/postgres-store.js';
import { startServe } from '../cli.js';
import { createTestDatabase, PG_ENABLED, type TestDatabase } from '../pg-cluster.js';

/** Ten per-second cron schedules for a little over ten seconds: at least 100 slots between them. */
const SCHEDULES = 10;
const MIN_SLOTS = 100;

const CONFIG = ['rate_limits: false', 'schedules:', '  tick_ms: 100', '  misfire_grace_ms: 5000', ''].join('\n');

type Replica = Awaited<ReturnType<typeof startServe>>;

describe.skipIf(!PG_ENABLED)('schedules on two replicas', () => {
  let dir: string;
  let database: TestDatabase;
  let replicas: Replica[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'agentos-replica-schedules-'));
    writeFileSync(join(dir, 'agentos.config.yaml'), CONFIG);
    database = await createTestDatabase(inject('pgAdminUrl'));
    replicas = [await startServe(dir, ['--db', database.url]), await startServe(dir, ['--db', database.url])];
  });
  afterAll(async () => {
    for (const replica of replicas) await replica.kill().catch(() => {});
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('fires every cron slot exactly once across both replicas over 100+ slots', { timeout: 60_000 }, async () => {
    const ids: string[] = [];
    for (let index = 0; index < SCHEDULES; index++) {
      // Created on alternating replicas: where a schedule was made does not decide where it fires.
      const replica = replicas[index % 2] as Replica;
      const response = await fetch(`${replica.url}/api/scheduler/tasks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          name: `cron ${index}`,
          scheduleType: 'cron',
          expression: '* * * * * *',
          eventTopic: 't',
        }),
      });
      expect(response.status).toBe(201);
      ids.push(((await response.json()) as { task: { id: string } }).task.id);
    }
    const store = createPostgresStore({ url: database.url });
    try {
      const firings = async () => {
        const all = [];
        for (const id of ids) {
          all.push(...(await store.schedules.listRuns({ workspaceId: 'default', scheduleId: id, limit: 1000 })).items);
        }
        return all;
      };
      const deadline = Date.now() + 40_000;
      while ((await firings()).length < MIN_SLOTS + SCHEDULES && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      // SIGTERM lets firings in flight finish, so every claimed slot has its row.
      for (const replica of replicas) await replica.stop();
      replicas = [];

      const runs = await firings();
      expect(runs.length).toBeGreaterThanOrEqual(MIN_SLOTS);
      for (const id of ids) {
        const slots = runs
          .filter((run) => run.scheduleId === id)
          .map((run) => run.slotAt ?? -1)
          .sort((a, b) => a - b);
        // Exactly once: no slot twice, and no second skipped between the first and the last firing.
        expect(new Set(slots).size).toBe(slots.length);
        for (let index = 1; index < slots.length; index++) {
          expect((slots[index] ?? 0) - (slots[index - 1] ?? 0)).toBe(1000);
        }
        const schedule = await store.schedules.get('default', id);
        expect(schedule?.runCount).toBe(slots.length);
      }
      expect(runs.every((run) => run.attempt === 1 && run.status === 'success')).toBe(true);
      // Both replicas claimed slots: the test exercised the race, not one idle replica.
      expect(new Set(runs.map((run) => run.worker)).size).toBe(2);
      const events = await store.eventBus.listEvents({ workspaceId: 'default', topic: 't', limit: 1 });
      expect(events.total).toBe(runs.length);
    } finally {
      await store.close();
    }
  });
});
