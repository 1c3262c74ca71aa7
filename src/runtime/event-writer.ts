/**
 * Persists a run's events in batches: each event is queued as it is emitted and written with the
 * others queued within {@link EVENT_BATCH_MS} in one insert, so a token stream costs one write per
 * batch rather than one per delta, and a short run one write in all (its final `flush()`). Writes
 * are serialised; `flush()` resolves once everything queued is stored. Live subscribers never wait
 * for the table: they get events from the run's channel.
 * @module
 */
import type { RunEvent } from '../events/index.js';
import type { RunEventAppend, RunEventStore } from '../store/types.js';

const WRITE_ATTEMPTS = 5;

/**
 * How long an event may wait for others before its batch is written. Each insert is a transaction
 * (a WAL append on SQLite, a round trip on Postgres); batching per tick still wrote about ten per run,
 * since a model stream delivers its chunks on separate ticks.
 */
export const EVENT_BATCH_MS = 25;

function toRow(event: RunEvent): RunEventAppend {
  return { eventIndex: event.event_index, event: event.event, payload: event };
}

/** Batches events of one run into the events table. */
export class EventWriter {
  private queue: RunEvent[] = [];
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private failure: unknown;

  constructor(
    private readonly runId: string,
    private readonly store: RunEventStore,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Queues an event; it is written within {@link EVENT_BATCH_MS} together with anything else queued by then. */
  push(event: RunEvent): void {
    this.queue.push(event);
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.drain();
    }, EVENT_BATCH_MS);
  }

  /** Resolves when every queued event is stored; rejects if a write failed. */
  async flush(): Promise<void> {
    this.drain();
    await this.chain;
    if (this.failure !== undefined) throw this.failure;
  }

  /**
   * Waits for the batches being written and hands over what is still queued, unwritten, so the caller can
   * store it in one transaction with the run's final update (`RunStore.transition` with `events`); rejects
   * if a write failed, as {@link flush}. Should that write fail, {@link requeue} gives the events back.
   */
  async take(): Promise<RunEventAppend[]> {
    this.stopTimer();
    await this.chain;
    if (this.failure !== undefined) throw this.failure;
    this.stopTimer();
    const rows = this.queue.map(toRow);
    this.queue = [];
    return rows;
  }

  /** Puts events handed over by {@link take} back in front of the queue, to be written by {@link flush}. */
  requeue(rows: RunEventAppend[]): void {
    this.queue = [...rows.map((row) => row.payload as RunEvent), ...this.queue];
  }

  private stopTimer(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  private drain(): void {
    this.stopTimer();
    if (this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    this.chain = this.chain.then(async () => {
      // After one lost batch the log would have a gap; later batches are not written over it.
      if (this.failure !== undefined) return;
      const rows = batch.map(toRow);
      for (let attempt = 1; ; attempt++) {
        try {
          await this.store.append(this.runId, rows);
          return;
        } catch (error) {
          // A busy database (another process writing) is worth retrying; a conflict or a missing run is not.
          const transient = /BUSY|LOCKED/i.test(String((error as { code?: unknown }).code ?? ''));
          if (!transient || attempt >= WRITE_ATTEMPTS) {
            this.failure = error;
            this.onError(error);
            return;
          }
          await new Promise((resolve) => setTimeout(resolve, 20 * attempt));
        }
      }
    });
  }
}
