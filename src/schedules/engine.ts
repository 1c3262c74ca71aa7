/**
 * The schedule engine: one per process, all processes of a database cooperating through it. Each tick
 * reads due schedules with one indexed query and claims each slot with a compare-and-set that also
 * moves `next_run_at` on (store `claim`), so a slot fires in exactly one process. The claimer holds a
 * lease longer than the firing's timeout and renews it while the firing runs; a firing whose process
 * died is retried only after its lease ran out, and then under the schedule's catch-up policy.
 *
 * Where backends differ: SQLite serialises every write, so the claim is atomic across the processes
 * sharing the file; on Postgres the row lock of the `update` does the same across replicas.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { AgentOsError } from '../errors/index.js';
import type { Logger } from '../logging/logger.js';
import type { ScheduleRecord, ScheduleRunRecord, ScheduleStore } from '../store/types.js';
import type { FiringOutcome, ScheduleExecutor } from './executor.js';
import { planDueSlot } from './timing.js';

/** How much longer than a firing's timeout its lease lasts (time to record the outcome and release). */
const LEASE_MARGIN_MS = 30_000;
/** Heartbeats renew the lease at least this often. */
const MAX_HEARTBEAT_MS = 10_000;
/** Due rows read per tick; more are picked up by the next tick. */
const DUE_BATCH = 100;

/** Options of {@link ScheduleEngine}. */
export interface ScheduleEngineOptions {
  store: ScheduleStore;
  execute: ScheduleExecutor;
  logger: Logger;
  /** This process's lease owner id. */
  worker: string;
  tickMs: number;
  /** A slot found later than this was missed; the schedule's catch-up policy decides. */
  misfireGraceMs: number;
  /** How much longer than a firing's timeout its lease lasts (default 30 s). */
  leaseMarginMs?: number;
  now?: () => number;
}

/** Runs the schedules of every workspace that fall due while this process lives. */
export class ScheduleEngine {
  readonly worker: string;
  private readonly options: ScheduleEngineOptions;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private readonly inFlight = new Map<string, { controller: AbortController; done: Promise<unknown> }>();
  private stopped = false;

  constructor(options: ScheduleEngineOptions) {
    this.options = options;
    this.worker = options.worker;
    this.now = options.now ?? Date.now;
  }

  /** True between `start()` and `stop()`. */
  get running(): boolean {
    return this.timer !== undefined;
  }

  /** Starts ticking (first tick right away). */
  start(): void {
    if (this.timer || this.stopped) return;
    const loop = () => {
      this.ticking = this.tick()
        .then(() => undefined)
        .catch((error: unknown) => this.options.logger.error({ err: error }, 'schedule tick failed'))
        .finally(() => {
          this.ticking = undefined;
          if (!this.stopped) this.timer = setTimeout(loop, this.delayToNextTick());
        });
    };
    this.timer = setTimeout(loop, 0);
  }

  /** Ticks land just after whole multiples of `tickMs`, so second-resolution slots fire close to their second. */
  private delayToNextTick(): number {
    const { tickMs } = this.options;
    const at = this.now();
    return tickMs - (at % tickMs) + 5;
  }

  /**
   * Stops ticking, aborts the firings in flight (recorded as cancelled, leases released) and waits for
   * them to settle, at most `timeoutMs`.
   */
  async stop(timeoutMs = 5000): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.ticking;
    for (const { controller } of this.inFlight.values()) controller.abort(new Error('The server shut down'));
    const settled = Promise.allSettled([...this.inFlight.values()].map((entry) => entry.done));
    await Promise.race([settled, new Promise((resolve) => setTimeout(resolve, timeoutMs).unref())]);
  }

  /**
   * One pass: claims every due slot it can and starts its firing (not awaited). Returns how many
   * firings it started. Exposed for tests, which drive time through `now`.
   */
  async tick(): Promise<number> {
    const at = this.now();
    const due = await this.options.store.listDue(at, DUE_BATCH);
    let started = 0;
    for (const schedule of due) {
      if (schedule.nextRunAt === null) continue;
      const plan = planDueSlot(schedule, schedule.nextRunAt, at, this.options.misfireGraceMs);
      if (!plan.fire) {
        const skipped = await this.options.store.skip(schedule.id, schedule.nextRunAt, plan.next, at);
        if (skipped) {
          this.options.logger.info(
            { schedule_id: schedule.id, missed_slot: schedule.nextRunAt, next_run_at: plan.next },
            'missed schedule slots skipped (catch_up: skip)',
          );
          if (skipped.kind === 'once')
            await this.options.store.update(skipped.workspaceId, skipped.id, { status: 'completed' });
        }
        continue;
      }
      const claimed = await this.options.store.claim(
        schedule.id,
        schedule.nextRunAt,
        plan.next,
        this.lease(schedule, at),
      );
      // Another process claimed this slot first: it fires it, this one does nothing.
      if (!claimed) continue;
      started += 1;
      this.track(claimed, (signal) => this.fire(claimed, schedule.nextRunAt, false, signal));
    }
    return started;
  }

  /**
   * Fires a schedule now, in the caller's request (Agno `POST /schedules/{id}/trigger`), under the same
   * lease as slot firings: 409 while a firing of it runs anywhere. `next_run_at` is left alone.
   */
  async trigger(workspaceId: string, scheduleId: string): Promise<ScheduleRunRecord> {
    const at = this.now();
    const current = await this.options.store.get(workspaceId, scheduleId);
    if (!current) throw new AgentOsError('AOS_SCHEDULE_NOT_FOUND', 'Schedule not found');
    if (current.status !== 'active') throw new AgentOsError('AOS_SCHEDULE_DISABLED', 'The schedule is disabled');
    const locked = await this.options.store.lock(workspaceId, scheduleId, this.lease(current, at));
    if (!locked) throw new AgentOsError('AOS_SCHEDULE_BUSY', 'The schedule is already running');
    const done = this.track(locked, (signal) => this.fire(locked, null, true, signal));
    const run = await done;
    if (!run) throw new AgentOsError('AOS_INTERNAL', 'The schedule run was not recorded');
    return run;
  }

  private lease(schedule: ScheduleRecord, at: number) {
    return { owner: this.worker, leaseUntil: at + this.leaseMs(schedule), at };
  }

  private leaseMs(schedule: ScheduleRecord): number {
    return schedule.timeoutMs + (this.options.leaseMarginMs ?? LEASE_MARGIN_MS);
  }

  private track(
    schedule: ScheduleRecord,
    run: (shutdown: AbortSignal) => Promise<ScheduleRunRecord | null>,
  ): Promise<ScheduleRunRecord | null> {
    const controller = new AbortController();
    const key = `${schedule.id}:${randomUUID()}`;
    const heartbeatMs = Math.min(MAX_HEARTBEAT_MS, Math.floor(this.leaseMs(schedule) / 3));
    const heartbeat = setInterval(() => {
      this.options.store
        .renewLease(schedule.id, this.worker, this.now() + this.leaseMs(schedule))
        .catch((error: unknown) =>
          this.options.logger.warn({ err: error, schedule_id: schedule.id }, 'lease renewal failed'),
        );
    }, heartbeatMs);
    heartbeat.unref();
    const done = run(controller.signal)
      .catch((error: unknown) => {
        this.options.logger.error({ err: error, schedule_id: schedule.id }, 'schedule firing failed');
        return null;
      })
      .finally(() => {
        clearInterval(heartbeat);
        this.inFlight.delete(key);
      });
    this.inFlight.set(key, { controller, done });
    return done;
  }

  /**
   * Runs the attempts of one firing (1 + `maxRetries`, `retryDelayMs` apart), one schedule-run row each,
   * then releases the lease (completing a `once` schedule).
   */
  private async fire(
    schedule: ScheduleRecord,
    slotAt: number | null,
    manual: boolean,
    shutdown: AbortSignal,
  ): Promise<ScheduleRunRecord | null> {
    let last: ScheduleRunRecord | null = null;
    try {
      for (let attempt = 1; attempt <= schedule.maxRetries + 1; attempt += 1) {
        const run = await this.options.store.createRun({
          id: randomUUID(),
          scheduleId: schedule.id,
          workspaceId: schedule.workspaceId,
          slotAt,
          attempt,
          manual,
          worker: this.worker,
          triggeredAt: this.now(),
          input: schedule.payload,
        });
        const signal = AbortSignal.any([shutdown, AbortSignal.timeout(schedule.timeoutMs)]);
        const outcome: FiringOutcome = await this.options.execute(schedule, { slotAt, scheduleRunId: run.id, signal });
        last = await this.options.store.updateRun(run.id, {
          status: outcome.status,
          statusCode: outcome.statusCode ?? null,
          runId: outcome.runId ?? null,
          sessionId: outcome.sessionId ?? null,
          error: outcome.error ?? null,
          output: outcome.output ?? null,
          completedAt: this.now(),
        });
        const retryable = outcome.status === 'failed' || outcome.status === 'timeout';
        if (!retryable || shutdown.aborted || attempt > schedule.maxRetries) break;
        await new Promise((resolve) => {
          const timer = setTimeout(resolve, schedule.retryDelayMs);
          shutdown.addEventListener(
            'abort',
            () => {
              clearTimeout(timer);
              resolve(undefined);
            },
            { once: true },
          );
        });
        if (shutdown.aborted) break;
      }
    } finally {
      const finished = schedule.kind === 'once' && !manual ? 'completed' : undefined;
      await this.options.store.release(schedule.id, this.worker, this.now(), finished);
    }
    return last;
  }
}
