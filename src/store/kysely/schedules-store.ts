/**
 * Kysely implementation of schedules and the event bus, dialect-neutral (SQLite and Postgres). Every
 * state change that two processes could race on is one conditional `update … returning`; see
 * `schedules-types.ts` for why that suffices on both dialects.
 * @module
 */
import { type ExpressionBuilder, type Kysely, type Selectable, sql } from 'kysely';
import { ConflictError } from '../../errors/index.js';
import type {
  BusDeliveryRecord,
  BusDeliveryStatus,
  BusEventCreate,
  BusEventRecord,
  CatchUpPolicy,
  EventBusStore,
  ScheduleCreate,
  ScheduleFilter,
  ScheduleKind,
  ScheduleLease,
  ScheduleRecord,
  ScheduleRunCreate,
  ScheduleRunRecord,
  ScheduleRunStatus,
  ScheduleRunUpdate,
  ScheduleStatus,
  ScheduleStore,
  ScheduleTarget,
  ScheduleUpdate,
} from '../schedules-types.js';
import type { Page, PageRequest } from '../types.js';
import { isUniqueViolation } from './constraint-errors.js';
import { decodeJson, encodeJson } from './json-codec.js';
import { pageBounds } from './paging.js';
import type { Database } from './tables.js';

export interface SchedulesTable {
  id: string;
  workspace_id: string;
  name: string;
  description: string | null;
  kind: string;
  cron_expr: string | null;
  timezone: string;
  interval_ms: number | null;
  at_ms: number | null;
  target: unknown;
  payload: unknown;
  /** JSON list of scopes, or null. */
  author_scopes: unknown;
  catch_up: string;
  timeout_ms: number;
  max_retries: number;
  retry_delay_ms: number;
  status: string;
  next_run_at: number | null;
  last_run_at: number | null;
  run_count: number;
  locked_by: string | null;
  lease_until: number | null;
  created_at: number;
  updated_at: number;
}

export interface ScheduleRunsTable {
  id: string;
  schedule_id: string;
  workspace_id: string;
  slot_at: number | null;
  attempt: number;
  manual: number;
  worker: string;
  triggered_at: number;
  completed_at: number | null;
  status: string;
  status_code: number | null;
  run_id: string | null;
  session_id: string | null;
  error: string | null;
  input: unknown;
  output: unknown;
  created_at: number;
}

export interface BusEventsTable {
  id: string;
  workspace_id: string;
  topic: string;
  payload: unknown;
  idempotency_key: string | null;
  source: string | null;
  created_at: number;
}

export interface BusDeliveriesTable {
  event_id: string;
  subscriber_id: string;
  workspace_id: string;
  status: string;
  attempts: number;
  next_attempt_at: number | null;
  locked_by: string | null;
  lease_until: number | null;
  last_error: string | null;
  delivered_at: number | null;
  created_at: number;
}

/** Postgres returns bigint columns as strings; both dialects' values become numbers here. */
function numberOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

function toSchedule(row: Selectable<SchedulesTable>): ScheduleRecord {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    name: row.name,
    description: row.description,
    kind: row.kind as ScheduleKind,
    cronExpr: row.cron_expr,
    timezone: row.timezone,
    intervalMs: numberOrNull(row.interval_ms),
    atMs: numberOrNull(row.at_ms),
    target: decodeJson<ScheduleTarget>(row.target, { type: 'topic', topic: '' }),
    payload: decodeJson(row.payload, {}),
    authorScopes: row.author_scopes === null ? null : decodeJson<string[] | null>(row.author_scopes, null),
    catchUp: row.catch_up as CatchUpPolicy,
    timeoutMs: Number(row.timeout_ms),
    maxRetries: Number(row.max_retries),
    retryDelayMs: Number(row.retry_delay_ms),
    status: row.status as ScheduleStatus,
    nextRunAt: numberOrNull(row.next_run_at),
    lastRunAt: numberOrNull(row.last_run_at),
    runCount: Number(row.run_count),
    lockedBy: row.locked_by,
    leaseUntil: numberOrNull(row.lease_until),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

function toScheduleRun(row: Selectable<ScheduleRunsTable>): ScheduleRunRecord {
  return {
    id: row.id,
    scheduleId: row.schedule_id,
    workspaceId: row.workspace_id,
    slotAt: numberOrNull(row.slot_at),
    attempt: Number(row.attempt),
    manual: Number(row.manual) === 1,
    worker: row.worker,
    triggeredAt: Number(row.triggered_at),
    completedAt: numberOrNull(row.completed_at),
    status: row.status as ScheduleRunStatus,
    statusCode: numberOrNull(row.status_code),
    runId: row.run_id,
    sessionId: row.session_id,
    error: row.error,
    input: decodeJson(row.input, {}),
    output: decodeJson<Record<string, unknown> | null>(row.output, null),
    createdAt: Number(row.created_at),
  };
}

function toBusEvent(row: Selectable<BusEventsTable>): BusEventRecord {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    topic: row.topic,
    payload: decodeJson(row.payload, {}),
    idempotencyKey: row.idempotency_key,
    source: row.source,
    createdAt: Number(row.created_at),
  };
}

function toDelivery(row: Selectable<BusDeliveriesTable>): BusDeliveryRecord {
  return {
    eventId: row.event_id,
    subscriberId: row.subscriber_id,
    workspaceId: row.workspace_id,
    status: row.status as BusDeliveryStatus,
    attempts: Number(row.attempts),
    nextAttemptAt: numberOrNull(row.next_attempt_at),
    lockedBy: row.locked_by,
    leaseUntil: numberOrNull(row.lease_until),
    lastError: row.last_error,
    deliveredAt: numberOrNull(row.delivered_at),
    createdAt: Number(row.created_at),
  };
}

function scheduleValues(patch: ScheduleUpdate): Partial<SchedulesTable> {
  const values: Partial<SchedulesTable> = {};
  if (patch.name !== undefined) values.name = patch.name;
  if (patch.description !== undefined) values.description = patch.description;
  if (patch.kind !== undefined) values.kind = patch.kind;
  if (patch.cronExpr !== undefined) values.cron_expr = patch.cronExpr;
  if (patch.timezone !== undefined) values.timezone = patch.timezone;
  if (patch.intervalMs !== undefined) values.interval_ms = patch.intervalMs;
  if (patch.atMs !== undefined) values.at_ms = patch.atMs;
  if (patch.target !== undefined) values.target = encodeJson(patch.target);
  if (patch.payload !== undefined) values.payload = encodeJson(patch.payload);
  if (patch.authorScopes !== undefined) {
    values.author_scopes = patch.authorScopes === null ? null : encodeJson(patch.authorScopes);
  }
  if (patch.catchUp !== undefined) values.catch_up = patch.catchUp;
  if (patch.timeoutMs !== undefined) values.timeout_ms = patch.timeoutMs;
  if (patch.maxRetries !== undefined) values.max_retries = patch.maxRetries;
  if (patch.retryDelayMs !== undefined) values.retry_delay_ms = patch.retryDelayMs;
  if (patch.status !== undefined) values.status = patch.status;
  if (patch.nextRunAt !== undefined) values.next_run_at = patch.nextRunAt;
  return values;
}

/** The lease is free: nobody holds it, or its holder stopped renewing it before `now`. */
function leaseFree(now: number) {
  return (eb: ExpressionBuilder<Database, 'schedules'>) =>
    eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]);
}

/** Schedules and their firing history. */
export class KyselyScheduleStore implements ScheduleStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => number,
  ) {}

  async create(input: ScheduleCreate): Promise<ScheduleRecord> {
    const at = this.now();
    const row: SchedulesTable = {
      id: input.id,
      workspace_id: input.workspaceId,
      name: input.name,
      description: input.description ?? null,
      kind: input.kind,
      cron_expr: input.cronExpr ?? null,
      timezone: input.timezone,
      interval_ms: input.intervalMs ?? null,
      at_ms: input.atMs ?? null,
      target: encodeJson(input.target),
      payload: encodeJson(input.payload ?? {}),
      author_scopes: input.authorScopes ? encodeJson(input.authorScopes) : null,
      catch_up: input.catchUp ?? 'skip',
      timeout_ms: input.timeoutMs ?? 3_600_000,
      max_retries: input.maxRetries ?? 0,
      retry_delay_ms: input.retryDelayMs ?? 60_000,
      status: input.status,
      next_run_at: input.nextRunAt,
      last_run_at: null,
      run_count: 0,
      locked_by: null,
      lease_until: null,
      created_at: at,
      updated_at: at,
    };
    try {
      await this.db.insertInto('schedules').values(row).execute();
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictError(`Schedule "${input.id}" already exists`);
      throw error;
    }
    return toSchedule(row);
  }

  async get(workspaceId: string, id: string): Promise<ScheduleRecord | null> {
    const row = await this.db
      .selectFrom('schedules')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? toSchedule(row) : null;
  }

  async findByName(workspaceId: string, name: string): Promise<ScheduleRecord | null> {
    const row = await this.db
      .selectFrom('schedules')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('name', '=', name)
      .executeTakeFirst();
    return row ? toSchedule(row) : null;
  }

  async list(filter: ScheduleFilter): Promise<Page<ScheduleRecord>> {
    let query = this.db.selectFrom('schedules').where('workspace_id', '=', filter.workspaceId);
    if (filter.statuses !== undefined) query = query.where('status', 'in', [...filter.statuses]);
    if (filter.targetType !== undefined) {
      // `->>` reads a JSON field as text on both dialects (SQLite ≥ 3.38 on text, Postgres on jsonb).
      query = query.where(sql<string>`target->>'type'`, '=', filter.targetType);
    }
    const { limit, offset } = pageBounds(filter);
    const [rows, count] = await Promise.all([
      query.selectAll().orderBy('created_at', 'asc').orderBy('id', 'asc').limit(limit).offset(offset).execute(),
      query.select((builder) => builder.fn.countAll().as('total')).executeTakeFirst(),
    ]);
    return { items: rows.map(toSchedule), total: Number(count?.total ?? 0) };
  }

  async update(workspaceId: string, id: string, patch: ScheduleUpdate): Promise<ScheduleRecord | null> {
    const row = await this.db
      .updateTable('schedules')
      .set({ ...scheduleValues(patch), updated_at: this.now() })
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
    return row ? toSchedule(row) : null;
  }

  async delete(workspaceId: string, id: string): Promise<boolean> {
    return this.db.transaction().execute(async (transaction) => {
      await transaction
        .deleteFrom('schedule_runs')
        .where('workspace_id', '=', workspaceId)
        .where('schedule_id', '=', id)
        .execute();
      const result = await transaction
        .deleteFrom('schedules')
        .where('workspace_id', '=', workspaceId)
        .where('id', '=', id)
        .executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    });
  }

  async listDue(now: number, limit: number): Promise<ScheduleRecord[]> {
    const rows = await this.db
      .selectFrom('schedules')
      .selectAll()
      .where('status', '=', 'active')
      .where('next_run_at', '<=', now)
      .where(leaseFree(now))
      .orderBy('next_run_at', 'asc')
      .limit(limit)
      .execute();
    return rows.map(toSchedule);
  }

  async claim(
    id: string,
    expectedNextRunAt: number,
    nextRunAt: number | null,
    lease: ScheduleLease,
  ): Promise<ScheduleRecord | null> {
    const row = await this.db
      .updateTable('schedules')
      .set((eb) => ({
        next_run_at: nextRunAt,
        locked_by: lease.owner,
        lease_until: lease.leaseUntil,
        last_run_at: lease.at,
        run_count: eb('run_count', '+', 1),
        updated_at: lease.at,
      }))
      .where('id', '=', id)
      .where('status', '=', 'active')
      .where('next_run_at', '=', expectedNextRunAt)
      .where(leaseFree(lease.at))
      .returningAll()
      .executeTakeFirst();
    return row ? toSchedule(row) : null;
  }

  async skip(
    id: string,
    expectedNextRunAt: number,
    nextRunAt: number | null,
    at: number,
  ): Promise<ScheduleRecord | null> {
    const row = await this.db
      .updateTable('schedules')
      .set({ next_run_at: nextRunAt, updated_at: at })
      .where('id', '=', id)
      .where('status', '=', 'active')
      .where('next_run_at', '=', expectedNextRunAt)
      .where(leaseFree(at))
      .returningAll()
      .executeTakeFirst();
    return row ? toSchedule(row) : null;
  }

  async lock(workspaceId: string, id: string, lease: ScheduleLease): Promise<ScheduleRecord | null> {
    const row = await this.db
      .updateTable('schedules')
      .set((eb) => ({
        locked_by: lease.owner,
        lease_until: lease.leaseUntil,
        last_run_at: lease.at,
        run_count: eb('run_count', '+', 1),
        updated_at: lease.at,
      }))
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', id)
      .where(leaseFree(lease.at))
      .returningAll()
      .executeTakeFirst();
    return row ? toSchedule(row) : null;
  }

  async renewLease(id: string, owner: string, leaseUntil: number): Promise<boolean> {
    const result = await this.db
      .updateTable('schedules')
      .set({ lease_until: leaseUntil })
      .where('id', '=', id)
      .where('locked_by', '=', owner)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async release(id: string, owner: string, at: number, status?: ScheduleStatus): Promise<void> {
    await this.db
      .updateTable('schedules')
      .set({ locked_by: null, lease_until: null, updated_at: at, ...(status === undefined ? {} : { status }) })
      .where('id', '=', id)
      .where('locked_by', '=', owner)
      .execute();
  }

  async createRun(input: ScheduleRunCreate): Promise<ScheduleRunRecord> {
    const row: ScheduleRunsTable = {
      id: input.id,
      schedule_id: input.scheduleId,
      workspace_id: input.workspaceId,
      slot_at: input.slotAt,
      attempt: input.attempt,
      manual: input.manual ? 1 : 0,
      worker: input.worker,
      triggered_at: input.triggeredAt,
      completed_at: null,
      status: 'running',
      status_code: null,
      run_id: null,
      session_id: null,
      error: null,
      input: encodeJson(input.input ?? {}),
      output: null,
      created_at: this.now(),
    };
    await this.db.insertInto('schedule_runs').values(row).execute();
    return toScheduleRun(row);
  }

  async updateRun(id: string, patch: ScheduleRunUpdate): Promise<ScheduleRunRecord | null> {
    const values: Partial<ScheduleRunsTable> = {};
    if (patch.completedAt !== undefined) values.completed_at = patch.completedAt;
    if (patch.status !== undefined) values.status = patch.status;
    if (patch.statusCode !== undefined) values.status_code = patch.statusCode;
    if (patch.runId !== undefined) values.run_id = patch.runId;
    if (patch.sessionId !== undefined) values.session_id = patch.sessionId;
    if (patch.error !== undefined) values.error = patch.error;
    if (patch.output !== undefined) values.output = patch.output === null ? null : encodeJson(patch.output);
    if (Object.keys(values).length === 0) {
      const row = await this.db.selectFrom('schedule_runs').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? toScheduleRun(row) : null;
    }
    const row = await this.db
      .updateTable('schedule_runs')
      .set(values)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
    return row ? toScheduleRun(row) : null;
  }

  async getRun(workspaceId: string, scheduleId: string, runId: string): Promise<ScheduleRunRecord | null> {
    const row = await this.db
      .selectFrom('schedule_runs')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('schedule_id', '=', scheduleId)
      .where('id', '=', runId)
      .executeTakeFirst();
    return row ? toScheduleRun(row) : null;
  }

  async listRuns(filter: PageRequest & { workspaceId: string; scheduleId: string }): Promise<Page<ScheduleRunRecord>> {
    const query = this.db
      .selectFrom('schedule_runs')
      .where('workspace_id', '=', filter.workspaceId)
      .where('schedule_id', '=', filter.scheduleId);
    const { limit, offset } = pageBounds(filter);
    const [rows, count] = await Promise.all([
      query
        .selectAll()
        .orderBy('created_at', 'desc')
        .orderBy('triggered_at', 'desc')
        .limit(limit)
        .offset(offset)
        .execute(),
      query.select((builder) => builder.fn.countAll().as('total')).executeTakeFirst(),
    ]);
    return { items: rows.map(toScheduleRun), total: Number(count?.total ?? 0) };
  }
}

/** The persisted event bus: events and their per-subscriber deliveries. */
export class KyselyEventBusStore implements EventBusStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => number,
  ) {}

  async publish(
    input: BusEventCreate,
    subscriberIds: readonly string[],
  ): Promise<{ event: BusEventRecord; duplicate: boolean }> {
    const at = this.now();
    const row: BusEventsTable = {
      id: input.id,
      workspace_id: input.workspaceId,
      topic: input.topic,
      payload: encodeJson(input.payload),
      idempotency_key: input.idempotencyKey ?? null,
      source: input.source ?? null,
      created_at: at,
    };
    return this.db.transaction().execute(async (transaction) => {
      // `on conflict do nothing` keeps a duplicate key from aborting the transaction (Postgres) and
      // makes the check and the insert one statement, so two publishers cannot both win.
      const inserted = await transaction
        .insertInto('bus_events')
        .values(row)
        .onConflict((conflict) => conflict.columns(['workspace_id', 'idempotency_key']).doNothing())
        .returning('id')
        .executeTakeFirst();
      if (!inserted) {
        const existing = await transaction
          .selectFrom('bus_events')
          .selectAll()
          .where('workspace_id', '=', input.workspaceId)
          .where('idempotency_key', '=', input.idempotencyKey ?? '')
          .executeTakeFirstOrThrow();
        return { event: toBusEvent(existing), duplicate: true };
      }
      if (subscriberIds.length > 0) {
        await transaction
          .insertInto('bus_deliveries')
          .values(
            subscriberIds.map((subscriberId) => ({
              event_id: input.id,
              subscriber_id: subscriberId,
              workspace_id: input.workspaceId,
              status: 'pending',
              attempts: 0,
              next_attempt_at: at,
              locked_by: null,
              lease_until: null,
              last_error: null,
              delivered_at: null,
              created_at: at,
            })),
          )
          .execute();
      }
      return { event: toBusEvent(row), duplicate: false };
    });
  }

  async getEvent(workspaceId: string, id: string): Promise<BusEventRecord | null> {
    const row = await this.db
      .selectFrom('bus_events')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? toBusEvent(row) : null;
  }

  async listEvents(filter: PageRequest & { workspaceId: string; topic?: string }): Promise<Page<BusEventRecord>> {
    let query = this.db.selectFrom('bus_events').where('workspace_id', '=', filter.workspaceId);
    if (filter.topic !== undefined) query = query.where('topic', '=', filter.topic);
    const { limit, offset } = pageBounds(filter);
    const [rows, count] = await Promise.all([
      query.selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).offset(offset).execute(),
      query.select((builder) => builder.fn.countAll().as('total')).executeTakeFirst(),
    ]);
    return { items: rows.map(toBusEvent), total: Number(count?.total ?? 0) };
  }

  async listDueDeliveries(now: number, limit: number): Promise<BusDeliveryRecord[]> {
    const rows = await this.db
      .selectFrom('bus_deliveries')
      .selectAll()
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', now)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
      .orderBy('next_attempt_at', 'asc')
      .limit(limit)
      .execute();
    return rows.map(toDelivery);
  }

  async claimDelivery(
    eventId: string,
    subscriberId: string,
    expectedAttempts: number,
    lease: ScheduleLease,
  ): Promise<BusDeliveryRecord | null> {
    const row = await this.db
      .updateTable('bus_deliveries')
      .set({ attempts: expectedAttempts + 1, locked_by: lease.owner, lease_until: lease.leaseUntil })
      .where('event_id', '=', eventId)
      .where('subscriber_id', '=', subscriberId)
      .where('status', '=', 'pending')
      .where('attempts', '=', expectedAttempts)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', lease.at)]))
      .returningAll()
      .executeTakeFirst();
    return row ? toDelivery(row) : null;
  }

  async renewDeliveryLease(eventId: string, subscriberId: string, owner: string, leaseUntil: number): Promise<boolean> {
    const result = await this.db
      .updateTable('bus_deliveries')
      .set({ lease_until: leaseUntil })
      .where('event_id', '=', eventId)
      .where('subscriber_id', '=', subscriberId)
      .where('status', '=', 'pending')
      .where('locked_by', '=', owner)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async settleDelivery(
    eventId: string,
    subscriberId: string,
    owner: string,
    outcome:
      | { status: 'delivered'; at: number }
      | { status: 'pending' | 'failed'; nextAttemptAt: number | null; error: string },
  ): Promise<void> {
    const values: Partial<BusDeliveriesTable> =
      outcome.status === 'delivered'
        ? { status: 'delivered', delivered_at: outcome.at, last_error: null }
        : { status: outcome.status, next_attempt_at: outcome.nextAttemptAt, last_error: outcome.error };
    await this.db
      .updateTable('bus_deliveries')
      .set({ ...values, locked_by: null, lease_until: null })
      .where('event_id', '=', eventId)
      .where('subscriber_id', '=', subscriberId)
      .where('locked_by', '=', owner)
      .execute();
  }

  async listDeliveries(workspaceId: string, eventId: string): Promise<BusDeliveryRecord[]> {
    const rows = await this.db
      .selectFrom('bus_deliveries')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('event_id', '=', eventId)
      .orderBy('subscriber_id', 'asc')
      .execute();
    return rows.map(toDelivery);
  }
}
