/**
 * When schedules fire: slot arithmetic for `cron` (croner, 5- or 6-field patterns with seconds, IANA
 * time zones), `interval` and `once`, and the catch-up decision for a slot found late.
 * @module
 */
import { Cron } from 'croner';
import type { CatchUpPolicy, ScheduleKind } from '../store/types.js';

/** The timing fields of a schedule. */
export interface ScheduleTiming {
  kind: ScheduleKind;
  cronExpr: string | null;
  timezone: string;
  intervalMs: number | null;
  atMs: number | null;
}

/** Why a cron pattern or time zone is unusable, or undefined when it is fine. */
export function cronProblem(expression: string, timezone: string): string | undefined {
  if (!isValidTimezone(timezone)) return `Invalid timezone "${timezone}"`;
  try {
    const cron = new Cron(expression, { timezone, paused: true });
    if (cron.nextRun() === null) return `Cron expression "${expression}" never fires`;
    return undefined;
  } catch (error) {
    return `Invalid cron expression "${expression}": ${error instanceof Error ? error.message : String(error)}`;
  }
}

/** True for an IANA time zone name the runtime knows (and `UTC`). */
export function isValidTimezone(timezone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    return true;
  } catch {
    return false;
  }
}

/** The first cron slot strictly after `after`, or null when the pattern has none left. */
export function nextCronSlot(expression: string, timezone: string, after: number): number | null {
  const next = new Cron(expression, { timezone, paused: true }).nextRun(new Date(after));
  return next ? next.getTime() : null;
}

/**
 * The first slot strictly after `after`. Interval slots stay on the grid of `anchor` (the slot being
 * replaced), so a late tick does not shift every later firing. `once` has no slot after its own.
 */
export function nextSlot(timing: ScheduleTiming, after: number, anchor: number): number | null {
  switch (timing.kind) {
    case 'cron':
      return nextCronSlot(timing.cronExpr ?? '', timing.timezone, after);
    case 'interval': {
      const interval = Math.max(1, timing.intervalMs ?? 1);
      if (anchor > after) return anchor;
      return anchor + (Math.floor((after - anchor) / interval) + 1) * interval;
    }
    case 'once':
      return null;
  }
}

/** The slot a new (or re-enabled) schedule starts at. */
export function firstSlot(timing: ScheduleTiming, now: number): number | null {
  switch (timing.kind) {
    case 'cron':
      return nextCronSlot(timing.cronExpr ?? '', timing.timezone, now);
    case 'interval':
      return now + Math.max(1, timing.intervalMs ?? 1);
    case 'once':
      return timing.atMs;
  }
}

/** What the engine does with a due slot. */
export interface ClaimPlan {
  /** Fire now (on time, or catching up with `run_once`); false = skip the missed slots. */
  fire: boolean;
  /** Whether the slot was later than the grace allows (missed while nothing ran). */
  missed: boolean;
  /** What `next_run_at` becomes. */
  next: number | null;
}

/**
 * Decides a due slot. A slot at most `graceMs` late fires, and the next slot is the one after it, so a
 * busy machine fires every slot, late, rather than dropping some. A slot found later than that was
 * missed (no process ran): `skip` drops it, `run_once` fires once for all missed slots; either way
 * the next slot is the first one after `now`, so a long outage never produces a burst of firings.
 */
export function planDueSlot(
  timing: ScheduleTiming & { catchUp: CatchUpPolicy },
  due: number,
  now: number,
  graceMs: number,
): ClaimPlan {
  const missed = now - due > graceMs;
  const next = nextSlot(timing, missed ? now : due, due);
  return { fire: !missed || timing.catchUp === 'run_once', missed, next };
}
