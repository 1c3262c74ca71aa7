import { describe, expect, it } from 'vitest';
import { cronProblem, firstSlot, nextSlot, planDueSlot } from './timing.js';

const at = (iso: string) => Date.parse(iso);
const cron = (cronExpr: string, timezone = 'UTC') =>
  ({ kind: 'cron', cronExpr, timezone, intervalMs: null, atMs: null, catchUp: 'skip' }) as const;

describe('schedule timing', () => {
  it('computes second-resolution cron slots strictly after a time', () => {
    const timing = cron('*/2 * * * * *');
    expect(nextSlot(timing, at('2026-01-01T00:00:00.000Z'), 0)).toBe(at('2026-01-01T00:00:02.000Z'));
    expect(nextSlot(timing, at('2026-01-01T00:00:01.500Z'), 0)).toBe(at('2026-01-01T00:00:02.000Z'));
  });

  it('reads 5-field cron in the schedule time zone', () => {
    // 07:00 in Berlin is 06:00Z in winter.
    expect(firstSlot(cron('0 7 * * *', 'Europe/Berlin'), at('2026-01-01T00:00:00Z'))).toBe(at('2026-01-01T06:00:00Z'));
  });

  it('reports bad patterns and time zones', () => {
    expect(cronProblem('not a cron', 'UTC')).toMatch(/Invalid cron expression/);
    expect(cronProblem('* * * * *', 'Mars/Olympus')).toMatch(/Invalid timezone/);
    expect(cronProblem('*/5 * * * * *', 'UTC')).toBeUndefined();
  });

  it('keeps interval slots on their grid', () => {
    const timing = { kind: 'interval', cronExpr: null, timezone: 'UTC', intervalMs: 1000, atMs: null } as const;
    expect(nextSlot(timing, 5000, 5000)).toBe(6000);
    expect(nextSlot(timing, 7300, 5000)).toBe(8000);
  });

  it('fires a late slot within the grace and moves to the slot after it, so none is dropped', () => {
    const timing = cron('* * * * * *');
    const due = at('2026-01-01T00:00:10Z');
    expect(planDueSlot(timing, due, due + 2500, 60_000)).toEqual({
      fire: true,
      missed: false,
      next: at('2026-01-01T00:00:11Z'),
    });
  });

  it('skips missed slots, or fires once for them with run_once; the next slot is after now', () => {
    const due = at('2026-01-01T00:00:10Z');
    const now = at('2026-01-01T00:01:30.200Z');
    const next = at('2026-01-01T00:01:31Z');
    expect(planDueSlot(cron('* * * * * *'), due, now, 5000)).toEqual({ fire: false, missed: true, next });
    expect(planDueSlot({ ...cron('* * * * * *'), catchUp: 'run_once' }, due, now, 5000)).toEqual({
      fire: true,
      missed: true,
      next,
    });
  });

  it('gives a once schedule no slot after its own', () => {
    const once = {
      kind: 'once',
      cronExpr: null,
      timezone: 'UTC',
      intervalMs: null,
      atMs: 5000,
      catchUp: 'skip',
    } as const;
    expect(firstSlot(once, 0)).toBe(5000);
    expect(planDueSlot(once, 5000, 5100, 1000)).toEqual({ fire: true, missed: false, next: null });
  });
});
