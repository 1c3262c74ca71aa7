/**
 * Ids of runs and sessions: UUID version 7 (RFC 9562), which start with the creation time in milliseconds.
 * The store keys runs, sessions, events and traces by these ids; random (version 4) ids put every new row
 * on a random page of each of those B-trees, so a commit rewrote a page per tree per run (bench/runs, issue 4),
 * while time-ordered ids append to the last pages, which concurrent runs share. They reveal no more than a
 * run's `created_at`, which the API shows anyway.
 * @module
 */
import { v7 } from 'uuid';

/** A new run id (also used for team member and workflow step runs). */
export const newRunId = (): string => v7();

/** A new session id, for a run or voice conversation that named none. */
export const newSessionId = (): string => v7();
