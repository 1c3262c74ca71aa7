import { z } from 'zod';
import { idSchema } from '../../../config/index.js';
import { pageMeta, pageQuery } from '../pagination.js';

export const approvalStatus = z.enum(['pending', 'approved', 'rejected', 'expired', 'cancelled']);

export const approvalParams = z.object({ approval_id: idSchema });

/** `GET /approvals` filters (research/agno.md §1.9). */
export const approvalsListQuery = pageQuery.extend({
  status: approvalStatus.optional(),
  source_type: z.enum(['agent', 'team', 'workflow']).optional(),
  approval_type: z.enum(['required', 'audit']).optional(),
  pause_type: z.enum(['confirmation', 'user_input', 'external_execution']).optional(),
  agent_id: idSchema.optional(),
  team_id: idSchema.optional(),
  workflow_id: idSchema.optional(),
  user_id: z.string().min(1).max(256).optional(),
  schedule_id: idSchema.optional(),
  run_id: idSchema.optional(),
});

export const approvalsCountQuery = z.object({ user_id: z.string().min(1).max(256).optional() });

/** What a resolution may carry: user-input `values`, an external `result`, a `note` for the model. */
const resolutionData = z
  .object({
    values: z.record(z.string(), z.unknown()).optional(),
    result: z.unknown().optional(),
    note: z.string().max(10_000).optional(),
  })
  .loose();

/** Body of `POST /approvals/{approval_id}/resolve`. */
export const resolveRequest = z.object({
  status: z.enum(['approved', 'rejected']),
  resolved_by: z.string().min(1).max(256).optional(),
  resolution_data: resolutionData.nullish(),
});

const isoOrNull = z.string().nullable();

/** Agno's `ApprovalResponse`, timestamps as ISO-8601 (CONTRACT.md §5). */
export const approvalView = z.object({
  id: z.string(),
  run_id: z.string(),
  session_id: z.string(),
  status: approvalStatus,
  source_type: z.enum(['agent', 'team', 'workflow']),
  approval_type: z.enum(['required', 'audit']),
  pause_type: z.enum(['confirmation', 'user_input', 'external_execution']),
  tool_call_id: z.string(),
  tool_name: z.string(),
  tool_args: z.record(z.string(), z.unknown()),
  expires_at: isoOrNull,
  agent_id: z.string().nullable(),
  team_id: z.string().nullable(),
  workflow_id: z.string().nullable(),
  user_id: z.string().nullable(),
  schedule_id: z.string().nullable(),
  schedule_run_id: z.string().nullable(),
  source_name: z.string().nullable(),
  requirements: z.array(z.unknown()),
  context: z.record(z.string(), z.unknown()),
  resolution_data: z.record(z.string(), z.unknown()).nullable(),
  resolved_by: z.string().nullable(),
  resolved_at: isoOrNull,
  created_at: z.string(),
  updated_at: z.string(),
  run_status: z.enum(['pending', 'running', 'completed', 'paused', 'cancelled', 'error']).nullable(),
});

export const approvalsList = z.object({ approvals: z.array(approvalView), meta: pageMeta });

export const approvalStatusView = z.object({
  approval_id: z.string(),
  status: approvalStatus,
  run_id: z.string(),
  resolved_at: isoOrNull,
  resolved_by: z.string().nullable(),
});

/** iii's approval request (`/api/approvals…`), epoch milliseconds. */
export const iiiApproval = z.object({
  id: z.string(),
  requestId: z.string(),
  agentId: z.string(),
  toolName: z.string(),
  params: z.record(z.string(), z.unknown()),
  reason: z.string(),
  status: z.enum(['pending', 'approved', 'denied', 'timed_out', 'cancelled']),
  approvalType: z.enum(['required', 'audit']),
  pauseType: z.enum(['confirmation', 'user_input', 'external_execution']),
  runId: z.string(),
  sessionId: z.string(),
  createdAt: z.number(),
  timeoutMs: z.number().nullable(),
  decidedBy: z.string().nullable(),
  decidedAt: z.number().nullable(),
});

export const iiiListQuery = z.object({
  status: z.enum(['pending', 'approved', 'denied', 'timed_out', 'cancelled']).optional(),
  agentId: idSchema.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

/** Body of `POST /api/approvals/{approval_id}/decide` (iii: `decision: "approve"` or anything else). */
export const iiiDecideRequest = z
  .object({
    decision: z.string().min(1).max(64),
    decidedBy: z.string().min(1).max(256).optional(),
    reason: z.string().max(10_000).optional(),
    values: z.record(z.string(), z.unknown()).optional(),
    result: z.unknown().optional(),
  })
  .loose();
