/**
 * Ids of runs and sessions: UUID version 7 (RFC 9562), which start with the creation time in milliseconds.
 * The store keys runs, sessions, events and traces by these ids; random (version 4) ids put every new row
 * on a random page of each of those B-trees, so a commit rewrote a page per tree per run (bench/runs, issue 4),
 * while time-ordered ids append to the last pages, which concurrent runs share. They reveal no more than a
 * run's `created_at`, which the API shows anyway.
 * @module
 */
import { randomFillSync } from 'node:crypto';
import { v7 } from 'uuid';

/**
 * Random bits drawn from the OS in blocks, as Node's own `randomUUID` does: `uuid` asks
 * `crypto.getRandomValues` for each id, which showed in the run path's CPU profile (bench/runs).
 */
const pool = new Uint8Array(16 * 256);
let used = pool.length;

function randomBytes(): Uint8Array {
  if (used === pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  used += 16;
  return pool.subarray(used - 16, used);
}

/**
 * `uuid`'s own monotonic state, kept here since random bytes are passed in: a new millisecond starts the
 * 31-bit counter at a random value, ids within one millisecond count up, so ids of one process always sort
 * in creation order.
 */
const state = { msecs: Number.NEGATIVE_INFINITY, seq: 0 };

function uuidV7(): string {
  const random = randomBytes();
  const now = Date.now();
  if (now > state.msecs) {
    state.seq =
      (((random[6] as number) & 0x7f) << 24) |
      ((random[7] as number) << 16) |
      ((random[8] as number) << 8) |
      (random[9] as number);
    state.msecs = now;
  } else {
    state.seq = (state.seq + 1) | 0;
    if (state.seq === 0) state.msecs++;
  }
  return v7({ random, msecs: state.msecs, seq: state.seq });
}

/** A new run id (also used for team member and workflow step runs). */
export const newRunId = (): string => uuidV7();

/** A new session id, for a run or voice conversation that named none. */
export const newSessionId = (): string => uuidV7();
