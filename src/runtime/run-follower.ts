/**
 * Follows runs that execute in another process (another replica, or the CLI beside a server): the
 * events table is read after the last index delivered, and re-read when the store signals that the run
 * changed (Postgres LISTEN/NOTIFY, `Store.runSignals`) or, failing a signal, after a fallback interval.
 * Rows are the truth and every read starts after the last index seen, so a reader never skips or repeats
 * an event, whatever signals are lost or doubled.
 * @module
 */
import type { RunSignals } from '../store/types.js';

/** Without push signals (SQLite), how often another process's run is re-read. */
export const POLL_WITHOUT_SIGNALS_MS = 200;
/** With push signals, the re-read that covers a signal lost while the LISTEN connection was down. */
export const POLL_WITH_SIGNALS_MS = 1_000;

/** One followed run: `wait()` resolves at its next signal, or after the fallback interval. */
export interface RunWatch {
  wait(): Promise<void>;
  close(): void;
}

interface Waiter {
  /** A signal arrived while nobody waited; the next `wait()` returns at once. */
  pending: boolean;
  wake: (() => void) | undefined;
}

/** Multiplexes the store's run signals onto the runs being followed in this process. */
export class RunFollower {
  private readonly waiters = new Map<string, Set<Waiter>>();
  private readonly pollMs: number;
  private readonly unsubscribe: (() => void)[] = [];

  constructor(signals: RunSignals | undefined) {
    this.pollMs = signals ? POLL_WITH_SIGNALS_MS : POLL_WITHOUT_SIGNALS_MS;
    if (signals) {
      this.unsubscribe.push(
        signals.onRunChanged((runId) => {
          for (const waiter of this.waiters.get(runId) ?? []) this.signal(waiter);
        }),
        // Signals may have been lost while the connection was down: every follower reads again.
        signals.onResync(() => {
          for (const set of this.waiters.values()) for (const waiter of set) this.signal(waiter);
        }),
      );
    }
  }

  /** Starts following `runId`; call before the first read so no signal falls between read and wait. */
  watch(runId: string): RunWatch {
    const waiter: Waiter = { pending: false, wake: undefined };
    let set = this.waiters.get(runId);
    if (!set) {
      set = new Set();
      this.waiters.set(runId, set);
    }
    set.add(waiter);
    return {
      wait: () => {
        if (waiter.pending) {
          waiter.pending = false;
          return Promise.resolve();
        }
        return new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            waiter.wake = undefined;
            resolve();
          }, this.pollMs);
          waiter.wake = () => {
            clearTimeout(timer);
            waiter.wake = undefined;
            resolve();
          };
        });
      },
      close: () => {
        waiter.wake?.();
        set.delete(waiter);
        if (set.size === 0 && this.waiters.get(runId) === set) this.waiters.delete(runId);
      },
    };
  }

  /** Stops listening to the store. */
  close(): void {
    for (const unsubscribe of this.unsubscribe.splice(0)) unsubscribe();
  }

  private signal(waiter: Waiter): void {
    if (waiter.wake) waiter.wake();
    else waiter.pending = true;
  }
}
