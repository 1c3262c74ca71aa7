/**
 * Approvals on the `/api` surface in iii's shapes (research/iii-agentos.md §2.3): the list, the
 * pending list and `decide`. Same rows, same compare-and-set and audit as the root routes.
 * @module
 */
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Services } from '../../../services.js';
import type { ApprovalStatus } from '../../../store/approvals-types.js';
import { workspaceOf } from '../../plugins/access-control.js';
import { effectiveUserId } from '../../user-scope.js';
import { deciderOf } from './decider.js';
import { approvalParams, iiiApproval, iiiDecideRequest, iiiListQuery } from './schemas.js';
import { toIiiApproval } from './views.js';

const FROM_III: Record<string, ApprovalStatus> = {
  pending: 'pending',
  approved: 'approved',
  denied: 'rejected',
  timed_out: 'expired',
  cancelled: 'cancelled',
};

/** Route table of `/api/approvals`. */
export const apiApprovalRoutes: FastifyPluginAsync<{ services: Services }> = async (fastify, { services }) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();

  const list = async (
    request: Parameters<typeof workspaceOf>[0],
    filter: { status?: ApprovalStatus | undefined; agentId?: string | undefined; limit: number },
  ) => {
    const userId = effectiveUserId(request, services.config);
    const page = await services.store.approvals.list({
      workspaceId: workspaceOf(request),
      ...(filter.status === undefined ? {} : { status: filter.status }),
      ...(filter.agentId === undefined ? {} : { agentId: filter.agentId }),
      ...(userId === undefined ? {} : { userId }),
      limit: filter.limit,
    });
    return page.items.map(toIiiApproval);
  };

  app.get('/approvals', {
    config: { access: { scope: 'approvals:read' } },
    schema: {
      summary: 'List approval requests (iii)',
      tags: ['Approvals'],
      operationId: 'apiListApprovals',
      querystring: iiiListQuery,
      response: { 200: z.array(iiiApproval) },
    },
    handler: async (request) =>
      list(request, {
        status: request.query.status === undefined ? undefined : FROM_III[request.query.status],
        agentId: request.query.agentId,
        limit: request.query.limit,
      }),
  });

  app.get('/approvals/pending', {
    config: { access: { scope: 'approvals:read' } },
    schema: {
      summary: 'List pending approval requests (iii)',
      tags: ['Approvals'],
      operationId: 'apiListPendingApprovals',
      querystring: iiiListQuery.omit({ status: true }),
      response: { 200: z.array(iiiApproval) },
    },
    handler: async (request) =>
      list(request, { status: 'pending', agentId: request.query.agentId, limit: request.query.limit }),
  });

  app.post('/approvals/:approval_id/decide', {
    config: { access: { scope: 'approvals:write' } },
    schema: {
      summary: 'Decide an approval request (iii)',
      description: '`decision: "approve"` approves; any other decision rejects. 409 once decided.',
      tags: ['Approvals'],
      operationId: 'apiDecideApproval',
      params: approvalParams,
      body: iiiDecideRequest,
      response: { 200: iiiApproval },
    },
    handler: async (request) => {
      const { decision, decidedBy, reason, values, result } = request.body;
      const data: Record<string, unknown> = {
        ...(reason === undefined ? {} : { note: reason }),
        ...(values === undefined ? {} : { values }),
        ...(result === undefined ? {} : { result }),
      };
      const row = await services.approvals.resolve(
        workspaceOf(request),
        request.params.approval_id,
        {
          status: decision.toLowerCase() === 'approve' ? 'approved' : 'rejected',
          resolutionData: Object.keys(data).length > 0 ? data : null,
        },
        deciderOf(request, decidedBy),
        effectiveUserId(request, services.config),
      );
      return toIiiApproval(row);
    },
  });
};
