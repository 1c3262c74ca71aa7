import { type Kysely, type Migration, type Selectable, sql } from 'kysely';
import { ConflictError, NotFoundError } from '../../errors/index.js';
import { KyselySearchIndex } from '../../search/kysely-search-index.js';
import type { ObservabilityStore } from '../observability-types.js';
import type {
  ApiKeyCreate,
  ApiKeyRecord,
  ApiKeyStore,
  AuditEntry,
  AuditRecord,
  AuditSeal,
  AuditStore,
  AuditVerification,
  AuditViolation,
  ComponentType,
  MigrationResult,
  Page,
  PageRequest,
  RateLimitDecision,
  RateLimitRuleSpec,
  RateLimitStore,
  RunCreate,
  RunEventAppend,
  RunEventRecord,
  RunEventStore,
  RunFilter,
  RunRecord,
  RunStatus,
  RunStore,
  RunUpdate,
  SessionCreate,
  SessionFilter,
  SessionRecord,
  SessionStore,
  SessionUpdate,
  Store,
  StoreCapabilities,
} from '../types.js';
import type { UsageIncrement } from '../usage-types.js';
import { KyselyAgentsStore } from './agents-store.js';
import { KyselyApprovalStore } from './approvals-store.js';
import { isForeignKeyViolation, isUniqueViolation } from './constraint-errors.js';
import { decodeJson, encodeJson } from './json-codec.js';
import { KyselyKnowledgeStore } from './knowledge-store.js';
import { KyselyMemoryStore } from './memory-store.js';
import { runMigrations } from './migrate.js';
import { KyselyObservabilityStore } from './observability-store.js';
import { pageBounds } from './paging.js';
import { columnsOf, insertRow, queryShapes, slotRow } from './query-shapes.js';
import { KyselyEventBusStore, KyselyScheduleStore } from './schedules-store.js';
import { KyselyServiceAccountStore } from './service-accounts-store.js';
import type { ApiKeysTable, AuditLogTable, Database, RunsTable, SessionsTable } from './tables.js';
import { addUsage, KyselyUsageStore, type UsageTables } from './usage-store.js';
import { KyselyWorkflowStore } from './workflow-store.js';

/** The workspace every row belongs to unless one is named (CONTRACT.md §4). */
export const DEFAULT_WORKSPACE = 'default';

/** Drivers return counts as number (SQLite) or string (Postgres bigint); both become a number. */
function toCount(value: unknown): number {
  return Number(value ?? 0);
}

function toSession(row: Selectable<SessionsTable>): SessionRecord {
  return {
    sessionId: row.session_id,
    workspaceId: row.workspace_id,
    sessionType: row.session_type as ComponentType,
    componentId: row.component_id,
    userId: row.user_id,
    sessionName: row.session_name,
    sessionState: decodeJson(row.session_state, {}),
    metadata: decodeJson(row.metadata, {}),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

function toRun(row: Selectable<RunsTable>): RunRecord {
  return {
    runId: row.run_id,
    sessionId: row.session_id,
    workspaceId: row.workspace_id,
    componentType: row.component_type as ComponentType,
    componentId: row.component_id,
    parentRunId: row.parent_run_id,
    userId: row.user_id,
    status: row.status as RunStatus,
    input: decodeJson(row.input, {}),
    content: row.content,
    metrics: decodeJson(row.metrics, {}),
    error: row.error,
    owner: row.owner,
    heartbeatAt: row.heartbeat_at === null ? null : Number(row.heartbeat_at),
    messages: decodeJson(row.messages, []),
    output: decodeJson(row.output, {}),
    cancelRequestedAt: row.cancel_requested_at === null ? null : Number(row.cancel_requested_at),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

/** Turns a run patch into column values (JSON encoded), with a fresh `updated_at`. */
function runValues(patch: RunUpdate, at: number): Partial<RunsTable> {
  const values: Partial<RunsTable> = { updated_at: at };
  if (patch.status !== undefined) values.status = patch.status;
  if (patch.content !== undefined) values.content = patch.content;
  if (patch.metrics !== undefined) values.metrics = encodeJson(patch.metrics);
  if (patch.input !== undefined) values.input = encodeJson(patch.input);
  if (patch.messages !== undefined) values.messages = encodeJson(patch.messages);
  if (patch.output !== undefined) values.output = encodeJson(patch.output);
  if (patch.error !== undefined) values.error = patch.error;
  if (patch.owner !== undefined) values.owner = patch.owner;
  if (patch.heartbeatAt !== undefined) values.heartbeat_at = patch.heartbeatAt;
  return values;
}

const UNFINISHED: RunStatus[] = ['pending', 'running'];

function toApiKey(row: Selectable<ApiKeysTable>): ApiKeyRecord {
  return {
    id: row.id,
    name: row.name,
    keyHash: row.key_hash,
    keyPrefix: row.key_prefix,
    scopes: decodeJson(row.scopes, []),
    role: row.role ?? null,
    serviceAccountId: row.service_account_id ?? null,
    workspaceId: row.workspace_id,
    createdAt: Number(row.created_at),
    lastUsedAt: row.last_used_at === null ? null : Number(row.last_used_at),
    expiresAt: row.expires_at === null || row.expires_at === undefined ? null : Number(row.expires_at),
    revokedAt: row.revoked_at === null ? null : Number(row.revoked_at),
  };
}

function sessionRow(input: SessionCreate, at: number): SessionsTable {
  return {
    session_id: input.sessionId,
    workspace_id: input.workspaceId ?? DEFAULT_WORKSPACE,
    session_type: input.sessionType,
    component_id: input.componentId,
    user_id: input.userId ?? null,
    session_name: input.sessionName ?? null,
    session_state: encodeJson(input.sessionState ?? {}),
    metadata: encodeJson(input.metadata ?? {}),
    created_at: at,
    updated_at: at,
  };
}

/** Inserts a session row; `ConflictError` when its id exists. `db` may be a transaction. */
async function insertSession(db: Kysely<Database>, row: SessionsTable): Promise<void> {
  try {
    await insertRow(db, 'sessions', row);
  } catch (error) {
    if (isUniqueViolation(error)) throw new ConflictError(`Session ${row.session_id} already exists`);
    throw error;
  }
}

/** Inserts a run row; `ConflictError` on a duplicate id, `NotFoundError` without its session. `db` may be a transaction. */
async function insertRun(db: Kysely<Database>, row: RunsTable): Promise<void> {
  try {
    await insertRow(db, 'runs', row);
  } catch (error) {
    if (isUniqueViolation(error)) throw new ConflictError(`Run ${row.run_id} already exists`);
    if (isForeignKeyViolation(error)) throw new NotFoundError(`Session ${row.session_id} not found`);
    throw error;
  }
}

/** Inserts events of a run (all or none); `ConflictError` on a used index, `NotFoundError` without the run. */
async function insertRunEvents(db: Kysely<Database>, runId: string, events: RunEventAppend[], at: number) {
  try {
    const values: Record<string, unknown> = { run_id: runId, created_at: at };
    events.forEach((event, index) => {
      values[`${index}.event_index`] = event.eventIndex;
      values[`${index}.event`] = event.event;
      values[`${index}.payload`] = encodeJson(event.payload);
    });
    await queryShapes.execute(
      db as Kysely<never>,
      `insert run_events x${events.length}`,
      (slot) =>
        db.insertInto('run_events').values(
          events.map((_, index) => ({
            run_id: slot('run_id'),
            event_index: slot(`${index}.event_index`),
            event: slot(`${index}.event`),
            payload: slot(`${index}.payload`),
            created_at: slot('created_at'),
          })),
        ),
      values,
    );
  } catch (error) {
    if (isUniqueViolation(error)) throw new ConflictError(`Run ${runId} already has one of these event indexes`);
    if (isForeignKeyViolation(error)) throw new NotFoundError(`Run ${runId} not found`);
    throw error;
  }
}

class KyselySessionStore implements SessionStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => number,
  ) {}

  async create(input: SessionCreate): Promise<SessionRecord> {
    const row = sessionRow(input, this.now());
    await insertSession(this.db, row);
    return toSession(row);
  }

  async get(workspaceId: string, sessionId: string): Promise<SessionRecord | null> {
    const row = await this.db
      .selectFrom('sessions')
      .selectAll()
      .where('session_id', '=', sessionId)
      .where('workspace_id', '=', workspaceId)
      .executeTakeFirst();
    return row ? toSession(row) : null;
  }

  async list(filter: SessionFilter): Promise<Page<SessionRecord>> {
    let query = this.db.selectFrom('sessions').where('workspace_id', '=', filter.workspaceId);
    if (filter.userId !== undefined) query = query.where('user_id', '=', filter.userId);
    if (filter.sessionType !== undefined) query = query.where('session_type', '=', filter.sessionType);
    if (filter.componentId !== undefined) query = query.where('component_id', '=', filter.componentId);
    const { limit, offset } = pageBounds(filter);
    const [rows, count] = await Promise.all([
      query.selectAll().orderBy('updated_at', 'desc').orderBy('session_id').limit(limit).offset(offset).execute(),
      query.select((builder) => builder.fn.countAll().as('total')).executeTakeFirst(),
    ]);
    return { items: rows.map(toSession), total: toCount(count?.total) };
  }

  async update(workspaceId: string, sessionId: string, patch: SessionUpdate): Promise<SessionRecord | null> {
    const values: Partial<SessionsTable> = { updated_at: this.now() };
    if (patch.sessionName !== undefined) values.session_name = patch.sessionName;
    if (patch.sessionState !== undefined) values.session_state = encodeJson(patch.sessionState);
    if (patch.metadata !== undefined) values.metadata = encodeJson(patch.metadata);
    const result = await this.db
      .updateTable('sessions')
      .set(values)
      .where('session_id', '=', sessionId)
      .where('workspace_id', '=', workspaceId)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) return null;
    return this.get(workspaceId, sessionId);
  }

  async delete(workspaceId: string, sessionId: string): Promise<boolean> {
    // Foreign keys cascade to runs and their events.
    const result = await this.db
      .deleteFrom('sessions')
      .where('session_id', '=', sessionId)
      .where('workspace_id', '=', workspaceId)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}

class KyselyRunStore implements RunStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => number,
  ) {}

  async create(input: RunCreate, options: { session?: SessionCreate } = {}): Promise<RunRecord> {
    const workspaceId = input.workspaceId ?? DEFAULT_WORKSPACE;
    const at = this.now();
    const row = {
      run_id: input.runId,
      session_id: input.sessionId,
      workspace_id: workspaceId,
      component_type: input.componentType,
      component_id: input.componentId,
      parent_run_id: input.parentRunId ?? null,
      user_id: input.userId ?? null,
      status: input.status ?? 'pending',
      input: encodeJson(input.input ?? {}),
      content: null,
      metrics: encodeJson({}),
      error: null,
      owner: input.owner ?? null,
      heartbeat_at: input.owner ? at : null,
      messages: encodeJson([]),
      output: encodeJson({}),
      cancel_requested_at: null,
      created_at: at,
      updated_at: at,
    };
    const { session: newSession } = options;
    if (newSession) {
      // One transaction (one WAL commit on SQLite) for both rows; the session is this transaction's own.
      await this.db.transaction().execute(async (transaction) => {
        await insertSession(transaction, sessionRow(newSession, at));
        await insertRun(transaction, row);
      });
      return toRun(row);
    }
    // Sessions are keyed by (workspace, id) and the foreign key names both, so a run can only attach
    // to a session of its own workspace; the lookup turns a miss into a 404 rather than a key error.
    const session = await this.db
      .selectFrom('sessions')
      .select('workspace_id')
      .where('workspace_id', '=', workspaceId)
      .where('session_id', '=', input.sessionId)
      .executeTakeFirst();
    if (!session) {
      throw new NotFoundError(`Session ${input.sessionId} not found`);
    }
    await insertRun(this.db, row);
    return toRun(row);
  }

  async get(workspaceId: string, runId: string): Promise<RunRecord | null> {
    const row = await this.db
      .selectFrom('runs')
      .selectAll()
      .where('run_id', '=', runId)
      .where('workspace_id', '=', workspaceId)
      .executeTakeFirst();
    return row ? toRun(row) : null;
  }

  async list(filter: RunFilter): Promise<Page<RunRecord>> {
    let query = this.db.selectFrom('runs').where('workspace_id', '=', filter.workspaceId);
    if (filter.sessionId !== undefined) query = query.where('session_id', '=', filter.sessionId);
    if (filter.componentType !== undefined) query = query.where('component_type', '=', filter.componentType);
    if (filter.componentId !== undefined) query = query.where('component_id', '=', filter.componentId);
    if (filter.userId !== undefined) query = query.where('user_id', '=', filter.userId);
    if (filter.status !== undefined) query = query.where('status', '=', filter.status);
    const { limit, offset } = pageBounds(filter);
    const [rows, count] = await Promise.all([
      query
        .selectAll()
        .orderBy('created_at', filter.order ?? 'asc')
        .orderBy('run_id', filter.order ?? 'asc')
        .limit(limit)
        .offset(offset)
        .execute(),
      query.select((builder) => builder.fn.countAll().as('total')).executeTakeFirst(),
    ]);
    return { items: rows.map(toRun), total: toCount(count?.total) };
  }

  async update(workspaceId: string, runId: string, patch: RunUpdate): Promise<RunRecord | null> {
    const result = await this.db
      .updateTable('runs')
      .set(runValues(patch, this.now()))
      .where('run_id', '=', runId)
      .where('workspace_id', '=', workspaceId)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) return null;
    return this.get(workspaceId, runId);
  }

  async transition(
    workspaceId: string,
    runId: string,
    from: readonly RunStatus[],
    patch: RunUpdate,
    options: { owner?: string | null; events?: RunEventAppend[]; usage?: UsageIncrement } = {},
  ): Promise<RunRecord | null> {
    const { events = [], usage } = options;
    if (events.length > 0 || usage) {
      // The events first: the transaction then starts with a write (SQLite takes its write lock at once).
      return this.db.transaction().execute(async (transaction) => {
        if (events.length > 0) await insertRunEvents(transaction, runId, events, this.now());
        const record = await this.compareAndSet(transaction, workspaceId, runId, from, patch, options.owner);
        // The tokens were spent whether or not the status still matched.
        if (usage) await addUsage(transaction as unknown as Kysely<UsageTables>, usage, this.now());
        return record;
      });
    }
    return this.compareAndSet(this.db, workspaceId, runId, from, patch, options.owner);
  }

  private async compareAndSet(
    db: Kysely<Database>,
    workspaceId: string,
    runId: string,
    from: readonly RunStatus[],
    patch: RunUpdate,
    owner: string | null | undefined,
  ): Promise<RunRecord | null> {
    if (from.length === 0) return null;
    const set = runValues(patch, this.now());
    const values: Record<string, unknown> = { run_id: runId, workspace_id: workspaceId, owner };
    for (const [column, value] of Object.entries(set)) values[`set.${column}`] = value;
    from.forEach((status, index) => {
      values[`from.${index}`] = status;
    });
    const ownerShape = owner === undefined ? 'any' : owner === null ? 'none' : 'is';
    // RETURNING (SQLite ≥ 3.35 and Postgres): the updated row in the same statement, no second lookup.
    const result = await queryShapes.execute(
      db as Kysely<never>,
      `update runs set ${columnsOf(set)} from ${from.length} owner ${ownerShape}`,
      (slot) => {
        let query = db
          .updateTable('runs')
          .set(slotRow(set, slot, 'set.'))
          .where('run_id', '=', slot('run_id'))
          .where('workspace_id', '=', slot('workspace_id'))
          .where(
            'status',
            'in',
            from.map((_, index) => slot(`from.${index}`)),
          );
        if (ownerShape === 'none') query = query.where('owner', 'is', null);
        if (ownerShape === 'is') query = query.where('owner', '=', slot('owner'));
        return query.returningAll();
      },
      values,
    );
    const row = result.rows[0];
    return row ? toRun(row) : null;
  }

  async listUnfinished(): Promise<RunRecord[]> {
    const rows = await this.db
      .selectFrom('runs')
      .selectAll()
      .where('status', 'in', UNFINISHED)
      .orderBy('created_at')
      .execute();
    return rows.map(toRun);
  }

  async heartbeat(owner: string, at: number): Promise<void> {
    await this.db
      .updateTable('runs')
      .set({ heartbeat_at: at })
      .where('owner', '=', owner)
      .where('status', 'in', UNFINISHED)
      .execute();
  }

  async requestCancel(workspaceId: string, runId: string, at: number): Promise<boolean> {
    const result = await this.db
      .updateTable('runs')
      .set({ cancel_requested_at: at })
      .where('run_id', '=', runId)
      .where('workspace_id', '=', workspaceId)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async listCancelRequested(owner: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('runs')
      .select('run_id')
      .where('owner', '=', owner)
      .where('status', 'in', UNFINISHED)
      .where('cancel_requested_at', 'is not', null)
      .execute();
    return rows.map((row) => row.run_id);
  }
}

class KyselyRunEventStore implements RunEventStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => number,
  ) {}

  async append(runId: string, events: RunEventAppend[]): Promise<void> {
    if (events.length === 0) return;
    await insertRunEvents(this.db, runId, events, this.now());
  }

  async lastIndex(runId: string): Promise<number> {
    const row = await this.db
      .selectFrom('run_events')
      .select((builder) => builder.fn.max('event_index').as('last'))
      .where('run_id', '=', runId)
      .executeTakeFirst();
    return row?.last === null || row?.last === undefined ? -1 : Number(row.last);
  }

  async list(runId: string, options: { afterIndex?: number; limit?: number } = {}): Promise<RunEventRecord[]> {
    let query = this.db.selectFrom('run_events').selectAll().where('run_id', '=', runId);
    if (options.afterIndex !== undefined) query = query.where('event_index', '>', options.afterIndex);
    query = query.orderBy('event_index', 'asc');
    if (options.limit !== undefined) query = query.limit(options.limit);
    const rows = await query.execute();
    return rows.map((row) => ({
      runId: row.run_id,
      eventIndex: Number(row.event_index),
      event: row.event,
      payload: decodeJson(row.payload, {}),
      createdAt: Number(row.created_at),
    }));
  }
}

class KyselyApiKeyStore implements ApiKeyStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => number,
  ) {}

  async create(input: ApiKeyCreate): Promise<ApiKeyRecord> {
    const row = {
      id: input.id,
      name: input.name,
      key_hash: input.keyHash,
      key_prefix: input.keyPrefix,
      scopes: encodeJson(input.scopes),
      workspace_id: input.workspaceId ?? DEFAULT_WORKSPACE,
      created_at: this.now(),
      last_used_at: null,
      revoked_at: null,
      role: input.role ?? null,
      service_account_id: input.serviceAccountId ?? null,
      expires_at: input.expiresAt ?? null,
    };
    try {
      await this.db.insertInto('api_keys').values(row).execute();
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictError('An API key with this id or hash already exists');
      throw error;
    }
    return toApiKey(row);
  }

  async get(id: string): Promise<ApiKeyRecord | null> {
    const row = await this.db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toApiKey(row) : null;
  }

  async getActiveByHash(keyHash: string): Promise<ApiKeyRecord | null> {
    const row = await this.db
      .selectFrom('api_keys')
      .selectAll()
      .where('key_hash', '=', keyHash)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return row ? toApiKey(row) : null;
  }

  async list(
    options: PageRequest & { includeRevoked?: boolean; serviceAccountId?: string } = {},
  ): Promise<Page<ApiKeyRecord>> {
    let query = this.db.selectFrom('api_keys');
    if (!options.includeRevoked) query = query.where('revoked_at', 'is', null);
    if (options.serviceAccountId !== undefined)
      query = query.where('service_account_id', '=', options.serviceAccountId);
    const { limit, offset } = pageBounds(options);
    const [rows, count] = await Promise.all([
      query.selectAll().orderBy('created_at', 'asc').orderBy('id').limit(limit).offset(offset).execute(),
      query.select((builder) => builder.fn.countAll().as('total')).executeTakeFirst(),
    ]);
    return { items: rows.map(toApiKey), total: toCount(count?.total) };
  }

  async count(options: { includeRevoked?: boolean } = {}): Promise<number> {
    // Asked on every request without credentials (is this server in dev mode?), so kept compiled.
    const result = await queryShapes.execute(
      this.db as Kysely<never>,
      `count api_keys ${options.includeRevoked ? 'all' : 'active'}`,
      () => {
        const query = this.db.selectFrom('api_keys').select((builder) => builder.fn.countAll().as('total'));
        return options.includeRevoked ? query : query.where('revoked_at', 'is', null);
      },
      {},
    );
    return toCount(result.rows[0]?.total);
  }

  async revoke(id: string): Promise<boolean> {
    const result = await this.db
      .updateTable('api_keys')
      .set({ revoked_at: this.now() })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async touch(id: string, at: number): Promise<void> {
    await this.db.updateTable('api_keys').set({ last_used_at: at }).where('id', '=', id).execute();
  }
}

/**
 * GCRA (seed 000) over one row per key. The emission interval is the window per request in whole
 * milliseconds (at least 1) and the burst tolerance is `limit` intervals, so a burst admits exactly
 * `limit` requests whatever the rounding.
 */
class KyselyRateLimitStore implements RateLimitStore {
  constructor(private readonly db: Kysely<Database>) {}

  async consume(key: string, rule: RateLimitRuleSpec, now: number): Promise<RateLimitDecision> {
    const limit = Math.max(1, Math.trunc(rule.limit));
    const interval = Math.max(1, Math.round(rule.windowMs / limit));
    const burst = interval * limit;
    const at = Math.trunc(now);
    return this.db.transaction().execute(async (transaction) => {
      // The conditional upsert is the whole decision: it moves `tat` only when the request fits, in one
      // statement, so concurrent callers (or replicas) serialise on the row. `returning` is empty when refused.
      const start = sql<number>`case when ${sql.ref('rate_limits.tat')} > ${at} then ${sql.ref('rate_limits.tat')} else ${at} end`;
      const admitted = await transaction
        .insertInto('rate_limits')
        .values({ key, tat: at + interval })
        .onConflict((conflict) =>
          conflict
            .column('key')
            .doUpdateSet({ tat: sql<number>`${start} + ${interval}` })
            .where(sql<number>`${start} + ${interval}`, '<=', at + burst),
        )
        .returning('tat')
        .executeTakeFirst();
      if (admitted) {
        const tat = Number(admitted.tat);
        return {
          allowed: true,
          limit,
          remaining: Math.max(0, Math.floor((at + burst - tat) / interval)),
          resetMs: Math.max(0, tat - at),
          retryAfterMs: 0,
        };
      }
      const current = await transaction
        .selectFrom('rate_limits')
        .select('tat')
        .where('key', '=', key)
        .executeTakeFirstOrThrow();
      const tat = Number(current.tat);
      return {
        allowed: false,
        limit,
        remaining: 0,
        resetMs: Math.max(0, tat - at),
        retryAfterMs: Math.max(1, tat + interval - burst - at),
      };
    });
  }

  async prune(now: number): Promise<number> {
    const result = await this.db.deleteFrom('rate_limits').where('tat', '<=', Math.trunc(now)).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

/** The `prevHash` of the first audit entry. */
export const AUDIT_GENESIS_HASH = '0'.repeat(64);

const AUDIT_VERIFY_BATCH = 1000;

function toAuditRecord(row: Selectable<AuditLogTable>): AuditRecord {
  return {
    seq: Number(row.seq),
    at: Number(row.at),
    kind: row.kind,
    principal: row.principal,
    workspaceId: row.workspace_id,
    details: decodeJson(row.details, {}),
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

class KyselyAuditStore implements AuditStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => number,
    private readonly dialect: StoreCapabilities['dialect'],
  ) {}

  async append(entry: AuditEntry, seal: AuditSeal): Promise<AuditRecord> {
    const at = entry.at ?? this.now();
    const details = encodeJson(entry.details ?? {});
    return this.db.transaction().execute(async (transaction) => {
      // Postgres lets two transactions insert at once; the lock makes appends take turns (SQLite's write
      // lock, taken by the insert below, already does).
      if (this.dialect === 'postgres') await sql`lock table audit_log in share row exclusive mode`.execute(transaction);
      const inserted = await transaction
        .insertInto('audit_log')
        .values({
          at,
          kind: entry.kind,
          principal: entry.principal ?? null,
          workspace_id: entry.workspaceId ?? null,
          details,
          prev_hash: '',
          hash: '',
        })
        .returning('seq')
        .executeTakeFirstOrThrow();
      const seq = Number(inserted.seq);
      const previous = await transaction
        .selectFrom('audit_log')
        .select('hash')
        .where('seq', '<', seq)
        .orderBy('seq', 'desc')
        .limit(1)
        .executeTakeFirst();
      const unsealed: Omit<AuditRecord, 'hash'> = {
        seq,
        at,
        kind: entry.kind,
        principal: entry.principal ?? null,
        workspaceId: entry.workspaceId ?? null,
        // Sealed as it will be read back, so verify sees the same value.
        details: decodeJson(details, {}),
        prevHash: previous?.hash ?? AUDIT_GENESIS_HASH,
      };
      const hash = seal(unsealed);
      await transaction
        .updateTable('audit_log')
        .set({ prev_hash: unsealed.prevHash, hash })
        .where('seq', '=', seq)
        .execute();
      return { ...unsealed, hash };
    });
  }

  async list(options: PageRequest & { kind?: string; order?: 'asc' | 'desc' } = {}): Promise<Page<AuditRecord>> {
    let query = this.db.selectFrom('audit_log');
    if (options.kind !== undefined) query = query.where('kind', '=', options.kind);
    const { limit, offset } = pageBounds(options);
    const [rows, count] = await Promise.all([
      query
        .selectAll()
        .orderBy('seq', options.order ?? 'desc')
        .limit(limit)
        .offset(offset)
        .execute(),
      query.select((builder) => builder.fn.countAll().as('total')).executeTakeFirst(),
    ]);
    return { items: rows.map(toAuditRecord), total: toCount(count?.total) };
  }

  async verify(seal: AuditSeal): Promise<AuditVerification> {
    const violations: AuditViolation[] = [];
    let entries = 0;
    let previousHash = AUDIT_GENESIS_HASH;
    let previousSeq: number | null = null;
    let after = Number.NEGATIVE_INFINITY;
    for (;;) {
      let query = this.db.selectFrom('audit_log').selectAll().orderBy('seq', 'asc').limit(AUDIT_VERIFY_BATCH);
      if (Number.isFinite(after)) query = query.where('seq', '>', after);
      const rows = await query.execute();
      for (const row of rows) {
        entries += 1;
        const seq = Number(row.seq);
        after = seq;
        if (row.prev_hash !== previousHash) {
          violations.push({
            seq,
            reason:
              previousSeq === null
                ? 'prev_hash is not the genesis hash: entries before this one are missing'
                : `prev_hash does not match the hash of entry ${previousSeq}: an entry was removed, inserted or altered`,
          });
        }
        let expected: string | null;
        try {
          const { hash: _stored, ...unsealed } = toAuditRecord(row);
          expected = seal(unsealed);
        } catch {
          expected = null;
        }
        if (expected === null) {
          violations.push({ seq, reason: 'entry cannot be read (details are not valid JSON)' });
        } else if (expected !== row.hash) {
          violations.push({ seq, reason: 'hash does not match the entry: its content was altered' });
        }
        previousHash = row.hash;
        previousSeq = seq;
      }
      if (rows.length < AUDIT_VERIFY_BATCH) break;
    }
    return { valid: violations.length === 0, entries, violations };
  }
}

/** Options of {@link KyselyStore}: the dialect-specific parts an adapter supplies. */
export interface KyselyStoreOptions {
  db: Kysely<Database>;
  capabilities: StoreCapabilities;
  migrations: Record<string, Migration>;
  /** Runs after `db.destroy()`, for driver handles Kysely does not own. */
  onClose?: () => void | Promise<void>;
  /** Serves observability from elsewhere in part (the SQLite trace file), given the store's own. */
  observability?: (own: ObservabilityStore) => ObservabilityStore;
  now?: () => number;
}

/**
 * The store logic shared by the SQLite and Postgres adapters: plain Kysely queries that both
 * dialects accept. Adapters only open the connection and pick migrations.
 */
export class KyselyStore implements Store {
  readonly capabilities: StoreCapabilities;
  readonly sessions: SessionStore;
  readonly runs: RunStore;
  readonly runEvents: RunEventStore;
  readonly apiKeys: ApiKeyStore;
  readonly rateLimits: RateLimitStore;
  readonly audit: AuditStore;
  readonly schedules: KyselyScheduleStore;
  readonly eventBus: KyselyEventBusStore;
  readonly approvals: KyselyApprovalStore;
  readonly memory: KyselyMemoryStore;
  readonly knowledge: KyselyKnowledgeStore;
  readonly search: KyselySearchIndex;
  readonly observability: ObservabilityStore;
  readonly agents: KyselyAgentsStore;
  readonly workflows: KyselyWorkflowStore;
  readonly usage: KyselyUsageStore;
  readonly serviceAccounts: KyselyServiceAccountStore;
  private readonly db: Kysely<Database>;
  private readonly migrations: Record<string, Migration>;
  private readonly onClose: (() => void | Promise<void>) | undefined;
  private closed = false;

  constructor({ db, capabilities, migrations, onClose, observability, now = Date.now }: KyselyStoreOptions) {
    this.db = db;
    this.capabilities = capabilities;
    this.migrations = migrations;
    this.onClose = onClose;
    this.sessions = new KyselySessionStore(db, now);
    this.runs = new KyselyRunStore(db, now);
    this.runEvents = new KyselyRunEventStore(db, now);
    this.apiKeys = new KyselyApiKeyStore(db, now);
    this.rateLimits = new KyselyRateLimitStore(db);
    this.audit = new KyselyAuditStore(db, now, capabilities.dialect);
    this.schedules = new KyselyScheduleStore(db, now);
    this.eventBus = new KyselyEventBusStore(db, now);
    this.approvals = new KyselyApprovalStore(db as Kysely<unknown>, now);
    this.memory = new KyselyMemoryStore(db, now);
    this.knowledge = new KyselyKnowledgeStore(db as Kysely<unknown>, now);
    this.search = new KyselySearchIndex(db as Kysely<unknown>, now, capabilities);
    const ownObservability = new KyselyObservabilityStore(db, now);
    this.observability = observability ? observability(ownObservability) : ownObservability;
    this.agents = new KyselyAgentsStore(db as Kysely<unknown>, now);
    this.workflows = new KyselyWorkflowStore(db as Kysely<unknown>, now);
    this.usage = new KyselyUsageStore(db as Kysely<unknown>, now);
    this.serviceAccounts = new KyselyServiceAccountStore(db as Kysely<unknown>, now);
  }

  /** The Kysely handle, for whole-table tools (`agentos migrate --from … --to …`) and adapter tests. */
  get kysely(): Kysely<Database> {
    return this.db;
  }

  migrate(options: { dryRun?: boolean } = {}): Promise<MigrationResult> {
    return runMigrations(this.db as Kysely<unknown>, this.migrations, options);
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  async dangerouslyClearAll(): Promise<void> {
    await this.db.transaction().execute(async (transaction) => {
      await transaction.deleteFrom('run_events').execute();
      await transaction.deleteFrom('runs').execute();
      await transaction.deleteFrom('sessions').execute();
      await transaction.deleteFrom('api_keys').execute();
      await sql`delete from service_accounts`.execute(transaction);
      await transaction.deleteFrom('rate_limits').execute();
      await transaction.deleteFrom('audit_log').execute();
      await transaction.deleteFrom('bus_deliveries').execute();
      await transaction.deleteFrom('bus_events').execute();
      await transaction.deleteFrom('schedule_runs').execute();
      await transaction.deleteFrom('schedules').execute();
    });
    await this.memory.dangerouslyClearAll();
    await this.knowledge.dangerouslyClearAll();
    await this.search.dangerouslyClearAll();
    await this.observability.dangerouslyClearAll();
    await this.approvals.clear();
    await this.agents.clear();
    await this.workflows.dangerouslyClearAll();
    await this.usage.dangerouslyClearAll();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.db.destroy();
    await this.onClose?.();
  }
}
