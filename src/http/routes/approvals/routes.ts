/**
 * Approvals on the root surface (research/agno.md §1.9): the inbox of every pending human decision,
 * its count, one row, a lightweight status poll, resolve (compare-and-set: 409 once resolved) and
 * delete. Resolving does not continue the run; the next `/continue` applies the resolution.
 * @module
 */
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Services } from '../../../services.js';
import { workspaceOf } from '../../plugins/access-control.js';
import { effectiveUserId } from '../../user-scope.js';
import { pageMetaOf } from '../pagination.js';
import { deciderOf } from './decider.js';
import {
  approvalParams,
  approvalStatusView,
  approvalsCountQuery,
  approvalsList,
  approvalsListQuery,
  approvalView,
  resolveRequest,
} from './schemas.js';
import { toApprovalView } from './views.js';

/** Route table of `/approvals`. */
export const approvalRoutes: FastifyPluginAsync<{ services: Services }> = async (fastify, { services }) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const approvals = services.approvals;
  // Under user isolation a pinned caller sees and decides only its own users' approvals.
  const pinnedUser = (request: Parameters<typeof effectiveUserId>[0]) => effectiveUserId(request, services.config);

  app.get('/approvals', {
    config: { access: { scope: 'approvals:read' } },
    schema: {
      summary: 'List approvals',
      description:
        'Every pending (and resolved) human decision of paused runs, newest first, with the live run status.',
      tags: ['Approvals'],
      operationId: 'listApprovals',
      querystring: approvalsListQuery,
      response: { 200: approvalsList },
    },
    handler: async (request) => {
      const query = request.query;
      const userId = pinnedUser(request) ?? query.user_id;
      const page = await services.store.approvals.list({
        workspaceId: workspaceOf(request),
        ...(query.status === undefined ? {} : { status: query.status }),
        ...(query.source_type === undefined ? {} : { sourceType: query.source_type }),
        ...(query.approval_type === undefined ? {} : { approvalType: query.approval_type }),
        ...(query.pause_type === undefined ? {} : { pauseType: query.pause_type }),
        ...(query.agent_id === undefined ? {} : { agentId: query.agent_id }),
        ...(query.team_id === undefined ? {} : { teamId: query.team_id }),
        ...(query.workflow_id === undefined ? {} : { workflowId: query.workflow_id }),
        ...(userId === undefined ? {} : { userId }),
        ...(query.schedule_id === undefined ? {} : { scheduleId: query.schedule_id }),
        ...(query.run_id === undefined ? {} : { runId: query.run_id }),
        page: query.page,
        limit: query.limit,
      });
      return { approvals: page.items.map(toApprovalView), meta: pageMetaOf(page.total, query) };
    },
  });

  app.get('/approvals/count', {
    config: { access: { scope: 'approvals:read' } },
    schema: {
      summary: 'Count pending approvals',
      tags: ['Approvals'],
      operationId: 'countApprovals',
      querystring: approvalsCountQuery,
      response: { 200: z.object({ count: z.number().int() }) },
    },
    handler: async (request) => {
      const userId = pinnedUser(request) ?? request.query.user_id;
      const count = await services.store.approvals.count({
        workspaceId: workspaceOf(request),
        status: 'pending',
        ...(userId === undefined ? {} : { userId }),
      });
      return { count };
    },
  });

  app.get('/approvals/:approval_id', {
    config: { access: { scope: 'approvals:read' } },
    schema: {
      summary: 'Get one approval',
      tags: ['Approvals'],
      operationId: 'getApproval',
      params: approvalParams,
      response: { 200: approvalView },
    },
    handler: async (request) =>
      toApprovalView(await approvals.get(workspaceOf(request), request.params.approval_id, pinnedUser(request))),
  });

  app.get('/approvals/:approval_id/status', {
    config: { access: { scope: 'approvals:read' } },
    schema: {
      summary: "Poll an approval's status",
      tags: ['Approvals'],
      operationId: 'getApprovalStatus',
      params: approvalParams,
      response: { 200: approvalStatusView },
    },
    handler: async (request) => {
      const row = await approvals.get(workspaceOf(request), request.params.approval_id, pinnedUser(request));
      const view = toApprovalView(row);
      return {
        approval_id: row.id,
        status: row.status,
        run_id: row.runId,
        resolved_at: view.resolved_at,
        resolved_by: row.resolvedBy,
      };
    },
  });

  app.post('/approvals/:approval_id/resolve', {
    config: { access: { scope: 'approvals:write' } },
    schema: {
      summary: 'Approve or reject',
      description:
        'Compare-and-set on `pending`: 409 when the approval was already resolved, expired or cancelled. ' +
        'The run is not continued: the next POST …/continue applies the resolution (empty `tools` suffice).',
      tags: ['Approvals'],
      operationId: 'resolveApproval',
      params: approvalParams,
      body: resolveRequest,
      response: { 200: approvalView },
    },
    handler: async (request) => {
      const { status, resolved_by: named, resolution_data: data } = request.body;
      const row = await approvals.resolve(
        workspaceOf(request),
        request.params.approval_id,
        { status, resolutionData: data ?? null },
        deciderOf(request, named),
        pinnedUser(request),
      );
      return toApprovalView(row);
    },
  });

  app.delete('/approvals/:approval_id', {
    config: { access: { scope: 'approvals:delete' } },
    schema: {
      summary: 'Delete an approval',
      tags: ['Approvals'],
      operationId: 'deleteApproval',
      params: approvalParams,
      response: { 204: z.null().describe('Deleted') },
    },
    handler: async (request, reply) => {
      await approvals.delete(
        workspaceOf(request),
        request.params.approval_id,
        deciderOf(request).principal,
        pinnedUser(request),
      );
      return reply.code(204).send(null);
    },
  });
};
