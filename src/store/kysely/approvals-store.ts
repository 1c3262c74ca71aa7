/**
 * The approvals domain on Kysely, dialect-neutral (SQLite and Postgres run the same queries).
 * @module
 */
import type { Kysely, Selectable } from 'kysely';
import { ConflictError } from '../../errors/index.js';
import type {
  ApprovalCreate,
  ApprovalFilter,
  ApprovalRecord,
  ApprovalResolution,
  ApprovalSourceType,
  ApprovalStatus,
  ApprovalStore,
  ApprovalType,
  PauseType,
} from '../approvals-types.js';
import type { Page, RunStatus } from '../types.js';
import { isUniqueViolation } from './constraint-errors.js';
import { decodeJson, encodeJson } from './json-codec.js';
import { DEFAULT_LIMIT, MAX_LIMIT } from './paging.js';
import type { RunsTable } from './tables.js';

/** One row of `approvals` (migration 005). */
export interface ApprovalsTable {
  id: string;
  workspace_id: string;
  run_id: string;
  session_id: string;
  status: string;
  source_type: string;
  approval_type: string;
  pause_type: string;
  tool_call_id: string;
  tool_name: string;
  tool_args: unknown;
  expires_at: number | null;
  agent_id: string | null;
  team_id: string | null;
  workflow_id: string | null;
  user_id: string | null;
  schedule_id: string | null;
  schedule_run_id: string | null;
  source_name: string | null;
  requirements: unknown;
  context: unknown;
  resolution_data: unknown;
  resolved_by: string | null;
  resolved_at: number | null;
  created_at: number;
  updated_at: number;
}

/** The tables this store reads: its own, and `runs` for the live run status. */
interface ApprovalsDatabase {
  approvals: ApprovalsTable;
  runs: RunsTable;
}

type ApprovalRow = Selectable<ApprovalsTable> & { run_status: string | null };

function toApproval(row: ApprovalRow): ApprovalRecord {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    runId: row.run_id,
    sessionId: row.session_id,
    status: row.status as ApprovalStatus,
    sourceType: row.source_type as ApprovalSourceType,
    approvalType: row.approval_type as ApprovalType,
    pauseType: row.pause_type as PauseType,
    toolCallId: row.tool_call_id,
    toolName: row.tool_name,
    toolArgs: decodeJson(row.tool_args, {}),
    expiresAt: row.expires_at === null ? null : Number(row.expires_at),
    agentId: row.agent_id,
    teamId: row.team_id,
    workflowId: row.workflow_id,
    userId: row.user_id,
    scheduleId: row.schedule_id,
    scheduleRunId: row.schedule_run_id,
    sourceName: row.source_name,
    requirements: decodeJson(row.requirements, []),
    context: decodeJson(row.context, {}),
    resolutionData: decodeJson(row.resolution_data, null),
    resolvedBy: row.resolved_by,
    resolvedAt: row.resolved_at === null ? null : Number(row.resolved_at),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    runStatus: (row.run_status as RunStatus | null) ?? null,
  };
}

/** Approvals over Kysely; the run status comes from a join, never a copy. */
export class KyselyApprovalStore implements ApprovalStore {
  private readonly db: Kysely<ApprovalsDatabase>;

  /** Takes the shared handle untyped, so the shared `Database` type needs no entry for this domain. */
  constructor(
    db: Kysely<unknown>,
    private readonly now: () => number,
  ) {
    this.db = db as Kysely<ApprovalsDatabase>;
  }

  /** Deletes every approval (tests; see `Store.dangerouslyClearAll`). */
  async clear(): Promise<void> {
    await this.db.deleteFrom('approvals').execute();
  }

  /** Rows with their live run status. */
  private select() {
    return this.db
      .selectFrom('approvals')
      .leftJoin('runs', (join) =>
        join.onRef('runs.run_id', '=', 'approvals.run_id').onRef('runs.workspace_id', '=', 'approvals.workspace_id'),
      )
      .selectAll('approvals')
      .select('runs.status as run_status');
  }

  async create(input: ApprovalCreate): Promise<ApprovalRecord> {
    const at = this.now();
    try {
      await this.db
        .insertInto('approvals')
        .values({
          id: input.id,
          workspace_id: input.workspaceId,
          run_id: input.runId,
          session_id: input.sessionId,
          status: 'pending',
          source_type: input.sourceType,
          approval_type: input.approvalType,
          pause_type: input.pauseType,
          tool_call_id: input.toolCallId,
          tool_name: input.toolName,
          tool_args: encodeJson(input.toolArgs ?? {}),
          expires_at: input.expiresAt ?? null,
          agent_id: input.agentId ?? null,
          team_id: input.teamId ?? null,
          workflow_id: input.workflowId ?? null,
          user_id: input.userId ?? null,
          schedule_id: input.scheduleId ?? null,
          schedule_run_id: input.scheduleRunId ?? null,
          source_name: input.sourceName ?? null,
          requirements: encodeJson(input.requirements ?? []),
          context: encodeJson(input.context ?? {}),
          resolution_data: null,
          resolved_by: null,
          resolved_at: null,
          created_at: at,
          updated_at: at,
        })
        .execute();
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictError(`Approval ${input.id} already exists`);
      throw error;
    }
    const created = await this.get(input.workspaceId, input.id);
    if (!created) throw new Error(`Approval ${input.id} vanished after insert`);
    return created;
  }

  async get(workspaceId: string, id: string): Promise<ApprovalRecord | null> {
    const row = await this.select()
      .where('approvals.id', '=', id)
      .where('approvals.workspace_id', '=', workspaceId)
      .executeTakeFirst();
    return row ? toApproval(row) : null;
  }

  private filtered(filter: Omit<ApprovalFilter, 'page' | 'limit'>) {
    let query = this.db.selectFrom('approvals').where('approvals.workspace_id', '=', filter.workspaceId);
    if (filter.status !== undefined) query = query.where('approvals.status', '=', filter.status);
    if (filter.sourceType !== undefined) query = query.where('approvals.source_type', '=', filter.sourceType);
    if (filter.approvalType !== undefined) query = query.where('approvals.approval_type', '=', filter.approvalType);
    if (filter.pauseType !== undefined) query = query.where('approvals.pause_type', '=', filter.pauseType);
    if (filter.agentId !== undefined) query = query.where('approvals.agent_id', '=', filter.agentId);
    if (filter.teamId !== undefined) query = query.where('approvals.team_id', '=', filter.teamId);
    if (filter.workflowId !== undefined) query = query.where('approvals.workflow_id', '=', filter.workflowId);
    if (filter.userId !== undefined) query = query.where('approvals.user_id', '=', filter.userId);
    if (filter.scheduleId !== undefined) query = query.where('approvals.schedule_id', '=', filter.scheduleId);
    if (filter.runId !== undefined) query = query.where('approvals.run_id', '=', filter.runId);
    return query;
  }

  async list(filter: ApprovalFilter): Promise<Page<ApprovalRecord>> {
    const limit = Math.min(Math.max(Math.trunc(filter.limit ?? DEFAULT_LIMIT), 1), MAX_LIMIT);
    const page = Math.max(Math.trunc(filter.page ?? 1), 1);
    const ids = await this.filtered(filter)
      .select('approvals.id')
      .orderBy('approvals.created_at', 'desc')
      .orderBy('approvals.id', 'desc')
      .limit(limit)
      .offset((page - 1) * limit)
      .execute();
    const total = await this.count(filter);
    if (ids.length === 0) return { items: [], total };
    const rows = await this.select()
      .where(
        'approvals.id',
        'in',
        ids.map((row) => row.id),
      )
      .where('approvals.workspace_id', '=', filter.workspaceId)
      .orderBy('approvals.created_at', 'desc')
      .orderBy('approvals.id', 'desc')
      .execute();
    return { items: rows.map(toApproval), total };
  }

  async count(filter: Omit<ApprovalFilter, 'page' | 'limit'>): Promise<number> {
    const row = await this.filtered(filter)
      .select((builder) => builder.fn.countAll().as('count'))
      .executeTakeFirst();
    return Number(row?.count ?? 0);
  }

  async listByRun(workspaceId: string, runId: string): Promise<ApprovalRecord[]> {
    const rows = await this.select()
      .where('approvals.workspace_id', '=', workspaceId)
      .where('approvals.run_id', '=', runId)
      .orderBy('approvals.created_at', 'asc')
      .orderBy('approvals.id', 'asc')
      .execute();
    return rows.map(toApproval);
  }

  async resolve(workspaceId: string, id: string, resolution: ApprovalResolution): Promise<ApprovalRecord | null> {
    const result = await this.db
      .updateTable('approvals')
      .set({
        status: resolution.status,
        resolved_by: resolution.resolvedBy ?? null,
        resolution_data: resolution.resolutionData == null ? null : encodeJson(resolution.resolutionData),
        resolved_at: resolution.resolvedAt,
        updated_at: this.now(),
      })
      .where('id', '=', id)
      .where('workspace_id', '=', workspaceId)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) return null;
    return this.get(workspaceId, id);
  }

  async delete(workspaceId: string, id: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('approvals')
      .where('id', '=', id)
      .where('workspace_id', '=', workspaceId)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async listExpired(now: number, limit = 100): Promise<ApprovalRecord[]> {
    const rows = await this.select()
      .where('approvals.status', '=', 'pending')
      .where('approvals.expires_at', 'is not', null)
      .where('approvals.expires_at', '<=', now)
      .orderBy('approvals.expires_at', 'asc')
      .limit(limit)
      .execute();
    return rows.map(toApproval);
  }
}
