import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { memoryLogger } from '../../test/helpers.js';
import { createSqliteStore } from '../store/sqlite/sqlite-store.js';
import type { ScheduleCreate, ScheduleRecord, Store } from '../store/types.js';
import { ScheduleEngine } from './engine.js';
import type { FiringContext, FiringOutcome } from './executor.js';

const T0 = Date.parse('2026-03-01T10:00:00.000Z');

/** An engine over its own store on a shared database file, with a clock the test moves. */
function engineOn(path: string, worker: string, clock: { now: number }, execute = recorder()) {
  const store = createSqliteStore({ url: `sqlite:${path}`, now: () => clock.now });
  const engine = new ScheduleEngine({
    store: store.schedules,
    execute: execute.fn,
    logger: memoryLogger().logger,
    worker,
    tickMs: 1000,
    misfireGraceMs: 1000,
    now: () => clock.now,
  });
  return { store, engine, fired: execute.fired };
}

function recorder(outcome: () => Promise<FiringOutcome> = async () => ({ status: 'success' })) {
  const fired: Array<{ id: string; slotAt: number | null }> = [];
  return {
    fired,
    fn: async (schedule: ScheduleRecord, context: FiringContext) => {
      fired.push({ id: schedule.id, slotAt: context.slotAt });
      return outcome();
    },
  };
}

function everySecond(id: string, overrides: Partial<ScheduleCreate> = {}): ScheduleCreate {
  return {
    id,
    workspaceId: 'default',
    name: id,
    kind: 'cron',
    cronExpr: '* * * * * *',
    timezone: 'UTC',
    target: { type: 'topic', topic: 't' },
    status: 'active',
    nextRunAt: T0 + 1000,
    timeoutMs: 5000,
    ...overrides,
  };
}

/** Lets the firings started by a tick (not awaited by it) record their outcome and release. */
async function settle(store: Store, ids: string[]) {
  for (let round = 0; round < 100; round += 1) {
    const rows = await Promise.all(ids.map((id) => store.schedules.get('default', id)));
    if (rows.every((row) => row?.lockedBy === null)) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error('firings did not settle');
}

describe('schedule engine', () => {
  let dir: string;
  let path: string;
  const open: Store[] = [];
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'agentos-schedules-'));
    path = join(dir, 'agentos.db');
    const store = createSqliteStore({ url: `sqlite:${path}` });
    await store.migrate();
    await store.close();
  });
  afterEach(async () => {
    for (const store of open.splice(0)) await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('after a restart, skips missed slots (skip) or fires once for them (run_once)', async () => {
    const clock = { now: T0 + 1000 };
    const first = engineOn(path, 'before-restart', clock);
    open.push(first.store);
    await first.store.schedules.create(everySecond('skip'));
    await first.store.schedules.create(everySecond('once-for-all', { catchUp: 'run_once' }));
    expect(await first.engine.tick()).toBe(2);
    await settle(first.store, ['skip', 'once-for-all']);
    await first.engine.stop();

    // Down for 30 s: 29 slots pass with no process running.
    clock.now = T0 + 31_200;
    const second = engineOn(path, 'after-restart', clock);
    open.push(second.store);
    expect(await second.engine.tick()).toBe(1);
    await settle(second.store, ['skip', 'once-for-all']);
    expect(second.fired).toEqual([{ id: 'once-for-all', slotAt: T0 + 2000 }]);
    for (const id of ['skip', 'once-for-all']) {
      expect((await second.store.schedules.get('default', id))?.nextRunAt).toBe(T0 + 32_000);
    }

    // Back on the grid: the next slot fires for both, once.
    clock.now = T0 + 32_010;
    expect(await second.engine.tick()).toBe(2);
    await settle(second.store, ['skip', 'once-for-all']);
    expect(second.fired.slice(1).map((entry) => entry.slotAt)).toEqual([T0 + 32_000, T0 + 32_000]);
    const skipRuns = await second.store.schedules.listRuns({ workspaceId: 'default', scheduleId: 'skip' });
    expect(skipRuns.items.map((run) => run.slotAt).sort()).toEqual([T0 + 1000, T0 + 32_000]);
    await second.engine.stop();
  });

  it('fires every slot of a busy machine late rather than dropping it, within the grace', async () => {
    const clock = { now: T0 + 1000 };
    const { store, engine, fired } = engineOn(path, 'w', clock);
    open.push(store);
    await store.schedules.create(everySecond('s'));
    // Ticks 600 ms late each time: each slot still fires, in order.
    for (let slot = 1; slot <= 5; slot += 1) {
      clock.now = T0 + slot * 1000 + 600;
      await engine.tick();
      await settle(store, ['s']);
    }
    expect(fired.map((entry) => entry.slotAt)).toEqual([1, 2, 3, 4, 5].map((slot) => T0 + slot * 1000));
    await engine.stop();
  });

  it('a once-schedule fires once and is completed', async () => {
    const clock = { now: T0 };
    const { store, engine, fired } = engineOn(path, 'w', clock);
    open.push(store);
    await store.schedules.create(
      everySecond('one', { kind: 'once', cronExpr: null, atMs: T0 + 500, nextRunAt: T0 + 500 }),
    );
    for (let step = 0; step < 5; step += 1) {
      clock.now = T0 + step * 400;
      await engine.tick();
      await settle(store, ['one']);
    }
    expect(fired).toEqual([{ id: 'one', slotAt: T0 + 500 }]);
    expect(await store.schedules.get('default', 'one')).toMatchObject({
      status: 'completed',
      nextRunAt: null,
      runCount: 1,
    });
    await engine.stop();
  });

  it('a manual trigger takes the same lease: 409 while a firing runs, and the slot waits for the lease', async () => {
    const clock = { now: T0 + 1000 };
    let release: () => void = () => undefined;
    const slow = recorder(
      () =>
        new Promise<FiringOutcome>((resolve) => {
          release = () => resolve({ status: 'success' });
        }),
    );
    const a = engineOn(path, 'a', clock, slow);
    const b = engineOn(path, 'b', clock);
    open.push(a.store, b.store);
    await a.store.schedules.create(everySecond('s'));
    expect(await a.engine.tick()).toBe(1);
    await expect(b.engine.trigger('default', 's')).rejects.toMatchObject({ code: 'AOS_SCHEDULE_BUSY', status: 409 });
    // The next slot comes due while the lease is held (well within the timeout): nobody fires it yet.
    clock.now = T0 + 2100;
    expect(await b.engine.tick()).toBe(0);
    release();
    await settle(a.store, ['s']);
    expect(await b.engine.tick()).toBe(1);
    await settle(b.store, ['s']);
    const manual = await b.engine.trigger('default', 's');
    expect(manual).toMatchObject({ manual: true, slotAt: null, status: 'success' });
    expect(b.fired.map((entry) => entry.slotAt)).toEqual([T0 + 2000, null]);
    await a.engine.stop();
    await b.engine.stop();
  });

  it('retries a failed firing up to max_retries, one recorded run per attempt', async () => {
    const clock = { now: T0 + 1000 };
    let calls = 0;
    const flaky = recorder(async () => {
      calls += 1;
      return calls < 3 ? { status: 'failed', error: `boom ${calls}` } : { status: 'success' };
    });
    const { store, engine } = engineOn(path, 'w', clock, flaky);
    open.push(store);
    await store.schedules.create(everySecond('r', { maxRetries: 5, retryDelayMs: 1 }));
    await engine.tick();
    await settle(store, ['r']);
    const runs = await store.schedules.listRuns({ workspaceId: 'default', scheduleId: 'r' });
    expect(runs.items.map((run) => [run.attempt, run.status]).sort()).toEqual([
      [1, 'failed'],
      [2, 'failed'],
      [3, 'success'],
    ]);
    expect((await store.schedules.get('default', 'r'))?.runCount).toBe(1);
    await engine.stop();
  });

  it('renews the lease while a firing runs, so a long firing is never claimed twice', async () => {
    const store = createSqliteStore({ url: `sqlite:${path}` });
    open.push(store);
    let finish: () => void = () => undefined;
    const fired: string[] = [];
    const engine = (worker: string) =>
      new ScheduleEngine({
        store: store.schedules,
        execute: async () => {
          fired.push(worker);
          // Runs far past its lease (300 ms); only heartbeats keep the lease.
          await new Promise<void>((resolve) => {
            finish = resolve;
          });
          return { status: 'success' };
        },
        logger: memoryLogger().logger,
        worker,
        tickMs: 1000,
        misfireGraceMs: 60_000,
        leaseMarginMs: 100,
      });
    const [a, b] = [engine('a'), engine('b')];
    await store.schedules.create(everySecond('long', { timeoutMs: 200, nextRunAt: Date.now() - 10 }));
    expect(await a.tick()).toBe(1);
    const leased = (await store.schedules.get('default', 'long'))?.leaseUntil ?? 0;
    await new Promise((resolve) => setTimeout(resolve, 900));
    // The lease moved on with the heartbeats (every 100 ms), and the due slot was not claimed by b.
    expect((await store.schedules.get('default', 'long'))?.leaseUntil).toBeGreaterThan(leased + 400);
    await store.schedules.update('default', 'long', { nextRunAt: Date.now() - 10 });
    expect(await b.tick()).toBe(0);
    finish();
    await settle(store, ['long']);
    expect(fired).toEqual(['a']);
    await a.stop();
    await b.stop();
  });
});
