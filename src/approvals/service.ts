/**
 * The approvals room: one inbox of every pending human decision (research/agno.md §1.9, CONTRACT.md
 * §5). It opens a row per paused tool call (as the runtime's {@link HitlHooks}), resolves rows by
 * compare-and-set, gates `/continue` for `approval: required` tools, applies resolutions on continue,
 * expires rows past `expires_at` (cancelling their runs) and writes every decision to the audit log.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { AgentOsError } from '../errors/index.js';
import type { Logger } from '../logging/logger.js';
import { settleDecisions } from '../runtime/hitl/decisions.js';
import { type HitlHooks, type PauseInfo, pausedStateOf } from '../runtime/hitl/pause.js';
import type { ToolDecision, ToolDecisionInput } from '../runtime/hitl/types.js';
import type { ContinueRunRequest, RunHandle, RunManager } from '../runtime/run-manager.js';
import type { AuditLog } from '../security/index.js';
import type { ApprovalRecord, ApprovalStatus } from '../store/approvals-types.js';
import type { RunRecord, Store } from '../store/types.js';

/** Audit kinds of approval decisions. */
export const APPROVAL_AUDIT_KINDS = {
  resolved: 'approval.resolved',
  expired: 'approval.expired',
  deleted: 'approval.deleted',
} as const;

/** Who decides, as recorded on the row and in the audit log. */
export interface Decider {
  /** Principal id (key id, JWT `sub`, `dev`). */
  principal: string;
  /** The name stored as `resolved_by`. */
  resolvedBy: string;
}

/** Options of {@link ApprovalService}. */
export interface ApprovalServiceOptions {
  store: Store;
  audit: AuditLog;
  logger: Logger;
  /** The run manager; a function because it is built after this service (it takes this service as hooks). */
  runs: () => RunManager;
  now?: () => number;
}

/** How long a continue waits for a run that is about to pause (see `settledRun`). */
const PAUSE_SETTLE_MS = 2_000;

function notFound(): AgentOsError {
  return new AgentOsError('AOS_APPROVAL_NOT_FOUND', 'Approval not found');
}

/** What resolving a row with a decision records. */
function resolutionOf(decision: ToolDecision): {
  status: 'approved' | 'rejected';
  data: Record<string, unknown> | null;
} {
  if (decision.kind === 'reject') return { status: 'rejected', data: decision.note ? { note: decision.note } : null };
  if (decision.kind === 'result') return { status: 'approved', data: { result: decision.result } };
  return decision.tool.requires_user_input
    ? { status: 'approved', data: { values: decision.args } }
    : { status: 'approved', data: null };
}

/** Approvals: the inbox, the continue gate and the expiry sweep. */
export class ApprovalService implements HitlHooks {
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: ApprovalServiceOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Opens one pending row per paused call; `approval: required` tools get `approval_type: required`. */
  async onPause(info: PauseInfo): Promise<ReadonlyMap<string, string>> {
    const ids = new Map<string, string>();
    const toolNames = info.state.tools.map((tool) => tool.tool_name);
    for (const requirement of info.state.requirements) {
      const tool = requirement.tool_execution;
      const id = randomUUID();
      const expiresIn = info.expiresInS.get(tool.tool_call_id);
      await this.options.store.approvals.create({
        id,
        workspaceId: info.workspaceId,
        runId: info.runId,
        sessionId: info.sessionId,
        sourceType: info.sourceType,
        approvalType: tool.approval_type ?? 'audit',
        pauseType: tool.external_execution_required
          ? 'external_execution'
          : tool.requires_user_input
            ? 'user_input'
            : 'confirmation',
        toolCallId: tool.tool_call_id,
        toolName: tool.tool_name,
        toolArgs: tool.tool_args,
        expiresAt: expiresIn === undefined ? null : this.now() + expiresIn * 1000,
        userId: info.userId,
        sourceName: info.componentName,
        requirements: [{ ...requirement, tool_execution: { ...tool, approval_id: id } }],
        context: { tool_names: toolNames, source_name: info.componentName },
        ...(info.sourceType === 'agent' ? { agentId: info.componentId } : {}),
        ...(info.sourceType === 'team' ? { teamId: info.componentId } : {}),
        ...(info.sourceType === 'workflow' ? { workflowId: info.componentId } : {}),
      });
      ids.set(tool.tool_call_id, id);
    }
    return ids;
  }

  /** Closes the run's still-pending rows (its run was cancelled, or an approval of it expired). */
  async onClosed(workspaceId: string, runId: string, status: 'cancelled' | 'expired'): Promise<void> {
    for (const row of await this.options.store.approvals.listByRun(workspaceId, runId)) {
      if (row.status !== 'pending') continue;
      await this.options.store.approvals.resolve(workspaceId, row.id, { status, resolvedAt: this.now() });
    }
  }

  /** The row if it exists in the workspace and, under user isolation, belongs to `userId`. */
  async get(workspaceId: string, id: string, userId?: string): Promise<ApprovalRecord> {
    const row = await this.options.store.approvals.get(workspaceId, id);
    if (!row || (userId !== undefined && row.userId !== userId)) throw notFound();
    return row;
  }

  /**
   * Approves or rejects a pending row (compare-and-set: 409 `AOS_APPROVAL_RESOLVED` when it is no
   * longer pending). The run is not continued here: the next `/continue` applies the resolution.
   */
  async resolve(
    workspaceId: string,
    id: string,
    decision: { status: 'approved' | 'rejected'; resolutionData?: Record<string, unknown> | null },
    decider: Decider,
    userId?: string,
  ): Promise<ApprovalRecord> {
    await this.get(workspaceId, id, userId);
    const resolved = await this.options.store.approvals.resolve(workspaceId, id, {
      status: decision.status,
      resolvedBy: decider.resolvedBy,
      resolutionData: decision.resolutionData ?? null,
      resolvedAt: this.now(),
    });
    if (!resolved) throw new AgentOsError('AOS_APPROVAL_RESOLVED', 'Approval is no longer pending');
    await this.audit(APPROVAL_AUDIT_KINDS.resolved, decider.principal, resolved, { via: 'resolve' });
    return resolved;
  }

  /** Deletes a row (an audit record, whatever its status). */
  async delete(workspaceId: string, id: string, principal: string, userId?: string): Promise<void> {
    const row = await this.get(workspaceId, id, userId);
    if (!(await this.options.store.approvals.delete(workspaceId, id))) throw notFound();
    await this.audit(APPROVAL_AUDIT_KINDS.deleted, principal, row, {});
  }

  /**
   * Continues a paused run (Agno semantics): refused with 403 `AOS_APPROVAL_PENDING` while an
   * `approval: required` row of it is pending, unless `canApprove`; every paused call needs a decision,
   * from `tools` or from its resolved approval; then the run continues and the rows it decided close.
   */
  async continueRun(input: {
    run: RunRecord;
    tools: readonly ToolDecisionInput[];
    canApprove: boolean;
    decider: Decider;
    /** What the continuing caller may run (team components re-check their members with it). */
    mayRun?: ContinueRunRequest['mayRun'];
  }): Promise<RunHandle> {
    const { decider } = input;
    const run = await this.settledRun(input.run);
    const state = pausedStateOf(run);
    if (run.status !== 'paused' || !state) {
      throw new AgentOsError('AOS_RUN_INVALID_TRANSITION', `Run is ${run.status}, not paused: nothing to continue`);
    }
    const rows = await this.options.store.approvals.listByRun(run.workspaceId, run.runId);
    const gated = rows.filter((row) => row.approvalType === 'required' && row.status === 'pending');
    if (gated.length > 0 && !input.canApprove) {
      throw new AgentOsError(
        'AOS_APPROVAL_PENDING',
        'This run requires approval: resolve its pending approval first, or continue with approvals:write',
        { details: { approval_ids: gated.map((row) => row.id) } },
      );
    }
    const decisions = settleDecisions(state, input.tools, rows);
    const handle = await this.options.runs().continueRun({ run, decisions, mayRun: input.mayRun });
    for (const decision of decisions) {
      const row = rows.find((candidate) => candidate.toolCallId === decision.tool.tool_call_id);
      if (row?.status !== 'pending') continue;
      const { status, data } = resolutionOf(decision);
      const resolved = await this.options.store.approvals.resolve(run.workspaceId, row.id, {
        status,
        resolvedBy: decider.resolvedBy,
        resolutionData: data,
        resolvedAt: this.now(),
      });
      if (resolved) await this.audit(APPROVAL_AUDIT_KINDS.resolved, decider.principal, resolved, { via: 'continue' });
    }
    return handle;
  }

  /**
   * A stream shows `RunPaused` a moment before the paused row is stored: a client that continues as soon
   * as it reads the event finds the run still `running`. Waits briefly (any process) for it to settle.
   */
  private async settledRun(run: RunRecord): Promise<RunRecord> {
    let current = run;
    const deadline = this.now() + PAUSE_SETTLE_MS;
    while ((current.status === 'running' || current.status === 'pending') && this.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      current = (await this.options.store.runs.get(run.workspaceId, run.runId)) ?? current;
    }
    return current;
  }

  /**
   * Expires pending rows past `expires_at` (compare-and-set, so a resolve racing it wins or loses
   * cleanly) and cancels their runs. Safe on every replica at once. Returns how many rows expired.
   */
  async sweepExpired(): Promise<number> {
    const { store } = this.options;
    let expired = 0;
    for (const row of await store.approvals.listExpired(this.now())) {
      const closed = await store.approvals.resolve(row.workspaceId, row.id, {
        status: 'expired',
        resolvedAt: this.now(),
      });
      if (!closed) continue;
      expired++;
      await this.audit(APPROVAL_AUDIT_KINDS.expired, null, closed, {});
      const run = await store.runs.get(row.workspaceId, row.runId);
      if (run?.status === 'paused') {
        await this.options.runs().cancelPaused(run, `Approval ${row.id} expired`, 'expired');
      }
    }
    return expired;
  }

  /** Runs {@link sweepExpired} every `intervalMs` (unref'd) until {@link stop}. */
  start(intervalMs = 2_000): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.sweepExpired().catch((error: unknown) => this.options.logger.warn({ err: error }, 'approval sweep failed'));
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async audit(
    kind: string,
    principal: string | null,
    row: ApprovalRecord,
    extra: Record<string, unknown>,
  ): Promise<void> {
    const status: ApprovalStatus = row.status;
    await this.options.audit
      .record(kind, {
        principal,
        workspaceId: row.workspaceId,
        details: {
          action: kind,
          target: { type: 'approval', id: row.id },
          approval_id: row.id,
          run_id: row.runId,
          tool_name: row.toolName,
          status,
          ...extra,
        },
      })
      // The decision itself is stored; a failed audit append is logged, not turned into a failed request.
      .catch((error: unknown) => this.options.logger.error({ err: error, approval_id: row.id }, 'audit append failed'));
  }
}
