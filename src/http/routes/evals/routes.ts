/**
 * Evals on the root surface (research/agno.md §1.7): run one synchronously and store it, list,
 * get, rename and delete. Every store call names the caller's workspace.
 * @module
 */
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import { callerSubjectOf, hasScope } from '../../../auth/index.js';
import { AgentOsError } from '../../../errors/index.js';
import { runEval } from '../../../evals/runner.js';
import type { Services } from '../../../services.js';
import type { EvalRunRecord } from '../../../store/observability-types.js';
import { workspaceOf } from '../../plugins/access-control.js';
import { effectiveUserId } from '../../user-scope.js';
import { pageMetaOf } from '../pagination.js';
import {
  deleteEvalsBody,
  evalParams,
  evalsListQuery,
  evalsPage,
  evalView,
  noContent,
  renameEvalBody,
  runEvalBody,
} from './schemas.js';

const iso = (ms: number) => new Date(ms).toISOString();

function toEvalView(record: EvalRunRecord): z.infer<typeof evalView> {
  return {
    id: record.id,
    agent_id: record.agentId,
    model_id: record.modelId,
    model_provider: record.modelProvider,
    team_id: record.teamId,
    workflow_id: record.workflowId,
    name: record.name,
    evaluated_component_name: record.evaluatedComponentName,
    eval_type: record.evalType,
    eval_data: record.evalData,
    eval_input: record.evalInput,
    created_at: iso(record.createdAt),
    updated_at: iso(record.updatedAt),
  };
}

function evalNotFound(): AgentOsError {
  return new AgentOsError('AOS_EVAL_NOT_FOUND', 'Eval run not found');
}

/** Route table of `/eval-runs`. */
export const evalRoutes: FastifyPluginAsync<{ services: Services }> = async (fastify, { services }) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const { store } = services;

  app.get('/eval-runs', {
    config: { access: { scope: 'evals:read' } },
    schema: {
      summary: 'List eval runs',
      tags: ['Evals'],
      operationId: 'listEvalRuns',
      querystring: evalsListQuery,
      response: { 200: evalsPage },
    },
    handler: async (request) => {
      const { agent_id, team_id, workflow_id, model_id, type, eval_types, sort_order, page, limit } = request.query;
      const result = await store.observability.listEvalRuns({
        workspaceId: workspaceOf(request),
        agentId: agent_id,
        teamId: team_id,
        workflowId: workflow_id,
        modelId: model_id,
        componentType: type,
        evalTypes: eval_types,
        order: sort_order,
        page,
        limit,
      });
      return { eval_runs: result.items.map(toEvalView), meta: pageMetaOf(result.total, { page, limit }) };
    },
  });

  app.get('/eval-runs/:eval_run_id', {
    config: { access: { scope: 'evals:read' } },
    schema: {
      summary: 'Get an eval run',
      tags: ['Evals'],
      operationId: 'getEvalRun',
      params: evalParams,
      response: { 200: evalView },
    },
    handler: async (request) => {
      const record = await store.observability.getEvalRun(workspaceOf(request), request.params.eval_run_id);
      if (!record) throw evalNotFound();
      return toEvalView(record);
    },
  });

  app.post('/eval-runs', {
    // An eval starts runs: the caller's budget is checked at the door, as for agent runs.
    config: { access: { scope: 'evals:write' }, rateLimitClass: 'message' },
    schema: {
      summary: 'Run an eval and store its result',
      description:
        'Runs synchronously: `accuracy` (judge scores 1–10 against `expected_output`), `agent_as_judge` ' +
        '(`criteria`, numeric or binary), `performance` (latency and memory over `num_iterations` after ' +
        '`warmup_runs`) or `reliability` (`expected_tool_calls`; of a team or workflow, the calls its members and ' +
        'steps made). Exactly one of `agent_id`, `team_id`, `workflow_id`, with its run scope ' +
        '(`agents:<id>:run`, `teams:<id>:run`, `workflows:<id>:run`). `model_id` (with `model_provider`) names the ' +
        'judge model. The stored `eval_data.passed` says whether the eval passed its threshold.',
      tags: ['Evals'],
      operationId: 'runEval',
      body: runEvalBody,
      response: { 200: evalView },
    },
    handler: async (request) => {
      // An eval runs the agent and may call a judge model of the caller's choosing: the same rights as
      // `POST /agents/{id}/runs` and as a raw `provider:model` on /v1 (any-agent run) are required.
      // A team or workflow likewise needs `teams:<id>:run` / `workflows:<id>:run`; a team or workflow
      // component also runs only when the caller may run every member it names (`mayRun`).
      const scopes = request.principal?.scopes ?? [];
      const { agent_id: agentId, team_id: teamId, workflow_id: workflowId } = request.body;
      const target =
        agentId !== undefined
          ? { resource: 'agents' as const, id: agentId }
          : teamId !== undefined
            ? { resource: 'teams' as const, id: teamId }
            : { resource: 'workflows' as const, id: workflowId as string };
      if (!hasScope(scopes, { ...target, action: 'run' })) {
        throw new AgentOsError(
          'AOS_AUTH_FORBIDDEN',
          `Insufficient permissions. Required scope: ${target.resource}:${target.id}:run`,
        );
      }
      if (request.body.model_id !== undefined && !hasScope(scopes, { resource: 'agents', action: 'run' })) {
        throw new AgentOsError(
          'AOS_AUTH_FORBIDDEN',
          'Insufficient permissions. Required scope: agents:run (judge model)',
        );
      }
      const pinned = effectiveUserId(request, services.config);
      const body = pinned === undefined ? request.body : { ...request.body, user_id: pinned };
      const record = await runEval(
        {
          config: services.config,
          runs: services.runs,
          models: services.models,
          store: store.observability,
          teams: services.teams,
          workflows: services.workflows,
          runStore: store.runs,
          mayRun: (resource, id) => hasScope(scopes, { resource, id, action: 'run' }),
          principal: callerSubjectOf(request.principal),
        },
        workspaceOf(request),
        body,
      );
      return toEvalView(record);
    },
  });

  app.patch('/eval-runs/:eval_run_id', {
    config: { access: { scope: 'evals:write' } },
    schema: {
      summary: 'Rename an eval run',
      tags: ['Evals'],
      operationId: 'renameEvalRun',
      params: evalParams,
      body: renameEvalBody,
      response: { 200: evalView },
    },
    handler: async (request) => {
      const record = await store.observability.renameEvalRun(
        workspaceOf(request),
        request.params.eval_run_id,
        request.body.name,
      );
      if (!record) throw evalNotFound();
      return toEvalView(record);
    },
  });

  app.delete('/eval-runs', {
    config: { access: { scope: 'evals:delete' } },
    schema: {
      summary: 'Delete eval runs',
      description: 'Ids that name no eval run of the workspace are skipped.',
      tags: ['Evals'],
      operationId: 'deleteEvalRuns',
      body: deleteEvalsBody,
      response: { 204: noContent },
    },
    handler: async (request, reply) => {
      await store.observability.deleteEvalRuns(workspaceOf(request), [...new Set(request.body.eval_run_ids)]);
      return reply.code(204).send(null);
    },
  });
};
