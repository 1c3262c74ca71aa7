/**
 * Contract of schedules and the event bus, registered by `runStoreContract` so it runs on every
 * adapter (SQLite always, Postgres with `AGENTOS_TEST_PG=1`).
 * @module
 */
import { describe, expect, it } from 'vitest';
import type { ScheduleCreate } from '../schedules-types.js';
import type { Store } from '../types.js';

function schedule(overrides: Partial<ScheduleCreate> = {}): ScheduleCreate {
  return {
    id: 'sch-1',
    workspaceId: 'default',
    name: 'Every second',
    kind: 'interval',
    intervalMs: 1000,
    timezone: 'UTC',
    target: { type: 'topic', topic: 'tick' },
    status: 'active',
    nextRunAt: 1000,
    ...overrides,
  };
}

/** Registers the schedules and event-bus contract; `store()` returns the suite's store (cleared before each test). */
export function runSchedulesContract(store: () => Store): void {
  describe('schedules', () => {
    it('creates, reads back and scopes by workspace', async () => {
      const created = await store().schedules.create(schedule({ payload: { a: [1] }, timeoutMs: 5000 }));
      expect(created).toMatchObject({ runCount: 0, catchUp: 'skip', timeoutMs: 5000, payload: { a: [1] } });
      expect(await store().schedules.get('default', 'sch-1')).toEqual(created);
      expect(await store().schedules.get('other', 'sch-1')).toBeNull();
      expect((await store().schedules.findByName('default', 'Every second'))?.id).toBe('sch-1');
      await expect(store().schedules.create(schedule())).rejects.toMatchObject({ code: 'AOS_CONFLICT' });
    });

    it('keeps the author’s scopes (null when none were recorded) and replaces them on update', async () => {
      const created = await store().schedules.create(schedule({ authorScopes: ['agents:a:run', 'workflows:run'] }));
      expect(created.authorScopes).toEqual(['agents:a:run', 'workflows:run']);
      const bare = await store().schedules.create(schedule({ id: 'sch-2', name: 'bare' }));
      expect(bare.authorScopes).toBeNull();
      const updated = await store().schedules.update('default', 'sch-1', { authorScopes: ['teams:run'] });
      expect(updated?.authorScopes).toEqual(['teams:run']);
    });

    it('lists oldest first, filtered by status and target type', async () => {
      await store().schedules.create(schedule({ id: 'a' }));
      await store().schedules.create(
        schedule({ id: 'b', status: 'paused', target: { type: 'endpoint', method: 'POST', endpoint: '/x' } }),
      );
      const all = await store().schedules.list({ workspaceId: 'default' });
      expect(all.items.map((item) => item.id)).toEqual(['a', 'b']);
      expect(all.total).toBe(2);
      const active = await store().schedules.list({ workspaceId: 'default', statuses: ['active'] });
      expect(active.items.map((item) => item.id)).toEqual(['a']);
      const endpoints = await store().schedules.list({ workspaceId: 'default', targetType: 'endpoint' });
      expect(endpoints.items.map((item) => item.id)).toEqual(['b']);
      expect((await store().schedules.list({ workspaceId: 'other' })).total).toBe(0);
    });

    it('lists due rows only when active, due and unleased', async () => {
      await store().schedules.create(schedule({ id: 'due', nextRunAt: 1000 }));
      await store().schedules.create(schedule({ id: 'later', nextRunAt: 5000 }));
      await store().schedules.create(schedule({ id: 'paused', status: 'paused', nextRunAt: 500 }));
      await store().schedules.create(schedule({ id: 'none', nextRunAt: null }));
      expect((await store().schedules.listDue(2000, 10)).map((row) => row.id)).toEqual(['due']);
      await store().schedules.claim('due', 1000, 1500, { owner: 'w1', leaseUntil: 10_000, at: 2000 });
      expect(await store().schedules.listDue(2000, 10)).toEqual([]);
      // An expired lease makes the row claimable again.
      expect((await store().schedules.listDue(10_001, 10)).map((row) => row.id)).toEqual(['due', 'later']);
    });

    it('claims a slot once: the second claim of the same slot loses', async () => {
      await store().schedules.create(schedule());
      const lease = { owner: 'w1', leaseUntil: 5000, at: 1000 };
      const [first, second] = await Promise.all([
        store().schedules.claim('sch-1', 1000, 2000, lease),
        store().schedules.claim('sch-1', 1000, 2000, { ...lease, owner: 'w2' }),
      ]);
      const winners = [first, second].filter((row) => row !== null);
      expect(winners).toHaveLength(1);
      expect(winners[0]).toMatchObject({ nextRunAt: 2000, runCount: 1, lastRunAt: 1000, leaseUntil: 5000 });
      // The lease blocks the next slot until released.
      expect(
        await store().schedules.claim('sch-1', 2000, 3000, { owner: 'w2', leaseUntil: 6000, at: 2000 }),
      ).toBeNull();
      expect(await store().schedules.renewLease('sch-1', 'other', 9000)).toBe(false);
      expect(await store().schedules.renewLease('sch-1', winners[0]?.lockedBy ?? '', 9000)).toBe(true);
      await store().schedules.release('sch-1', winners[0]?.lockedBy ?? '', 2100);
      const next = await store().schedules.claim('sch-1', 2000, 3000, { owner: 'w2', leaseUntil: 6000, at: 2100 });
      expect(next).toMatchObject({ runCount: 2, lockedBy: 'w2' });
    });

    it('skips missed slots without counting a run, and lock/release takes the same lease', async () => {
      await store().schedules.create(schedule());
      const skipped = await store().schedules.skip('sch-1', 1000, 9000, 8500);
      expect(skipped).toMatchObject({ nextRunAt: 9000, runCount: 0, lockedBy: null });
      expect(await store().schedules.skip('sch-1', 1000, 9000, 8500)).toBeNull();
      const locked = await store().schedules.lock('default', 'sch-1', { owner: 'm', leaseUntil: 20_000, at: 8600 });
      expect(locked).toMatchObject({ runCount: 1, nextRunAt: 9000, lockedBy: 'm' });
      expect(await store().schedules.lock('default', 'sch-1', { owner: 'n', leaseUntil: 20_000, at: 8700 })).toBeNull();
      expect(await store().schedules.claim('sch-1', 9000, 10_000, { owner: 'w', leaseUntil: 1, at: 9000 })).toBeNull();
      await store().schedules.release('sch-1', 'm', 8800, 'completed');
      expect(await store().schedules.get('default', 'sch-1')).toMatchObject({ status: 'completed', lockedBy: null });
    });

    it('updates, and deletes with its runs', async () => {
      await store().schedules.create(schedule());
      const updated = await store().schedules.update('default', 'sch-1', { status: 'paused', nextRunAt: null });
      expect(updated).toMatchObject({ status: 'paused', nextRunAt: null });
      expect(await store().schedules.update('other', 'sch-1', { status: 'active' })).toBeNull();
      await store().schedules.createRun({
        id: 'r1',
        scheduleId: 'sch-1',
        workspaceId: 'default',
        slotAt: 1000,
        attempt: 1,
        manual: false,
        worker: 'w1',
        triggeredAt: 1001,
        input: { x: 1 },
      });
      expect(await store().schedules.delete('other', 'sch-1')).toBe(false);
      expect(await store().schedules.delete('default', 'sch-1')).toBe(true);
      expect(await store().schedules.getRun('default', 'sch-1', 'r1')).toBeNull();
    });

    it('records runs and lists them newest first', async () => {
      await store().schedules.create(schedule());
      for (const [index, id] of ['r1', 'r2'].entries()) {
        await store().schedules.createRun({
          id,
          scheduleId: 'sch-1',
          workspaceId: 'default',
          slotAt: 1000 * (index + 1),
          attempt: 1,
          manual: index === 1,
          worker: 'w1',
          triggeredAt: 1000 * (index + 1),
        });
      }
      const done = await store().schedules.updateRun('r1', {
        status: 'success',
        statusCode: 200,
        completedAt: 1500,
        output: { content: 'ok' },
      });
      expect(done).toMatchObject({ status: 'success', statusCode: 200, output: { content: 'ok' }, manual: false });
      const page = await store().schedules.listRuns({ workspaceId: 'default', scheduleId: 'sch-1' });
      expect(page.total).toBe(2);
      expect(new Set(page.items.map((run) => run.id))).toEqual(new Set(['r1', 'r2']));
      expect(await store().schedules.getRun('other', 'sch-1', 'r1')).toBeNull();
    });
  });

  describe('event bus', () => {
    it('stores an event with one pending delivery per subscriber; a repeated idempotency key writes nothing', async () => {
      const first = await store().eventBus.publish(
        { id: 'e1', workspaceId: 'default', topic: 't', payload: { n: 1 }, idempotencyKey: 'k1' },
        ['s1', 's2'],
      );
      expect(first.duplicate).toBe(false);
      const again = await store().eventBus.publish(
        { id: 'e2', workspaceId: 'default', topic: 't', payload: { n: 2 }, idempotencyKey: 'k1' },
        ['s1', 's2'],
      );
      expect(again).toMatchObject({ duplicate: true, event: { id: 'e1', payload: { n: 1 } } });
      // Without a key, or in another workspace, the same content is a new event.
      await store().eventBus.publish({ id: 'e3', workspaceId: 'default', topic: 't', payload: {} }, ['s1']);
      await store().eventBus.publish({ id: 'e4', workspaceId: 'default', topic: 't', payload: {} }, ['s1']);
      await store().eventBus.publish(
        { id: 'e5', workspaceId: 'other', topic: 't', payload: {}, idempotencyKey: 'k1' },
        [],
      );
      expect((await store().eventBus.listEvents({ workspaceId: 'default' })).total).toBe(3);
      expect((await store().eventBus.listDeliveries('default', 'e1')).map((row) => row.subscriberId)).toEqual([
        's1',
        's2',
      ]);
      expect(await store().eventBus.getEvent('other', 'e1')).toBeNull();
    });

    it('claims a delivery attempt once and settles it', async () => {
      await store().eventBus.publish({ id: 'e1', workspaceId: 'default', topic: 't', payload: {} }, ['s1']);
      const at = Date.now() + 1000;
      const due = await store().eventBus.listDueDeliveries(at, 10);
      expect(due).toHaveLength(1);
      const lease = { owner: 'w1', leaseUntil: at + 5000, at };
      const [a, b] = await Promise.all([
        store().eventBus.claimDelivery('e1', 's1', 0, lease),
        store().eventBus.claimDelivery('e1', 's1', 0, { ...lease, owner: 'w2' }),
      ]);
      expect([a, b].filter((row) => row !== null)).toHaveLength(1);
      const owner = (a ?? b)?.lockedBy ?? '';
      await store().eventBus.settleDelivery('e1', 's1', owner, {
        status: 'pending',
        nextAttemptAt: at + 100,
        error: 'boom',
      });
      expect(await store().eventBus.listDueDeliveries(at, 10)).toEqual([]);
      const retry = await store().eventBus.claimDelivery('e1', 's1', 1, {
        owner: 'w1',
        leaseUntil: at + 9000,
        at: at + 100,
      });
      expect(retry).toMatchObject({ attempts: 2, lastError: 'boom' });
      await store().eventBus.settleDelivery('e1', 's1', 'w1', { status: 'delivered', at: at + 200 });
      const [row] = await store().eventBus.listDeliveries('default', 'e1');
      expect(row).toMatchObject({ status: 'delivered', deliveredAt: at + 200, lastError: null, lockedBy: null });
    });

    it('renews a delivery lease only for its holder, and not once settled', async () => {
      await store().eventBus.publish({ id: 'e1', workspaceId: 'default', topic: 't', payload: {} }, ['s1']);
      const at = Date.now();
      await store().eventBus.claimDelivery('e1', 's1', 0, { owner: 'w1', leaseUntil: at + 100, at });
      expect(await store().eventBus.renewDeliveryLease('e1', 's1', 'w2', at + 5000)).toBe(false);
      expect(await store().eventBus.renewDeliveryLease('e1', 's1', 'w1', at + 5000)).toBe(true);
      // Held past its first lease: not due for anyone else.
      expect(await store().eventBus.listDueDeliveries(at + 1000, 10)).toEqual([]);
      await store().eventBus.settleDelivery('e1', 's1', 'w1', { status: 'delivered', at: at + 200 });
      expect(await store().eventBus.renewDeliveryLease('e1', 's1', 'w1', at + 9000)).toBe(false);
    });
  });
}
