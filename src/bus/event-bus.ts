/**
 * The event bus: named topics, events persisted before anyone is told, and at-least-once delivery to
 * the subscribers declared in config (`events.subscribers`). Publishing stores the event and one
 * delivery row per matching subscriber in one transaction; a dispatcher in every process claims due
 * deliveries (compare-and-set on the attempt count, with a lease of `events.lease_ms`), delivers, and
 * acknowledges. The lease is renewed while the deliverer runs, so a slow delivery is never retried
 * while it still runs; a process that dies mid-way stops renewing, and its claims are retried once
 * the lease lapses. A delivery that fails is retried with exponential backoff until acknowledged or
 * out of attempts. A publication whose idempotency key the workspace has already seen
 * is not stored or delivered again.
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { AgentOsConfig } from '../config/index.js';
import type { Logger } from '../logging/logger.js';
import type { BusDeliveryRecord, BusEventRecord, EventBusStore } from '../store/types.js';

/** One configured subscriber. */
export type BusSubscriber = AgentOsConfig['events']['subscribers'][number];

/** Delivers one event to one subscriber; resolves when the subscriber acknowledged it, throws otherwise. */
export type Deliverer = (
  subscriber: BusSubscriber,
  event: BusEventRecord,
  delivery: BusDeliveryRecord,
  signal: AbortSignal,
) => Promise<void>;

/** What a publisher hands to {@link EventBus.publish}. */
export interface PublishInput {
  workspaceId: string;
  topic: string;
  payload: Record<string, unknown>;
  idempotencyKey?: string | undefined;
  source?: string | undefined;
}

/** Options of {@link EventBus}. */
export interface EventBusOptions {
  store: EventBusStore;
  settings: AgentOsConfig['events'];
  deliver: Deliverer;
  logger: Logger;
  worker: string;
  now?: () => number;
}

const DUE_BATCH = 100;
/** Backoff stops growing here. */
const MAX_BACKOFF_MS = 10 * 60_000;

/** `*` alone matches every topic; a pattern ending in `*` matches by prefix; otherwise exact. */
export function topicMatches(pattern: string, topic: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('*')) return topic.startsWith(pattern.slice(0, -1));
  return pattern === topic;
}

/** The persisted bus with its dispatcher. */
export class EventBus {
  private readonly options: EventBusOptions;
  private readonly now: () => number;
  private readonly subscribers: Map<string, BusSubscriber>;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private stopped = false;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly shutdown = new AbortController();

  constructor(options: EventBusOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
    this.subscribers = new Map(options.settings.subscribers.map((entry) => [entry.id, entry]));
  }

  /** Ids of the subscribers of a topic. */
  subscribersOf(topic: string): string[] {
    return [...this.subscribers.values()]
      .filter((entry) => entry.topics.some((pattern) => topicMatches(pattern, topic)))
      .map((entry) => entry.id);
  }

  /**
   * Stores an event and its deliveries. `duplicate: true` (with the first event) when the key was seen;
   * nothing is then delivered again. Delivery starts at the next dispatcher tick of any process.
   */
  async publish(input: PublishInput): Promise<{ event: BusEventRecord; duplicate: boolean }> {
    const result = await this.options.store.publish(
      {
        id: randomUUID(),
        workspaceId: input.workspaceId,
        topic: input.topic,
        payload: input.payload,
        idempotencyKey: input.idempotencyKey ?? null,
        source: input.source ?? null,
      },
      this.subscribersOf(input.topic),
    );
    if (!result.duplicate) this.kick();
    return result;
  }

  /** Starts the dispatcher. */
  start(): void {
    if (this.timer || this.stopped) return;
    this.schedule(0);
  }

  /** Stops dispatching and aborts deliveries in flight (they are retried later, by any process). */
  async stop(timeoutMs = 5000): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.ticking;
    this.shutdown.abort(new Error('The server shut down'));
    await Promise.race([
      Promise.allSettled([...this.inFlight]),
      new Promise((resolve) => setTimeout(resolve, timeoutMs).unref()),
    ]);
  }

  /** Runs a tick soon, so a fresh event is not left waiting a whole `tick_ms`. */
  private kick(): void {
    if (!this.timer || this.stopped || this.ticking) return;
    clearTimeout(this.timer);
    this.schedule(0);
  }

  private schedule(delay: number): void {
    this.timer = setTimeout(() => {
      this.ticking = this.tick()
        .then(() => undefined)
        .catch((error: unknown) => this.options.logger.error({ err: error }, 'event bus tick failed'))
        .finally(() => {
          this.ticking = undefined;
          if (!this.stopped) this.schedule(this.options.settings.tick_ms);
        });
    }, delay);
  }

  /** One pass: claims each due delivery it can and starts it (not awaited). Returns how many it started. */
  async tick(): Promise<number> {
    const at = this.now();
    const due = await this.options.store.listDueDeliveries(at, DUE_BATCH);
    let started = 0;
    for (const delivery of due) {
      const claimed = await this.options.store.claimDelivery(
        delivery.eventId,
        delivery.subscriberId,
        delivery.attempts,
        {
          owner: this.options.worker,
          leaseUntil: at + this.options.settings.lease_ms,
          at,
        },
      );
      if (!claimed) continue;
      started += 1;
      const task = this.attempt(claimed).finally(() => this.inFlight.delete(task));
      this.inFlight.add(task);
    }
    return started;
  }

  private async attempt(delivery: BusDeliveryRecord): Promise<void> {
    const { store, settings, logger, worker } = this.options;
    const subscriber = this.subscribers.get(delivery.subscriberId);
    const event = await store.getEvent(delivery.workspaceId, delivery.eventId);
    if (!subscriber || !event) {
      // The subscriber was removed from the config (or the event deleted): nothing can ever take it.
      await store.settleDelivery(delivery.eventId, delivery.subscriberId, worker, {
        status: 'failed',
        nextAttemptAt: null,
        error: subscriber ? 'event not found' : 'subscriber no longer configured',
      });
      return;
    }
    const heartbeat = this.heartbeat(delivery);
    try {
      await this.options.deliver(subscriber, event, delivery, this.shutdown.signal);
      clearInterval(heartbeat);
      await store.settleDelivery(delivery.eventId, delivery.subscriberId, worker, {
        status: 'delivered',
        at: this.now(),
      });
    } catch (error) {
      clearInterval(heartbeat);
      const reason = error instanceof Error ? error.message : String(error);
      const exhausted = delivery.attempts >= settings.max_attempts;
      const backoff = Math.min(MAX_BACKOFF_MS, settings.retry_base_ms * 2 ** (delivery.attempts - 1));
      logger.warn(
        { event_id: event.id, subscriber: subscriber.id, attempt: delivery.attempts, err: reason },
        exhausted ? 'event delivery failed for good' : 'event delivery failed; will retry',
      );
      await store.settleDelivery(delivery.eventId, delivery.subscriberId, worker, {
        status: exhausted ? 'failed' : 'pending',
        nextAttemptAt: exhausted ? null : this.now() + backoff,
        error: reason,
      });
    }
  }

  /**
   * Renews the lease of a running attempt three times per lease, so it lapses only when this process
   * stops (crash, hang of the whole event loop), never because the deliverer is slow.
   */
  private heartbeat(delivery: BusDeliveryRecord): NodeJS.Timeout {
    const { store, settings, logger, worker } = this.options;
    const timer = setInterval(
      () => {
        store
          .renewDeliveryLease(delivery.eventId, delivery.subscriberId, worker, this.now() + settings.lease_ms)
          .then((held) => {
            if (!held) clearInterval(timer);
          })
          .catch((error: unknown) =>
            logger.warn(
              { err: error, event_id: delivery.eventId, subscriber: delivery.subscriberId },
              'renewing a delivery lease failed',
            ),
          );
      },
      Math.max(10, Math.floor(settings.lease_ms / 3)),
    );
    timer.unref();
    return timer;
  }
}
