/**
 * The approvals domain of the store: one row per pending human decision of a paused run
 * (research/agno.md §1.9, CONTRACT.md §5), so one inbox holds every decision still to take.
 * @module
 */
import type { Page, PageRequest, RunStatus } from './types.js';

/** Lifecycle of an approval: `pending` until resolved, continued, expired or its run is cancelled. */
export type ApprovalStatus = 'pending' | 'approved' | 'rejected' | 'expired' | 'cancelled';

/** `required`: continue is reserved to approvers until resolved; `audit`: a record of the decision only. */
export type ApprovalType = 'required' | 'audit';

/** Why the run paused at this tool call. */
export type PauseType = 'confirmation' | 'user_input' | 'external_execution';

/** What kind of component paused. */
export type ApprovalSourceType = 'agent' | 'team' | 'workflow';

/** One approval row. Timestamps are epoch milliseconds. */
export interface ApprovalRecord {
  id: string;
  workspaceId: string;
  runId: string;
  sessionId: string;
  status: ApprovalStatus;
  sourceType: ApprovalSourceType;
  approvalType: ApprovalType;
  pauseType: PauseType;
  /** The paused tool call this row decides. */
  toolCallId: string;
  toolName: string;
  toolArgs: Record<string, unknown>;
  expiresAt: number | null;
  agentId: string | null;
  teamId: string | null;
  workflowId: string | null;
  userId: string | null;
  scheduleId: string | null;
  scheduleRunId: string | null;
  sourceName: string | null;
  requirements: unknown[];
  context: Record<string, unknown>;
  /** `{values}` for user input, `{result}` for external execution, `{note}` for a confirmation. */
  resolutionData: Record<string, unknown> | null;
  resolvedBy: string | null;
  resolvedAt: number | null;
  createdAt: number;
  updatedAt: number;
  /** The run's current status (live, read from the runs table); null when the run is gone. */
  runStatus: RunStatus | null;
}

export type ApprovalCreate = Pick<
  ApprovalRecord,
  'id' | 'workspaceId' | 'runId' | 'sessionId' | 'sourceType' | 'approvalType' | 'pauseType' | 'toolCallId' | 'toolName'
> &
  Partial<
    Pick<
      ApprovalRecord,
      | 'toolArgs'
      | 'expiresAt'
      | 'agentId'
      | 'teamId'
      | 'workflowId'
      | 'userId'
      | 'scheduleId'
      | 'scheduleRunId'
      | 'sourceName'
      | 'requirements'
      | 'context'
    >
  >;

/** How a pending approval closes. */
export interface ApprovalResolution {
  status: Exclude<ApprovalStatus, 'pending'>;
  resolvedBy?: string | null;
  resolutionData?: Record<string, unknown> | null;
  resolvedAt: number;
}

export interface ApprovalFilter extends PageRequest {
  workspaceId: string;
  status?: ApprovalStatus;
  sourceType?: ApprovalSourceType;
  approvalType?: ApprovalType;
  pauseType?: PauseType;
  agentId?: string;
  teamId?: string;
  workflowId?: string;
  userId?: string;
  scheduleId?: string;
  runId?: string;
}

/**
 * Approvals. Every read and write is scoped to a workspace: a row of another workspace is
 * indistinguishable from a missing one.
 */
export interface ApprovalStore {
  /** Inserts a pending row; `ConflictError` on a duplicate id. */
  create(input: ApprovalCreate): Promise<ApprovalRecord>;
  get(workspaceId: string, id: string): Promise<ApprovalRecord | null>;
  /** Newest first. */
  list(filter: ApprovalFilter): Promise<Page<ApprovalRecord>>;
  /** Number of rows matching (pending ones unless `status` says otherwise). */
  count(filter: Omit<ApprovalFilter, 'page' | 'limit'>): Promise<number>;
  /** Every row of one run, oldest first. */
  listByRun(workspaceId: string, runId: string): Promise<ApprovalRecord[]>;
  /**
   * Compare-and-set: closes the row only while it is `pending`, in one conditional update, so two
   * resolvers (or a resolver and a continue, on any replica) can never both close it. `null` when
   * the row is missing or no longer pending.
   */
  resolve(workspaceId: string, id: string, resolution: ApprovalResolution): Promise<ApprovalRecord | null>;
  /** Deletes the row; `false` when missing. */
  delete(workspaceId: string, id: string): Promise<boolean>;
  /** Pending rows whose `expiresAt` is at or before `now`, in every workspace (the expiry sweep). */
  listExpired(now: number, limit?: number): Promise<ApprovalRecord[]>;
}
