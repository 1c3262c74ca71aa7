/**
 * The bus delivery lease (issue 8): two dispatchers on one database file play two processes. A slow
 * deliverer keeps its claim by heartbeat, so it is not delivered again while it still runs; a claim
 * left by a crashed process is retried once its lease lapses, not before.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { memoryLogger } from '../../test/helpers.js';
import { parseConfig } from '../config/parse.js';
import { ConfigError } from '../errors/index.js';
import { createSqliteStore } from '../store/sqlite/sqlite-store.js';
import type { Store } from '../store/types.js';
import { type Deliverer, EventBus } from './event-bus.js';

const LEASE_MS = 200;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const settings = {
  subscribers: [{ id: 'slow', topics: ['jobs.*'], agent: 'worker' }],
  tick_ms: 50,
  max_attempts: 5,
  retry_base_ms: 10,
  lease_ms: LEASE_MS,
};

/** A deliverer that takes `ms` and records when each attempt started. */
function slowDeliverer(ms: number) {
  const started: Array<{ at: number; attempt: number }> = [];
  const deliver: Deliverer = async (_subscriber, _event, delivery) => {
    started.push({ at: Date.now(), attempt: delivery.attempts });
    await sleep(ms);
  };
  return { deliver, started };
}

describe('bus delivery lease', () => {
  let dir: string;
  const stores: Store[] = [];
  const buses: EventBus[] = [];

  const open = async (worker: string, deliver: Deliverer) => {
    const store = createSqliteStore({ url: `sqlite:${join(dir, 'bus.db')}` });
    await store.migrate();
    stores.push(store);
    const bus = new EventBus({ store: store.eventBus, settings, deliver, logger: memoryLogger().logger, worker });
    buses.push(bus);
    return { store, bus };
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'agentos-bus-lease-'));
  });
  afterEach(async () => {
    for (const bus of buses.splice(0)) await bus.stop(100);
    for (const store of stores.splice(0)) await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('does not redeliver a delivery that outlives its lease while it still runs', async () => {
    const slow = slowDeliverer(LEASE_MS * 5);
    const first = await open('process-a', slow.deliver);
    const second = await open('process-b', slow.deliver);
    first.bus.start();
    second.bus.start();
    const { event } = await first.bus.publish({ workspaceId: 'default', topic: 'jobs.run', payload: { n: 1 } });

    let [delivery] = await first.store.eventBus.listDeliveries('default', event.id);
    for (let round = 0; round < 60 && delivery?.status !== 'delivered'; round += 1) {
      await sleep(50);
      [delivery] = await first.store.eventBus.listDeliveries('default', event.id);
    }
    expect(delivery).toMatchObject({ status: 'delivered', attempts: 1, lockedBy: null });
    // Five leases long, one attempt: the heartbeat kept the claim.
    expect(slow.started).toHaveLength(1);
  });

  it("retries a crashed process's claim once its lease lapses, and not before", async () => {
    const quick = slowDeliverer(0);
    const survivor = await open('process-b', quick.deliver);
    const { event } = await survivor.store.eventBus.publish(
      { id: 'evt-crashed', workspaceId: 'default', topic: 'jobs.run', payload: {} },
      ['slow'],
    );
    const claimedAt = Date.now();
    // The claim of a process that died right after claiming: no heartbeat will ever renew it.
    const claim = await survivor.store.eventBus.claimDelivery(event.id, 'slow', 0, {
      owner: 'process-dead',
      leaseUntil: claimedAt + LEASE_MS,
      at: claimedAt,
    });
    expect(claim).not.toBeNull();
    survivor.bus.start();
    await sleep(LEASE_MS / 2);
    expect(quick.started).toHaveLength(0);

    let [delivery] = await survivor.store.eventBus.listDeliveries('default', event.id);
    for (let round = 0; round < 40 && delivery?.status !== 'delivered'; round += 1) {
      await sleep(25);
      [delivery] = await survivor.store.eventBus.listDeliveries('default', event.id);
    }
    expect(delivery).toMatchObject({ status: 'delivered', attempts: 2 });
    expect(quick.started).toEqual([{ at: expect.any(Number), attempt: 2 }]);
    expect(quick.started[0]?.at ?? 0).toBeGreaterThanOrEqual(claimedAt + LEASE_MS);
  });

  it('renews only the lease this process holds', async () => {
    const { store } = await open('process-a', slowDeliverer(0).deliver);
    await store.eventBus.publish({ id: 'evt-1', workspaceId: 'default', topic: 'jobs.run', payload: {} }, ['slow']);
    const at = Date.now();
    await store.eventBus.claimDelivery('evt-1', 'slow', 0, { owner: 'process-a', leaseUntil: at + 100, at });
    expect(await store.eventBus.renewDeliveryLease('evt-1', 'slow', 'process-b', at + 5000)).toBe(false);
    expect(await store.eventBus.renewDeliveryLease('evt-1', 'slow', 'process-a', at + 5000)).toBe(true);
    const [delivery] = await store.eventBus.listDeliveries('default', 'evt-1');
    expect(delivery?.leaseUntil).toBe(at + 5000);
  });

  it('refuses a webhook timeout as long as the lease', () => {
    const config = {
      events: {
        lease_ms: 10_000,
        subscribers: [
          {
            id: 'hook',
            topics: ['a'],
            webhook: { url: 'https://example.com/hook', secret: 'x'.repeat(16), timeout_ms: 10_000 },
          },
        ],
      },
    };
    expect(() => parseConfig(config, { source: 'test' })).toThrow(ConfigError);
    expect(parseConfig({}, { source: 'test' }).events.lease_ms).toBe(60_000);
  });
});
