import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer } from '../../test/helpers.js';
import type { RunningServer } from '../main.js';
import { createDeliverer, deliverySessionId } from './deliverers.js';
import { SIGNATURE_HEADER, verifySignature } from './signature.js';

/** The 202 body of `POST /api/events/{topic}`. */
interface Published {
  event: { id: string };
  duplicate: boolean;
  subscribers: string[];
}

const SECRET = 'test-webhook-secret-0123456789';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A webhook receiver on 127.0.0.1 that verifies the signature and fails the first delivery of each event. */
async function receiver() {
  const received: Array<{ id: string; valid: boolean; attempt: string | undefined }> = [];
  const effects = new Set<string>();
  const failedOnce = new Set<string>();
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      const valid = verifySignature(SECRET, body, request.headers[SIGNATURE_HEADER] as string | undefined);
      const event = JSON.parse(body.toString()) as { id: string };
      received.push({ id: event.id, valid, attempt: request.headers['x-agentos-delivery-attempt'] as string });
      if (!valid) {
        response.writeHead(401).end();
      } else if (!failedOnce.has(event.id)) {
        // Not acknowledged: the bus must deliver it again.
        failedOnce.add(event.id);
        response.writeHead(500).end();
      } else {
        // The receiver deduplicates on the idempotency key, as a real one would.
        effects.add(request.headers['idempotency-key'] as string);
        response.writeHead(204).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return { url, received, effects, close: () => new Promise((resolve) => server.close(resolve)) };
}

describe('event bus', () => {
  let server: RunningServer | undefined;
  let hook: Awaited<ReturnType<typeof receiver>> | undefined;
  afterEach(async () => {
    await server?.close();
    await hook?.close();
    server = undefined;
    hook = undefined;
  });

  it('delivers to a webhook at least once with a valid HMAC, retrying until acknowledged; a repeated key is not delivered twice', async () => {
    hook = await receiver();
    server = await startTestServer({
      config: {
        events: {
          tick_ms: 100,
          retry_base_ms: 50,
          subscribers: [{ id: 'hook', topics: ['orders.*'], webhook: { url: hook.url, secret: SECRET } }],
        },
      },
    });
    const publish = (topic: string, body: Record<string, unknown>) =>
      fetch(`${server?.url}/api/events/${topic}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then(async (response) => ({ status: response.status, body: (await response.json()) as Published }));

    const first = await publish('orders.created', { payload: { order: 1 }, idempotencyKey: 'order-1' });
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({ duplicate: false, subscribers: ['hook'] });
    const again = await publish('orders.created', { payload: { order: 1 }, idempotencyKey: 'order-1' });
    expect(again.body).toMatchObject({ duplicate: true, event: { id: first.body.event.id } });
    const second = await publish('orders.paid', { payload: { order: 2 } });
    const unrelated = await publish('billing.done', { payload: {} });
    expect(unrelated.body.subscribers).toEqual([]);

    const ids = [first.body.event.id, second.body.event.id];
    for (let round = 0; round < 100 && hook.effects.size < 2; round += 1) await sleep(50);
    expect([...hook.effects].sort()).toEqual([...ids].sort());
    expect(hook.received.every((entry) => entry.valid)).toBe(true);
    // Each event: the refused attempt, then the acknowledged one; the duplicate publication never arrives.
    for (const id of ids) {
      expect(hook.received.filter((entry) => entry.id === id).map((entry) => entry.attempt)).toEqual(['1', '2']);
    }
    const detail = await fetch(`${server.url}/api/events/${ids[0]}`).then((response) => response.json());
    expect(detail).toMatchObject({
      event: { topic: 'orders.created', idempotencyKey: 'order-1' },
      deliveries: [{ subscriberId: 'hook', status: 'delivered', attempts: 2 }],
    });
    const list = (await fetch(`${server.url}/api/events?topic=orders.created`).then((response) => response.json())) as {
      count: number;
    };
    expect(list.count).toBe(1);
  });

  it('gives up after max_attempts and records the last error', async () => {
    server = await startTestServer({
      config: {
        events: {
          tick_ms: 50,
          retry_base_ms: 10,
          max_attempts: 3,
          // Nothing listens on port 9 of loopback: every attempt fails.
          subscribers: [{ id: 'dead', topics: ['*'], webhook: { url: 'http://127.0.0.1:9/x', secret: SECRET } }],
        },
      },
    });
    const { event } = await server.services.scheduling.bus.publish({ workspaceId: 'default', topic: 'x', payload: {} });
    let deliveries = await server.services.store.eventBus.listDeliveries('default', event.id);
    for (let round = 0; round < 100 && deliveries[0]?.status === 'pending'; round += 1) {
      await sleep(50);
      deliveries = await server.services.store.eventBus.listDeliveries('default', event.id);
    }
    expect(deliveries[0]).toMatchObject({ status: 'failed', attempts: 3 });
    expect(deliveries[0]?.lastError).toEqual(expect.any(String));
  });

  it('an agent subscriber runs once per event, also when the delivery is retried', async () => {
    server = await startTestServer({
      config: {
        agents: [{ id: 'assistant', name: 'Assistant', model: 'local:default' }],
        events: { tick_ms: 100, subscribers: [{ id: 'ask', topics: ['questions'], agent: 'assistant' }] },
      },
    });
    const { services } = server;
    const { event } = await services.scheduling.bus.publish({
      workspaceId: 'default',
      topic: 'questions',
      payload: { message: 'What is 2+2?' },
    });
    const sessionId = deliverySessionId(event.id, 'ask');
    let runs = await services.store.runs.list({ workspaceId: 'default', sessionId });
    for (let round = 0; round < 100 && runs.items[0]?.status !== 'completed'; round += 1) {
      await sleep(50);
      runs = await services.store.runs.list({ workspaceId: 'default', sessionId });
    }
    expect(runs.items.map((run) => run.status)).toEqual(['completed']);
    let [delivery] = await services.store.eventBus.listDeliveries('default', event.id);
    for (let round = 0; round < 50 && delivery?.status !== 'delivered'; round += 1) {
      await sleep(50);
      [delivery] = await services.store.eventBus.listDeliveries('default', event.id);
    }
    expect(delivery).toMatchObject({ status: 'delivered', attempts: 1 });

    // A redelivery (as after a crash between the run and the acknowledgement) finds the completed run.
    const deliver = createDeliverer({
      store: services.store,
      runs: services.runs,
      internal: services.scheduling.internal,
      inject: () => undefined,
    });
    const subscriber = services.config.events.subscribers[0];
    if (!subscriber || !delivery) throw new Error('subscriber and delivery expected');
    await deliver(subscriber, event, { ...delivery, attempts: 2 }, new AbortController().signal);
    expect((await services.store.runs.list({ workspaceId: 'default', sessionId })).total).toBe(1);
  });

  it('a workflow subscriber starts a workflow run with the event payload', async () => {
    server = await startTestServer({
      config: {
        agents: [{ id: 'assistant', name: 'Assistant', model: 'local:default' }],
        workflows: [{ id: 'digest', name: 'Digest', steps: [{ name: 'write', agent: 'assistant' }] }],
        events: { tick_ms: 100, subscribers: [{ id: 'flow', topics: ['reports.*'], workflow: 'digest' }] },
      },
    });
    const { services } = server;
    const { event } = await services.scheduling.bus.publish({
      workspaceId: 'default',
      topic: 'reports.daily',
      payload: { message: 'Summarise the day' },
    });
    let [delivery] = await services.store.eventBus.listDeliveries('default', event.id);
    for (let round = 0; round < 100 && delivery?.status === 'pending'; round += 1) {
      await sleep(50);
      [delivery] = await services.store.eventBus.listDeliveries('default', event.id);
    }
    expect(delivery).toMatchObject({ status: 'delivered', lastError: null });
    const runs = await services.store.runs.list({
      workspaceId: 'default',
      sessionId: deliverySessionId(event.id, 'flow'),
      componentType: 'workflow',
    });
    expect(runs.items.map((run) => [run.componentId, run.status])).toEqual([['digest', 'completed']]);
  });
});
