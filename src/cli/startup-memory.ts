/**
 * Gives back the memory start-up used and no longer needs, soon after the server listens.
 *
 * Start-up allocates a burst of long-lived objects (config, routes, schemas, compiled code), and V8
 * answers by growing the young generation to its maximum: about 35 MB stay committed (RSS) though
 * the heap in use is about 23 MB. V8's memory reducer gives that back by itself only about 8 s after
 * the allocation rate drops. Asking once for the same memory-reducing collection a second after
 * listening (`HeapProfiler.collectGarbage` of the in-process inspector protocol, which is V8's
 * low-memory notification; JavaScript has no other way to it without `--expose-gc`) brings an idle
 * server to its steady footprint at once. It costs one pause of a few tens of milliseconds, once.
 * @module
 */
import { Session } from 'node:inspector';

/** Schedules the one collection; the timer does not keep the process alive. */
export function releaseStartupMemory(delayMs = 1000): void {
  setTimeout(() => {
    const session = new Session();
    session.connect();
    // The answer can come while the protocol call is still on the stack; disconnecting there
    // deadlocks on the heap profiler's lock, so it waits for the next turn.
    session.post('HeapProfiler.collectGarbage', () => setImmediate(() => session.disconnect()));
  }, delayMs).unref();
}
