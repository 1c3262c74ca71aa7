/**
 * Store interfaces of schedules (with their firing history) and of the event bus. Re-exported from
 * `types.ts`. Timestamps are epoch milliseconds.
 *
 * Multi-process safety rests on compare-and-set updates, not on locks held across statements: a due
 * schedule is claimed by one `update … where id = ? and next_run_at = ? … returning` that also moves
 * `next_run_at` on, so of two processes that saw the same due row only one update matches. SQLite
 * serialises writers (one file, many processes); Postgres takes the row lock of the update, and the
 * loser re-evaluates the `where` against the new `next_run_at` and matches nothing.
 * @module
 */
import type { Page, PageRequest } from './types.js';

/** How a schedule computes its slots. */
export type ScheduleKind = 'cron' | 'once' | 'interval';
/** agtOS statuses; Agno's `enabled` is `status === 'active'`. */
export type ScheduleStatus = 'active' | 'paused' | 'completed' | 'cancelled' | 'failed';
/** What happens to slots that passed while no process was running: skip them, or fire once for all. */
export type CatchUpPolicy = 'skip' | 'run_once';

/** What a firing does: call an endpoint of this server (Agno) or publish a bus topic (agtOS). */
export type ScheduleTarget = { type: 'endpoint'; method: string; endpoint: string } | { type: 'topic'; topic: string };

export interface ScheduleRecord {
  id: string;
  workspaceId: string;
  name: string;
  description: string | null;
  kind: ScheduleKind;
  cronExpr: string | null;
  timezone: string;
  intervalMs: number | null;
  /** The instant of a `once` schedule. */
  atMs: number | null;
  target: ScheduleTarget;
  payload: Record<string, unknown>;
  /**
   * The scopes of the principal that last set the target and payload. A firing that calls an endpoint
   * acts with no more than these (intersected with the internal run scopes); null (rows from before
   * they were recorded, topic schedules) grants no run rights at all.
   */
  authorScopes: string[] | null;
  catchUp: CatchUpPolicy;
  timeoutMs: number;
  maxRetries: number;
  retryDelayMs: number;
  status: ScheduleStatus;
  /** The next slot; null when none is left (a fired `once`, a paused schedule). */
  nextRunAt: number | null;
  lastRunAt: number | null;
  runCount: number;
  /** The process executing a firing right now (its lease), else null. */
  lockedBy: string | null;
  leaseUntil: number | null;
  createdAt: number;
  updatedAt: number;
}

export type ScheduleCreate = Pick<
  ScheduleRecord,
  'id' | 'workspaceId' | 'name' | 'kind' | 'timezone' | 'target' | 'status' | 'nextRunAt'
> &
  Partial<
    Pick<
      ScheduleRecord,
      | 'description'
      | 'cronExpr'
      | 'intervalMs'
      | 'atMs'
      | 'payload'
      | 'authorScopes'
      | 'catchUp'
      | 'timeoutMs'
      | 'maxRetries'
      | 'retryDelayMs'
    >
  >;

export type ScheduleUpdate = Partial<
  Pick<
    ScheduleRecord,
    | 'name'
    | 'description'
    | 'kind'
    | 'cronExpr'
    | 'timezone'
    | 'intervalMs'
    | 'atMs'
    | 'target'
    | 'payload'
    | 'authorScopes'
    | 'catchUp'
    | 'timeoutMs'
    | 'maxRetries'
    | 'retryDelayMs'
    | 'status'
    | 'nextRunAt'
  >
>;

export interface ScheduleFilter extends PageRequest {
  workspaceId: string;
  statuses?: readonly ScheduleStatus[];
  /** Only schedules whose target is of this type (the agtOS list shows topic schedules only). */
  targetType?: ScheduleTarget['type'];
}

/** What a claim writes besides the new `next_run_at`. */
export interface ScheduleLease {
  owner: string;
  leaseUntil: number;
  at: number;
}

export type ScheduleRunStatus = 'running' | 'success' | 'failed' | 'timeout' | 'cancelled' | 'paused';

/** One firing attempt of a schedule. */
export interface ScheduleRunRecord {
  id: string;
  scheduleId: string;
  workspaceId: string;
  /** The slot this firing stands for; null for a manual trigger. */
  slotAt: number | null;
  attempt: number;
  manual: boolean;
  /** The process that fired it. */
  worker: string;
  triggeredAt: number;
  completedAt: number | null;
  status: ScheduleRunStatus;
  statusCode: number | null;
  runId: string | null;
  sessionId: string | null;
  error: string | null;
  input: Record<string, unknown>;
  output: Record<string, unknown> | null;
  createdAt: number;
}

export type ScheduleRunCreate = Pick<
  ScheduleRunRecord,
  'id' | 'scheduleId' | 'workspaceId' | 'slotAt' | 'attempt' | 'manual' | 'worker' | 'triggeredAt'
> &
  Partial<Pick<ScheduleRunRecord, 'input'>>;

export type ScheduleRunUpdate = Partial<
  Pick<ScheduleRunRecord, 'completedAt' | 'status' | 'statusCode' | 'runId' | 'sessionId' | 'error' | 'output'>
>;

/** Schedules and their runs. Definition reads and writes are scoped to a workspace. */
export interface ScheduleStore {
  /** `ConflictError` on a duplicate id. */
  create(input: ScheduleCreate): Promise<ScheduleRecord>;
  get(workspaceId: string, id: string): Promise<ScheduleRecord | null>;
  findByName(workspaceId: string, name: string): Promise<ScheduleRecord | null>;
  /** Oldest first. */
  list(filter: ScheduleFilter): Promise<Page<ScheduleRecord>>;
  /** Applies the patch and bumps `updatedAt`; null when missing. */
  update(workspaceId: string, id: string, patch: ScheduleUpdate): Promise<ScheduleRecord | null>;
  /** Deletes the schedule and its runs; `false` when missing. */
  delete(workspaceId: string, id: string): Promise<boolean>;
  /**
   * Active schedules of every workspace whose `next_run_at <= now` and whose lease is free (none, or
   * expired before `now`), earliest first: one range scan of the (status, next_run_at) index.
   */
  listDue(now: number, limit: number): Promise<ScheduleRecord[]>;
  /**
   * Claims the slot `expectedNextRunAt` for one firing, atomically: moves `next_run_at` to
   * `nextRunAt`, takes the lease, sets `last_run_at` and counts the run, all only while the row is
   * still active, still has that `next_run_at` and a free lease. Null when another process won.
   */
  claim(
    id: string,
    expectedNextRunAt: number,
    nextRunAt: number | null,
    lease: ScheduleLease,
  ): Promise<ScheduleRecord | null>;
  /** Moves `next_run_at` past missed slots without firing (catch-up `skip`); same compare-and-set as `claim`. */
  skip(id: string, expectedNextRunAt: number, nextRunAt: number | null, at: number): Promise<ScheduleRecord | null>;
  /**
   * Takes the lease without touching `next_run_at` (a manual trigger), counting the run; null when the
   * schedule is missing or its lease is held by a firing in progress.
   */
  lock(workspaceId: string, id: string, lease: ScheduleLease): Promise<ScheduleRecord | null>;
  /** Extends the lease while `owner` holds it (heartbeat); `false` when it lost it. */
  renewLease(id: string, owner: string, leaseUntil: number): Promise<boolean>;
  /** Frees the lease `owner` holds; `status` (e.g. `completed` after a `once`) is set in the same update. */
  release(id: string, owner: string, at: number, status?: ScheduleStatus): Promise<void>;
  createRun(input: ScheduleRunCreate): Promise<ScheduleRunRecord>;
  updateRun(id: string, patch: ScheduleRunUpdate): Promise<ScheduleRunRecord | null>;
  getRun(workspaceId: string, scheduleId: string, runId: string): Promise<ScheduleRunRecord | null>;
  /** Newest first. */
  listRuns(filter: PageRequest & { workspaceId: string; scheduleId: string }): Promise<Page<ScheduleRunRecord>>;
}

/** One published event. */
export interface BusEventRecord {
  id: string;
  workspaceId: string;
  topic: string;
  payload: Record<string, unknown>;
  idempotencyKey: string | null;
  /** Who published it (`schedule:<id>`, `api:<principal>`), for tracing. */
  source: string | null;
  createdAt: number;
}

export type BusEventCreate = Pick<BusEventRecord, 'id' | 'workspaceId' | 'topic' | 'payload'> &
  Partial<Pick<BusEventRecord, 'idempotencyKey' | 'source'>>;

export type BusDeliveryStatus = 'pending' | 'delivered' | 'failed';

/** The delivery of one event to one subscriber. */
export interface BusDeliveryRecord {
  eventId: string;
  subscriberId: string;
  workspaceId: string;
  status: BusDeliveryStatus;
  attempts: number;
  nextAttemptAt: number | null;
  lockedBy: string | null;
  leaseUntil: number | null;
  lastError: string | null;
  deliveredAt: number | null;
  createdAt: number;
}

/** The persisted event bus. */
export interface EventBusStore {
  /**
   * Stores the event and one pending delivery per subscriber, atomically. When the workspace already
   * has an event with the same idempotency key, nothing is written and that event comes back with
   * `duplicate: true`.
   */
  publish(
    input: BusEventCreate,
    subscriberIds: readonly string[],
  ): Promise<{ event: BusEventRecord; duplicate: boolean }>;
  getEvent(workspaceId: string, id: string): Promise<BusEventRecord | null>;
  /** Newest first. */
  listEvents(filter: PageRequest & { workspaceId: string; topic?: string }): Promise<Page<BusEventRecord>>;
  /** Pending deliveries due at `now` with a free lease, earliest first, of every workspace. */
  listDueDeliveries(now: number, limit: number): Promise<BusDeliveryRecord[]>;
  /** Takes one attempt of a delivery (compare-and-set on `attempts` and the lease); null when another process won. */
  claimDelivery(
    eventId: string,
    subscriberId: string,
    expectedAttempts: number,
    lease: ScheduleLease,
  ): Promise<BusDeliveryRecord | null>;
  /**
   * Extends the lease of the attempt `owner` holds (heartbeat while a slow deliverer runs). False when
   * `owner` no longer holds it (settled, or its lease lapsed and another process claimed it).
   */
  renewDeliveryLease(eventId: string, subscriberId: string, owner: string, leaseUntil: number): Promise<boolean>;
  /** Records the outcome of the attempt `owner` holds: delivered, retry at `nextAttemptAt`, or failed for good. */
  settleDelivery(
    eventId: string,
    subscriberId: string,
    owner: string,
    outcome:
      | { status: 'delivered'; at: number }
      | { status: 'pending' | 'failed'; nextAttemptAt: number | null; error: string },
  ): Promise<void>;
  listDeliveries(workspaceId: string, eventId: string): Promise<BusDeliveryRecord[]>;
}
