import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestServer } from '../../test/helpers.js';
import type { RunningServer } from '../main.js';

// Real servers and real time: these tests wait for the wall clock.
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('schedules on a running server', () => {
  let dir: string;
  let dbUrl: string;
  let server: RunningServer | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'agentos-sched-server-'));
    dbUrl = `sqlite:${join(dir, 'agentos.db')}`;
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  const start = () =>
    startTestServer({
      config: { database: { url: dbUrl }, schedules: { tick_ms: 200, misfire_grace_ms: 1000 } },
    });

  async function createTask(body: Record<string, unknown>) {
    const response = await fetch(`${server?.url}/api/scheduler/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(201);
    return ((await response.json()) as { task: { id: string } }).task;
  }

  it('an interval schedule at 1 s fires N±1 times in N seconds, each firing recorded and published', async () => {
    server = await start();
    const seconds = 5;
    const task = await createTask({ name: 'tick', scheduleType: 'interval', intervalMs: 1000, eventTopic: 'tick' });
    await sleep(seconds * 1000);
    await server.services.scheduling.stop();
    const { store } = server.services;
    const schedule = await store.schedules.get('default', task.id);
    expect(schedule?.runCount).toBeGreaterThanOrEqual(seconds - 1);
    expect(schedule?.runCount).toBeLessThanOrEqual(seconds + 1);
    const runs = await store.schedules.listRuns({ workspaceId: 'default', scheduleId: task.id, limit: 100 });
    expect(runs.total).toBe(schedule?.runCount);
    expect(runs.items.every((run) => run.status === 'success' && run.attempt === 1)).toBe(true);
    // One slot each, a second apart, and one bus event per firing.
    const slots = runs.items.map((run) => run.slotAt ?? 0).sort((a, b) => a - b);
    expect(new Set(slots).size).toBe(slots.length);
    for (let index = 1; index < slots.length; index += 1)
      expect((slots[index] ?? 0) - (slots[index - 1] ?? 0)).toBe(1000);
    const events = await store.eventBus.listEvents({ workspaceId: 'default', topic: 'tick' });
    expect(events.total).toBe(runs.total);
  });

  it('a once-schedule fires once, then is completed', async () => {
    server = await start();
    const task = await createTask({
      name: 'once',
      scheduleType: 'once',
      atTimestamp: Date.now() + 800,
      eventTopic: 'once',
    });
    await sleep(3000);
    const { store } = server.services;
    expect(await store.schedules.get('default', task.id)).toMatchObject({
      status: 'completed',
      runCount: 1,
      nextRunAt: null,
    });
    expect((await store.schedules.listRuns({ workspaceId: 'default', scheduleId: task.id })).total).toBe(1);
    expect((await store.eventBus.listEvents({ workspaceId: 'default', topic: 'once' })).total).toBe(1);
  });

  it('missed slots follow the catch-up policy after a restart', async () => {
    server = await start();
    const skip = await createTask({ name: 'skip', scheduleType: 'cron', expression: '* * * * * *', eventTopic: 's' });
    const once = await createTask({
      name: 'run once',
      scheduleType: 'cron',
      expression: '* * * * * *',
      eventTopic: 'o',
      catchUp: 'run_once',
    });
    await sleep(2200);
    await server.close();
    // Down for about 4 s: four slots pass with nothing running, more than the 1 s grace.
    await sleep(4000);
    const restartedAt = Date.now();
    server = await start();
    await sleep(1600);
    // Stopped before reading, so no firing is half recorded while the runs are compared.
    await server.services.scheduling.stop();
    const { store } = server.services;
    const runsOf = async (id: string) =>
      (await store.schedules.listRuns({ workspaceId: 'default', scheduleId: id, limit: 100 })).items;
    const lateSlots = (runs: Awaited<ReturnType<typeof runsOf>>) =>
      runs.filter((run) => run.triggeredAt >= restartedAt && (run.slotAt ?? 0) < restartedAt - 1000);

    const skipRuns = await runsOf(skip.id);
    expect(lateSlots(skipRuns)).toEqual([]);
    expect(skipRuns.some((run) => run.triggeredAt >= restartedAt)).toBe(true);

    const onceRuns = await runsOf(once.id);
    expect(lateSlots(onceRuns)).toHaveLength(1);
    // Apart from that one catch-up firing, both schedules fired the same slots after the restart.
    const afterRestart = (runs: typeof onceRuns) =>
      runs
        .filter((run) => run.triggeredAt >= restartedAt && (run.slotAt ?? 0) >= restartedAt - 1000)
        .map((run) => run.slotAt)
        .sort();
    expect(afterRestart(onceRuns)).toEqual(afterRestart(skipRuns));
  });
});
