/**
 * Turns what the two surfaces accept into stored schedules, with the checks both share: a cron
 * pattern croner can run in a real time zone, an interval of at least a second, a `once` instant.
 * Routes call these and only map fields.
 * @module
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { AgentOsError } from '../errors/index.js';
import type { CatchUpPolicy, ScheduleCreate, ScheduleKind, ScheduleRecord, ScheduleUpdate } from '../store/types.js';
import { cronProblem, firstSlot, type ScheduleTiming } from './timing.js';

/** The shortest interval accepted: the engine's resolution is a second. */
export const MIN_INTERVAL_MS = 1000;

/** Calls `fail` (which throws the surface's 400 or 422) when the timing is unusable. */
export function checkTiming(timing: ScheduleTiming, fail: (message: string) => never): void {
  if (timing.kind === 'cron') {
    const problem = cronProblem(timing.cronExpr ?? '', timing.timezone);
    if (problem) fail(problem);
  } else if (timing.kind === 'interval') {
    if (!Number.isInteger(timing.intervalMs) || (timing.intervalMs ?? 0) < MIN_INTERVAL_MS) {
      fail(`intervalMs must be an integer of at least ${MIN_INTERVAL_MS}`);
    }
  } else if (!Number.isFinite(timing.atMs) || (timing.atMs ?? 0) <= 0) {
    fail('atTimestamp must be a positive unix ms timestamp');
  }
}

/** A 400 on `/api` and the root surface alike, with the message the caller should see. */
export function badRequest(message: string): never {
  throw new AgentOsError('AOS_BAD_REQUEST', message);
}

/** Agno's 422 for a bad cron expression or time zone. */
export function unprocessable(message: string): never {
  throw new AgentOsError('AOS_VALIDATION', message);
}

/** An agtOS task id: `task-` and 12 hex characters (seed 002 shape). */
export function newTaskId(): string {
  return `task-${randomBytes(6).toString('hex')}`;
}

/** An Agno schedule id. */
export function newScheduleId(): string {
  return randomUUID();
}

/** Fields common to both surfaces when creating. */
export interface NewSchedule {
  id: string;
  workspaceId: string;
  name: string;
  description?: string | null;
  kind: ScheduleKind;
  cronExpr?: string | null;
  timezone: string;
  intervalMs?: number | null;
  atMs?: number | null;
  target: ScheduleCreate['target'];
  payload: Record<string, unknown>;
  /** The scopes of the author, whose rights an endpoint firing may not exceed. */
  authorScopes?: string[] | null;
  catchUp: CatchUpPolicy;
  timeoutMs?: number;
  maxRetries?: number;
  retryDelayMs?: number;
}

/** The create input with its first slot computed. */
export function toCreate(input: NewSchedule, now: number): ScheduleCreate {
  const timing = {
    kind: input.kind,
    cronExpr: input.cronExpr ?? null,
    timezone: input.timezone,
    intervalMs: input.intervalMs ?? null,
    atMs: input.atMs ?? null,
  };
  return {
    ...input,
    ...timing,
    status: 'active',
    nextRunAt: firstSlot(timing, now),
  };
}

/**
 * The patch that goes with a timing change or a re-enable: the next slot counted from now, so a
 * schedule that was off never fires for the time it was off.
 */
export function withNextSlot(current: ScheduleRecord, patch: ScheduleUpdate, now: number): ScheduleUpdate {
  const merged = { ...current, ...patch };
  if (merged.status !== 'active') return { ...patch, nextRunAt: null };
  return { ...patch, nextRunAt: firstSlot(merged, now) };
}
