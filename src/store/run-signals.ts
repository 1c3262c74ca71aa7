/**
 * Signals about runs that cross process boundaries: an adapter whose database can push (Postgres
 * LISTEN/NOTIFY) offers them as `Store.runSignals`, so a replica learns at once that another replica
 * stored events of a run or was asked to cancel it. The rows stay the truth: a signal only says "read
 * again", so a lost one costs latency (the reader's fallback poll), never an event.
 * @module
 */

/** Push notifications about runs, from whichever process wrote the rows. */
export interface RunSignals {
  /** Events of `runId` were stored or its status changed, in any process. Returns the unsubscribe function. */
  onRunChanged(listener: (runId: string) => void): () => void;
  /** A cancel of `runId` was recorded (`RunStore.requestCancel`) by any process. */
  onCancelRequested(listener: (runId: string) => void): () => void;
  /**
   * The push channel was (re)established after signals may have been missed: listeners should read the
   * rows again. Also called once the first connection is up.
   */
  onResync(listener: () => void): () => void;
}
