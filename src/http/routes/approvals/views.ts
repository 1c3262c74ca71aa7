/**
 * Approval rows in each surface's shape: Agno's `ApprovalResponse` with ISO timestamps on the root
 * surface, iii's approval request with epoch milliseconds under `/api` (CONTRACT.md §5).
 * @module
 */
import type { ApprovalRecord } from '../../../store/approvals-types.js';

const iso = (at: number | null): string | null => (at === null ? null : new Date(at).toISOString());

/** Root surface (research/agno.md §1.9 `ApprovalResponse`). */
export function toApprovalView(row: ApprovalRecord) {
  return {
    id: row.id,
    run_id: row.runId,
    session_id: row.sessionId,
    status: row.status,
    source_type: row.sourceType,
    approval_type: row.approvalType,
    pause_type: row.pauseType,
    tool_call_id: row.toolCallId,
    tool_name: row.toolName,
    tool_args: row.toolArgs,
    expires_at: iso(row.expiresAt),
    agent_id: row.agentId,
    team_id: row.teamId,
    workflow_id: row.workflowId,
    user_id: row.userId,
    schedule_id: row.scheduleId,
    schedule_run_id: row.scheduleRunId,
    source_name: row.sourceName,
    requirements: row.requirements,
    context: row.context,
    resolution_data: row.resolutionData,
    resolved_by: row.resolvedBy,
    resolved_at: iso(row.resolvedAt),
    created_at: new Date(row.createdAt).toISOString(),
    updated_at: new Date(row.updatedAt).toISOString(),
    run_status: row.runStatus,
  };
}

/** iii's status words: a rejection is `denied`, an expiry `timed_out`. */
const III_STATUS = {
  pending: 'pending',
  approved: 'approved',
  rejected: 'denied',
  expired: 'timed_out',
  cancelled: 'cancelled',
} as const;

/** `/api` surface (research/iii-agentos.md: `{id, agentId, toolName, params, reason, status, …}`). */
export function toIiiApproval(row: ApprovalRecord) {
  const note = row.resolutionData?.note;
  return {
    id: row.id,
    requestId: row.id,
    agentId: row.agentId ?? row.teamId ?? row.workflowId ?? '',
    toolName: row.toolName,
    params: row.toolArgs,
    reason: typeof note === 'string' ? note : `${row.pauseType} of ${row.toolName}`,
    status: III_STATUS[row.status],
    approvalType: row.approvalType,
    pauseType: row.pauseType,
    runId: row.runId,
    sessionId: row.sessionId,
    createdAt: row.createdAt,
    timeoutMs: row.expiresAt === null ? null : row.expiresAt - row.createdAt,
    decidedBy: row.resolvedBy,
    decidedAt: row.resolvedAt,
  };
}
