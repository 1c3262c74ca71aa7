/**
 * How each kind of subscriber takes an event. Webhooks get a signed POST and acknowledge with a 2xx.
 * Agents and workflows start a run with the event payload; their run lives in a session derived from
 * (event, subscriber), so a retried delivery finds the run an earlier attempt completed instead of
 * running it again (no double effect), which is how at-least-once delivery stays effectively once.
 * @module
 */
import type { RunManager } from '../runtime/run-manager.js';
import type { Injector } from '../schedules/executor.js';
import type { InternalPrincipals } from '../schedules/internal-principal.js';
import type { BusDeliveryRecord, BusEventRecord, Store } from '../store/types.js';
import type { BusSubscriber, Deliverer } from './event-bus.js';
import { SIGNATURE_HEADER, signBody } from './signature.js';

/** Options of {@link createDeliverer}. */
export interface DelivererOptions {
  store: Store;
  runs: RunManager;
  internal: InternalPrincipals;
  /** Set once the app is built; workflow subscribers fail (and are retried) until then. */
  inject: () => Injector | undefined;
  fetch?: typeof fetch;
}

/** The session a subscriber's run of an event lives in; stable across retries. */
export function deliverySessionId(eventId: string, subscriberId: string): string {
  return `bus-${eventId}-${subscriberId}`.slice(0, 128);
}

/** The text an agent receives: `payload.message` when it is a string, else the payload as JSON. */
function messageOf(payload: Record<string, unknown>, topic: string): string {
  return typeof payload.message === 'string' ? payload.message : JSON.stringify({ topic, payload });
}

/** Builds the deliverer the bus calls. */
export function createDeliverer(options: DelivererOptions): Deliverer {
  const fetchImpl = options.fetch ?? fetch;

  async function webhook(
    subscriber: BusSubscriber,
    config: NonNullable<BusSubscriber['webhook']>,
    event: BusEventRecord,
    delivery: BusDeliveryRecord,
    signal: AbortSignal,
  ): Promise<void> {
    const body = JSON.stringify({
      id: event.id,
      topic: event.topic,
      payload: event.payload,
      workspace_id: event.workspaceId,
      idempotency_key: event.idempotencyKey,
      created_at: event.createdAt,
    });
    const response = await fetchImpl(config.url, {
      method: 'POST',
      body,
      headers: {
        ...config.headers,
        'content-type': 'application/json',
        [SIGNATURE_HEADER]: signBody(config.secret, body),
        'x-agentos-event-id': event.id,
        'x-agentos-topic': event.topic,
        'x-agentos-subscriber': subscriber.id,
        'x-agentos-delivery-attempt': String(delivery.attempts),
        // Receivers deduplicate retried deliveries on this.
        'idempotency-key': event.id,
      },
      signal: AbortSignal.any([signal, AbortSignal.timeout(config.timeout_ms)]),
      redirect: 'manual',
    });
    await response.arrayBuffer().catch(() => undefined);
    if (response.status < 200 || response.status >= 300) throw new Error(`webhook answered HTTP ${response.status}`);
  }

  /** A completed run of an earlier attempt already took this event. */
  async function alreadyDone(workspaceId: string, sessionId: string): Promise<boolean> {
    const runs = await options.store.runs.list({ workspaceId, sessionId, status: 'completed', limit: 1 });
    return runs.total > 0;
  }

  async function agent(
    subscriber: BusSubscriber,
    agentId: string,
    event: BusEventRecord,
    signal: AbortSignal,
  ): Promise<void> {
    const sessionId = deliverySessionId(event.id, subscriber.id);
    if (await alreadyDone(event.workspaceId, sessionId)) return;
    const handle = await options.runs.start({
      workspaceId: event.workspaceId,
      agentId,
      message: messageOf(event.payload, event.topic),
      sessionId,
    });
    const onAbort = () => void options.runs.cancel(event.workspaceId, handle.runId).catch(() => false);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const run = await handle.done;
      if (run.status !== 'completed') throw new Error(`agent run ${run.runId} ended ${run.status}: ${run.error ?? ''}`);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  async function workflow(subscriber: BusSubscriber, workflowId: string, event: BusEventRecord): Promise<void> {
    const sessionId = deliverySessionId(event.id, subscriber.id);
    if (await alreadyDone(event.workspaceId, sessionId)) return;
    const inject = options.inject();
    if (!inject) throw new Error('the event bus is not bound to a server yet');
    const response = await inject({
      method: 'POST',
      url: `/workflows/${encodeURIComponent(workflowId)}/runs`,
      headers: {
        authorization: options.internal.authorization(event.workspaceId),
        'content-type': 'application/json',
      },
      payload: JSON.stringify({ message: messageOf(event.payload, event.topic), session_id: sessionId, stream: false }),
    });
    if (response.statusCode < 200 || response.statusCode >= 300) {
      throw new Error(`workflow run answered HTTP ${response.statusCode}: ${response.body.slice(0, 200)}`);
    }
    // A blocking run answers 200 however it ended; only a completed one takes the event.
    const run = JSON.parse(response.body) as { run_id?: string; status?: string };
    if (run.status !== 'completed')
      throw new Error(`workflow run ${run.run_id ?? ''} ended ${run.status ?? 'unknown'}`);
  }

  return async (subscriber, event, delivery, signal) => {
    if (subscriber.webhook) return webhook(subscriber, subscriber.webhook, event, delivery, signal);
    if (subscriber.agent) return agent(subscriber, subscriber.agent, event, signal);
    if (subscriber.workflow) return workflow(subscriber, subscriber.workflow, event);
    throw new Error(`subscriber ${subscriber.id} has no target`);
  };
}
