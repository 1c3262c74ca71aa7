/**
 * Gives back memory a busy spell used and no longer needs, once the server goes quiet: after start-up
 * and after each burst of requests.
 *
 * A busy spell (start-up's config, routes, schemas and compiled code; a burst of runs) makes V8 grow
 * the young generation to its maximum and the old generation to fit the garbage; that stays committed
 * (RSS) while the server sits idle. V8's own memory reducer gives it back only about 8 s after the
 * allocation rate drops, or not at all when a worker thread keeps allocating (the trace writer). One
 * memory-reducing collection when the server has answered no request for a second brings it to its
 * steady footprint: `HeapProfiler.collectGarbage` of the in-process inspector protocol, which is V8's
 * low-memory notification (JavaScript has no other way to it without `--expose-gc`). It costs a pause
 * of a few tens of milliseconds, taken only when nothing is waiting, at most once per quiet spell, and
 * only after a spell that was busy.
 * @module
 */
import type { Server } from 'node:http';
import { Session } from 'node:inspector';

/** One memory-reducing collection now; `done` runs once the inspector session is closed. */
export function collectAllGarbage(done?: () => void): void {
  const session = new Session();
  session.connect();
  // The answer can come while the protocol call is still on the stack; disconnecting there
  // deadlocks on the heap profiler's lock, so it waits for the next turn.
  session.post('HeapProfiler.collectGarbage', () =>
    setImmediate(() => {
      session.disconnect();
      done?.();
    }),
  );
}

/**
 * A spell counts as busy from this many requests on: a trickle of health checks does not grow the heap,
 * and collecting after each would cost a full collection every probe interval.
 */
export const BUSY_REQUESTS = 50;

/**
 * Collects once `server` has received no request for `quietMs`, after start-up and after every busy
 * spell since ({@link BUSY_REQUESTS} or more requests since the last collection). The timer does not
 * keep the process alive. Returns a function that stops it.
 */
export function releaseMemoryWhenIdle(server: Server, quietMs = 1000, collect = collectAllGarbage): () => void {
  let requests = 0;
  let seen = 0;
  // Start-up was the first busy spell.
  let sinceCollection = BUSY_REQUESTS;
  const onRequest = () => {
    requests++;
  };
  server.on('request', onRequest);
  const timer = setInterval(() => {
    if (requests !== seen) {
      sinceCollection += requests - seen;
      seen = requests;
      return;
    }
    if (sinceCollection < BUSY_REQUESTS) return;
    sinceCollection = 0;
    collect();
  }, quietMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    server.off('request', onRequest);
  };
}
