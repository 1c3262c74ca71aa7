/**
 * Gives back the memory start-up used and no longer needs, once the server first goes quiet.
 *
 * Start-up (config, routes, schemas, compiled code) makes V8 grow the young generation to its maximum
 * (58 MB committed for 22 MB used) and the old generation to fit the garbage; that stays committed (RSS)
 * while the server sits idle, and V8's own memory reducer gave it back only about 8 s later. One
 * memory-reducing collection when the server has answered no request for a second brings it to its
 * steady footprint: `HeapProfiler.collectGarbage` of the in-process inspector protocol, which is V8's
 * low-memory notification (JavaScript has no other way to it without `--expose-gc`).
 *
 * Only once, after start-up: the same collection after a burst of runs also gave back about 90 MB,
 * but it drops compiled code and shrinks the heap limits to the bone, so the next burst ran about
 * 10 % fewer runs per second for its first five seconds and more (bench/tracing, rounds after a quiet
 * spell). After a burst V8's memory reducer returns memory on its own, without that cost.
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
 * Collects once, as soon as `server` has received no request for `quietMs` (start-up's spell is over).
 * The timer does not keep the process alive. Returns a function that stops it.
 */
export function releaseStartupMemory(server: Server, quietMs = 1000, collect = collectAllGarbage): () => void {
  let requests = 0;
  let seen = 0;
  const onRequest = () => {
    requests++;
  };
  const stop = () => {
    clearInterval(timer);
    server.off('request', onRequest);
  };
  server.on('request', onRequest);
  const timer = setInterval(() => {
    if (requests !== seen) {
      seen = requests;
      return;
    }
    stop();
    collect();
  }, quietMs);
  timer.unref();
  return stop;
}
