/**
 * The storage seam of agentos: one interface per domain, combined in {@link Store}.
 * Adapters (`store/sqlite`, later `store/postgres`) implement it and pass the same contract suite
 * (`store/contract/store.contract.ts`). Timestamps are epoch milliseconds; surfaces format them.
 * @module
 */

import type { SearchIndex } from '../search/types.js';
import type { AgentsStore } from './agents-types.js';
import type { ApprovalStore } from './approvals-types.js';
import type { KnowledgeStore } from './knowledge-types.js';
import type { MemoryStore } from './memory-types.js';
import type { ObservabilityStore } from './observability-types.js';
import type { RunSignals } from './run-signals.js';
import type { EventBusStore, ScheduleStore } from './schedules-types.js';
import type { ServiceAccountStore } from './service-accounts-types.js';
import type { UsageIncrement, UsageStore } from './usage-types.js';
import type { WorkflowStore } from './workflow-types.js';

export type * from './agents-types.js';
export type * from './approvals-types.js';
export type * from './memory-types.js';
export type * from './observability-types.js';
export type { RunSignals } from './run-signals.js';
export type * from './schedules-types.js';
export type * from './service-accounts-types.js';
export type * from './usage-types.js';
export type * from './workflow-types.js';

/** The lifecycle of a run, spelled as on the wire (CONTRACT.md §5). */
export type RunStatus = 'pending' | 'running' | 'completed' | 'paused' | 'cancelled' | 'error';

/** What kind of component a session or run belongs to. */
export type ComponentType = 'agent' | 'team' | 'workflow';

/** Page request shared by every `list`: `page` starts at 1. */
export interface PageRequest {
  page?: number;
  limit?: number;
}

/** Page result shared by every `list`: the items of the page and the total across all pages. */
export interface Page<T> {
  items: T[];
  total: number;
}

/** A conversation thread; runs hang off it. */
export interface SessionRecord {
  sessionId: string;
  workspaceId: string;
  sessionType: ComponentType;
  componentId: string;
  userId: string | null;
  sessionName: string | null;
  sessionState: Record<string, unknown>;
  metadata: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
}

export type SessionCreate = Pick<SessionRecord, 'sessionId' | 'sessionType' | 'componentId'> &
  Partial<Pick<SessionRecord, 'workspaceId' | 'userId' | 'sessionName' | 'sessionState' | 'metadata'>>;

export type SessionUpdate = Partial<Pick<SessionRecord, 'sessionName' | 'sessionState' | 'metadata'>>;

export interface SessionFilter extends PageRequest {
  workspaceId: string;
  userId?: string;
  sessionType?: ComponentType;
  componentId?: string;
}

/**
 * Sessions. `get`/`update`/`delete` are scoped to a workspace: a session of another workspace is
 * indistinguishable from a missing one (`null` / `false`).
 */
export interface SessionStore {
  /** Inserts a session; throws `ConflictError` when the id exists (in any workspace). */
  create(input: SessionCreate): Promise<SessionRecord>;
  get(workspaceId: string, sessionId: string): Promise<SessionRecord | null>;
  /** Newest first (by `updatedAt`). */
  list(filter: SessionFilter): Promise<Page<SessionRecord>>;
  /** Applies the patch and bumps `updatedAt`; `null` when missing. */
  update(workspaceId: string, sessionId: string, patch: SessionUpdate): Promise<SessionRecord | null>;
  /** Deletes the session with its runs and their events; `false` when missing. */
  delete(workspaceId: string, sessionId: string): Promise<boolean>;
}

/** One execution of an agent, team or workflow. */
export interface RunRecord {
  runId: string;
  sessionId: string;
  workspaceId: string;
  componentType: ComponentType;
  componentId: string;
  parentRunId: string | null;
  userId: string | null;
  status: RunStatus;
  input: Record<string, unknown>;
  content: string | null;
  metrics: Record<string, unknown>;
  error: string | null;
  /** The process holding the run while it executes (its lease), else null. */
  owner: string | null;
  heartbeatAt: number | null;
  /** The conversation of this run: input, tool calls and results, the answer (provider-neutral). */
  messages: unknown[];
  /** Output details: tools executed, model, provider, finish reason. */
  output: Record<string, unknown>;
  /** Set when a cancel was asked for, possibly by another process; the owner polls it. */
  cancelRequestedAt: number | null;
  createdAt: number;
  updatedAt: number;
}

export type RunCreate = Pick<RunRecord, 'runId' | 'sessionId' | 'componentType' | 'componentId'> &
  Partial<Pick<RunRecord, 'workspaceId' | 'parentRunId' | 'userId' | 'status' | 'input' | 'owner'>>;

export type RunUpdate = Partial<
  Pick<
    RunRecord,
    'status' | 'content' | 'metrics' | 'error' | 'owner' | 'heartbeatAt' | 'input' | 'messages' | 'output'
  >
>;

export interface RunFilter extends PageRequest {
  workspaceId: string;
  sessionId?: string;
  componentType?: ComponentType;
  componentId?: string;
  userId?: string;
  status?: RunStatus;
  /** `asc` (default): oldest first, the order history replays in; `desc`: newest first. */
  order?: 'asc' | 'desc';
}

/** Runs, one row per run. The session must exist in the same workspace (foreign key). */
export interface RunStore {
  /**
   * Inserts a run (status defaults to `pending`); `ConflictError` on a duplicate id, `NotFoundError` without its session.
   * With `options.session`, first inserts that session (as `SessionStore.create`, `ConflictError` when its id exists)
   * in the same transaction: both rows or neither, one commit instead of two.
   */
  create(input: RunCreate, options?: { session?: SessionCreate }): Promise<RunRecord>;
  get(workspaceId: string, runId: string): Promise<RunRecord | null>;
  /** Ordered by `createdAt` (oldest first unless `order: 'desc'`). */
  list(filter: RunFilter): Promise<Page<RunRecord>>;
  /** Applies the patch and bumps `updatedAt`; `null` when missing. */
  update(workspaceId: string, runId: string, patch: RunUpdate): Promise<RunRecord | null>;
  /**
   * Compare-and-set: applies the patch only while the run's status is one of `from`, atomically, so
   * two writers (or two replicas) can never both move a run. `null` when the run is missing or in
   * another status. With `options.owner`, the lease owner must also still be that value (`null`: no
   * owner): how one replica claims a dead replica's run when the status alone (`running` → `running`)
   * cannot tell two claimers apart. With `options.events`, appends them (as `RunEventStore.append`) in the same
   * transaction before the update: when the append throws nothing is written; the events stay stored when the
   * status no longer matches (`null`), as if appended first. With `options.usage`, adds it to the day's usage
   * (as `UsageStore.add`) in that transaction too, also when the status no longer matches.
   */
  transition(
    workspaceId: string,
    runId: string,
    from: readonly RunStatus[],
    patch: RunUpdate,
    options?: { owner?: string | null; events?: RunEventAppend[]; usage?: UsageIncrement },
  ): Promise<RunRecord | null>;
  /** Runs still `pending` or `running`, in every workspace (start-up recovery, lease sweeps). */
  listUnfinished(): Promise<RunRecord[]>;
  /** Refreshes `heartbeatAt` of every unfinished run `owner` holds. */
  heartbeat(owner: string, at: number): Promise<void>;
  /** Records a cancel request; `false` when the run is missing. */
  requestCancel(workspaceId: string, runId: string, at: number): Promise<boolean>;
  /** Ids of unfinished runs held by `owner` that have a cancel request. */
  listCancelRequested(owner: string): Promise<string[]>;
}

/** One streamed event of a run, stored so a stream can be replayed after a restart or on another replica. */
export interface RunEventRecord {
  runId: string;
  eventIndex: number;
  event: string;
  payload: Record<string, unknown>;
  createdAt: number;
}

export type RunEventAppend = Pick<RunEventRecord, 'eventIndex' | 'event' | 'payload'>;

/** The append-only event log of runs, keyed by (run_id, event_index). */
export interface RunEventStore {
  /**
   * Appends events atomically (all or none). Indexes are chosen by the run's single writer;
   * a duplicate (run_id, event_index) throws `ConflictError` and writes nothing.
   */
  append(runId: string, events: RunEventAppend[]): Promise<void>;
  /** Events with `eventIndex > afterIndex` (all when omitted), in index order. */
  list(runId: string, options?: { afterIndex?: number; limit?: number }): Promise<RunEventRecord[]>;
  /** The highest index stored for the run, or -1 when it has none. */
  lastIndex(runId: string): Promise<number>;
}

/** A stored API key: only its SHA-256 hash is kept. */
export interface ApiKeyRecord {
  id: string;
  name: string;
  /** Lower-case hex SHA-256 of the plaintext key. */
  keyHash: string;
  /** The first characters of the key, shown in lists so a user can tell keys apart. */
  keyPrefix: string;
  scopes: string[];
  /** A role of `auth/scopes.ts`, expanded to scopes when the key authenticates; null for scopes only. */
  role: string | null;
  /** The service account this key is a token of; its role and scopes then apply instead of the key's. */
  serviceAccountId: string | null;
  workspaceId: string;
  createdAt: number;
  lastUsedAt: number | null;
  /** After this instant the key no longer authenticates; null for no expiry. */
  expiresAt: number | null;
  revokedAt: number | null;
}

export type ApiKeyCreate = Pick<ApiKeyRecord, 'id' | 'name' | 'keyHash' | 'keyPrefix' | 'scopes'> &
  Partial<Pick<ApiKeyRecord, 'workspaceId' | 'role' | 'serviceAccountId' | 'expiresAt'>>;

/** API keys (CLI `agentos keys`, later service accounts). */
export interface ApiKeyStore {
  /** `ConflictError` on a duplicate id or hash. */
  create(input: ApiKeyCreate): Promise<ApiKeyRecord>;
  get(id: string): Promise<ApiKeyRecord | null>;
  /** The active (not revoked) key with this hash, or null. */
  getActiveByHash(keyHash: string): Promise<ApiKeyRecord | null>;
  /** Oldest first; revoked keys included only with `includeRevoked`; `serviceAccountId` lists one account's tokens. */
  list(options?: PageRequest & { includeRevoked?: boolean; serviceAccountId?: string }): Promise<Page<ApiKeyRecord>>;
  /** Number of keys; revoked ones count only with `includeRevoked`. */
  count(options?: { includeRevoked?: boolean }): Promise<number>;
  /** Marks the key revoked; `false` when missing or already revoked. */
  revoke(id: string): Promise<boolean>;
  /** Records a successful use (best effort, may be coalesced). */
  touch(id: string, at: number): Promise<void>;
}

/** A rate as the limiter applies it: at most `limit` requests per `windowMs`, as one burst or spread out. */
export interface RateLimitRuleSpec {
  limit: number;
  windowMs: number;
}

/** What one {@link RateLimitStore.consume} decided. */
export interface RateLimitDecision {
  allowed: boolean;
  /** The rule's `limit`, for `X-RateLimit-Limit`. */
  limit: number;
  /** Requests still admitted right now after this one (0 when refused). */
  remaining: number;
  /** Milliseconds until the bucket is full again (all `limit` requests available). */
  resetMs: number;
  /** Milliseconds until the next request would be admitted; 0 when this one was. */
  retryAfterMs: number;
}

/**
 * Shared GCRA state (seed 000), so limits hold across replicas. Keys are opaque (`<class>:<principal>`).
 *
 * Atomicity: each `consume` is one transaction whose first statement is a conditional upsert
 * (`insert … on conflict do update … where … returning`), so the read-modify-write of a key can never
 * interleave with another caller's, on SQLite (one writer) or on Postgres (row lock of the upsert).
 */
export interface RateLimitStore {
  /**
   * Admits or refuses one request under `rule` at time `now` (epoch ms). A burst admits exactly `limit`
   * requests; afterwards one more becomes available every `windowMs / limit`. Refused requests consume
   * nothing. Throws when the database fails; callers must then refuse the request, never admit it.
   */
  consume(key: string, rule: RateLimitRuleSpec, now: number): Promise<RateLimitDecision>;
  /** Deletes keys whose bucket is full again at `now` (equivalent to absent rows); returns how many. */
  prune(now: number): Promise<number>;
}

/** What a caller hands to {@link AuditStore.append}. */
export interface AuditEntry {
  kind: string;
  /** Who acted (principal id, `cli:<user>`), or null when unknown (a failed authentication). */
  principal?: string | null;
  workspaceId?: string | null;
  /** JSON-safe details; never secrets. */
  details?: Record<string, unknown>;
  /** Epoch ms; defaults to the store clock. */
  at?: number;
}

/** One stored audit entry. `hash` = seal of every other field, `prevHash` = the previous entry's `hash`. */
export interface AuditRecord {
  seq: number;
  at: number;
  kind: string;
  principal: string | null;
  workspaceId: string | null;
  details: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

/** Computes an entry's hash from its other fields (an HMAC with the server secret, `security/audit-log.ts`). */
export type AuditSeal = (record: Omit<AuditRecord, 'hash'>) => string;

/** A row the chain check rejected. */
export interface AuditViolation {
  seq: number;
  reason: string;
}

/** Result of {@link AuditStore.verify}. */
export interface AuditVerification {
  valid: boolean;
  /** Number of entries checked. */
  entries: number;
  violations: AuditViolation[];
}

/** The hash-chained audit log. */
export interface AuditStore {
  /**
   * Appends one entry, serialized with every other append: the insert, the read of the previous hash
   * and the hash update happen in one transaction that starts with the write (SQLite takes its write
   * lock there; Postgres locks the table first), so two appends can never chain onto the same entry.
   */
  append(entry: AuditEntry, seal: AuditSeal): Promise<AuditRecord>;
  /** Newest first unless `order: 'asc'`; `kind` filters. */
  list(options?: PageRequest & { kind?: string; order?: 'asc' | 'desc' }): Promise<Page<AuditRecord>>;
  /**
   * Walks the whole chain in `seq` order and reports every entry whose hash does not match `seal`, or
   * whose `prevHash` is not the previous entry's hash (the first entry's must be the genesis hash).
   */
  verify(seal: AuditSeal): Promise<AuditVerification>;
}

/** One schema migration as `migrate` reports it. */
export interface MigrationStatus {
  name: string;
  applied: boolean;
}

/** Result of {@link Store.migrate}. */
export interface MigrationResult {
  /** Migrations applied by this call (or that would be, with `dryRun`). */
  applied: string[];
  /** All known migrations and whether each is applied after the call. */
  migrations: MigrationStatus[];
  dryRun: boolean;
}

/** What an adapter can do beyond the interface; tests and services branch on these, not on the adapter type. */
export interface StoreCapabilities {
  dialect: 'sqlite' | 'postgres';
  /** Vector KNN search available (sqlite-vec, pgvector). */
  vectorSearch: boolean;
  /** Several processes may write at once (Postgres); SQLite has one writer process. */
  multiWriter: boolean;
}

/** The aggregate every other room receives. */
export interface Store {
  readonly capabilities: StoreCapabilities;
  readonly sessions: SessionStore;
  readonly runs: RunStore;
  readonly runEvents: RunEventStore;
  readonly apiKeys: ApiKeyStore;
  readonly rateLimits: RateLimitStore;
  readonly audit: AuditStore;
  readonly schedules: ScheduleStore;
  readonly eventBus: EventBusStore;
  /** Pending and resolved human decisions of paused runs (issue 8). */
  readonly approvals: ApprovalStore;
  /** User memories, session summaries and episodes (issue 6). */
  readonly memory: MemoryStore;
  /** Contents of knowledge bases (issue 6); their chunks are in `search`. */
  readonly knowledge: KnowledgeStore;
  /** The hybrid (FTS + vector) search index over chunks (issue 6, `search/`). */
  readonly search: SearchIndex;
  /** Traces, daily metrics and eval runs (issue 10). */
  readonly observability: ObservabilityStore;
  /** Agents, personas and plugins defined through the API (issue 9). */
  readonly agents: AgentsStore;
  /** Workflow step checkpoints and API-created workflow definitions (issue 7). */
  readonly workflows: WorkflowStore;
  /** Daily token and cost sums per principal, agent and model (issue 5 quotas, `GET /api/costs`). */
  readonly usage: UsageStore;
  /** Service accounts and their role and scopes (issue 5); their tokens live in `apiKeys`. */
  readonly serviceAccounts: ServiceAccountStore;
  /** Cross-process push about runs (Postgres LISTEN/NOTIFY); absent where the database cannot push (SQLite). */
  readonly runSignals?: RunSignals;
  /** Applies pending migrations in order, each in a transaction; with `dryRun` only reports them. Idempotent. */
  migrate(options?: { dryRun?: boolean }): Promise<MigrationResult>;
  /** Round-trips the database; throws when it does not answer. */
  ping(): Promise<void>;
  /** Deletes every row of every table. Tests only; the name is meant to alarm. */
  dangerouslyClearAll(): Promise<void>;
  close(): Promise<void>;
}
