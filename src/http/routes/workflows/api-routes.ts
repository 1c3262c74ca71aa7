/**
 * Workflows on the `/api` surface, for iii (research/iii-agentos.md §2.2, §6) and agtOS
 * (research/agtos-automatos.md §1.2) clients, over the same engine as the root routes:
 * - `POST /api/workflows` (iii): create from JSON steps, stored in the database (per workspace).
 * - `GET /api/workflows` (both): `{workflows, count}`; config and stored workflows, each item carrying the
 *   iii fields and agtOS's `stepCount` and `steps[{id, name, type}]`.
 * - `POST /api/workflows/run` (iii): runs synchronously, `{runId, status, results[{stepName, output, durationMs,
 *   error?}], vars}`; and the run-status route iii lacked, `GET /api/workflows/runs/{runId}`.
 * - `POST /api/workflows/{id}/execute` (agtOS): `{execution{id, workflowId, state, startTime, endTime, output,
 *   error}}`; a failed run answers 400 `Workflow execution failed: …`, an unknown id 404 `{error, workflowId}`.
 * Timestamps are epoch milliseconds (CONTRACT.md §5).
 * @module
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { currentWorkflowComponents } from '../../../agents/catalog.js';
import { callerSubjectOf, hasScope } from '../../../auth/index.js';
import { idSchema } from '../../../config/index.js';
import { stepKind, type WorkflowStep } from '../../../config/workflow-schema.js';
import { AgentOsError, NotFoundError } from '../../../errors/index.js';
import { iiiStepSchema, stepsFromIii, type WorkflowDefinition } from '../../../runtime/workflow/definitions.js';
import { asText } from '../../../runtime/workflow/template.js';
import type { Services } from '../../../services.js';
import type { RunRecord } from '../../../store/types.js';
import { workspaceOf } from '../../plugins/access-control.js';
import { assertOwnedBy, effectiveUserId } from '../../user-scope.js';
import { runAccessOf } from '../components/run-access.js';
import { runStatus } from '../runs/schemas.js';

const createBody = z.object({
  id: idSchema.optional(),
  name: z.string().trim().min(1).max(200),
  description: z.string().max(2000).optional(),
  steps: z.array(iiiStepSchema).min(1).max(200),
});

const listedStep = z.object({ id: z.string(), name: z.string(), type: z.string() }).loose();
const listedWorkflow = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string().optional(),
  source: z.enum(['config', 'api', 'component']),
  stepCount: z.number().int(),
  steps: z.array(listedStep),
});

const stepResult = z.object({
  stepName: z.string(),
  output: z.unknown(),
  durationMs: z.number(),
  error: z.string().optional(),
});

const runResult = z.object({
  runId: z.string(),
  workflowId: z.string(),
  status: runStatus,
  results: z.array(stepResult),
  vars: z.record(z.string(), z.unknown()),
  error: z.string().optional(),
  startedAt: z.number().int(),
  completedAt: z.number().int().optional(),
});

const execution = z.object({
  id: z.string(),
  workflowId: z.string(),
  state: z.enum(['running', 'completed', 'failed', 'cancelled', 'paused']),
  startTime: z.number().int(),
  endTime: z.number().int().optional(),
  output: z.unknown(),
  error: z.string().optional(),
});

/** `agtOS` names its one step type `ACTION`; composite steps keep their own kind. */
function listSteps(steps: readonly WorkflowStep[]): z.infer<typeof listedStep>[] {
  return steps.map((step) => {
    const kind = stepKind(step);
    const type = kind === 'agent' || kind === 'team' || kind === 'function' ? 'ACTION' : kind.toUpperCase();
    return { id: step.name, name: step.name, type, kind };
  });
}

/** Names of the leaf steps (agent, team, function): what iii's `results` list. */
function leafNames(steps: readonly WorkflowStep[], into = new Set<string>()): Set<string> {
  for (const step of steps) {
    const kind = stepKind(step);
    if (kind === 'agent' || kind === 'team' || kind === 'function') into.add(step.name);
    if (step.parallel) leafNames(step.parallel, into);
    if (step.condition) {
      leafNames(step.condition.steps, into);
      if (step.condition.else) leafNames(step.condition.else, into);
    }
    if (step.loop) leafNames(step.loop.steps, into);
    if (step.router) for (const routeSteps of Object.values(step.router.routes)) leafNames(routeSteps, into);
  }
  return into;
}

function requireScope(request: FastifyRequest, action: 'read' | 'run', workflowId: string): void {
  const scopes = request.principal?.scopes ?? [];
  if (!hasScope(scopes, { resource: 'workflows', action, id: workflowId })) {
    throw new AgentOsError(
      'AOS_AUTH_FORBIDDEN',
      `Insufficient permissions. Required scope: workflows:${workflowId}:${action}`,
    );
  }
}

/** Route table of `/api/workflows…`. */
export const workflowApiRoutes: FastifyPluginAsync<{ services: Services }> = async (fastify, { services }) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const { config, store } = services;

  const definitionOrNull = async (workspaceId: string, workflowId: string, agentId?: string) => {
    try {
      return await services.workflows.definition(workspaceId, workflowId, agentId);
    } catch (error) {
      if (error instanceof NotFoundError) return null;
      throw error;
    }
  };

  const iiiResult = async (run: RunRecord): Promise<z.infer<typeof runResult>> => {
    const definition = await definitionOrNull(
      run.workspaceId,
      run.componentId,
      (run.input as { agent_id?: string }).agent_id,
    );
    const leaves = definition ? leafNames(definition.steps) : undefined;
    const checkpoints = await store.workflows.listSteps(run.runId);
    const results = checkpoints
      .filter((checkpoint) => checkpoint.status !== 'running' && (!leaves || leaves.has(checkpoint.stepName)))
      .map((checkpoint) => ({
        stepName: checkpoint.stepName,
        output: checkpoint.status === 'skipped' ? 'skipped' : checkpoint.output,
        durationMs: checkpoint.durationMs,
        ...(checkpoint.error === null ? {} : { error: checkpoint.error }),
      }));
    const output = run.output as { session_state?: Record<string, unknown>; workflow_output?: unknown };
    const finished = !['pending', 'running', 'paused'].includes(run.status);
    return {
      runId: run.runId,
      workflowId: run.componentId,
      status: run.status,
      results,
      vars: { ...(output.session_state ?? {}), input: output.workflow_output ?? run.input.message },
      ...(run.error === null ? {} : { error: run.error }),
      startedAt: run.createdAt,
      ...(finished ? { completedAt: run.updatedAt } : {}),
    };
  };

  app.post('/workflows', {
    config: { access: { scope: 'workflows:write' } },
    schema: {
      summary: 'Create a workflow from JSON steps (iii)',
      description:
        "Steps in iii's shape (`name`, `functionId`, `promptTemplate`, `mode` sequential|fanout|collect|conditional|loop, " +
        '`timeoutMs`, `errorMode`, `maxRetries`, `outputVar`, `condition`, `maxIterations`, `until`). `agent::*` ' +
        'functions call an agent; other ids name a code function of the config. Stored in the database.',
      tags: ['Workflows'],
      operationId: 'apiCreateWorkflow',
      body: createBody,
      response: { 201: z.object({ id: z.string() }) },
    },
    handler: async (request, reply) => {
      const body = request.body;
      const workflowId = body.id ?? `wf-${crypto.randomUUID()}`;
      if (config.workflows.some((workflow) => workflow.id === workflowId)) {
        throw new AgentOsError('AOS_CONFLICT', `Workflow ${workflowId} already exists`);
      }
      // Rejects unknown agents and functions now rather than at the first run.
      stepsFromIii(body.steps, config);
      await store.workflows.createDefinition({
        workspaceId: workspaceOf(request),
        workflowId,
        name: body.name,
        description: body.description ?? null,
        definition: { steps: body.steps },
      });
      return reply.code(201).send({ id: workflowId });
    },
  });

  app.get('/workflows', {
    config: { access: { scope: 'workflows:read', anyId: true } },
    schema: {
      summary: 'List workflows (iii and agtOS shape)',
      tags: ['Workflows'],
      operationId: 'apiListWorkflows',
      response: { 200: z.object({ workflows: z.array(listedWorkflow), count: z.number().int() }) },
    },
    handler: async (request) => {
      const workspaceId = workspaceOf(request);
      const stored = await store.workflows.listDefinitions(workspaceId, { limit: 1000 });
      const items: z.infer<typeof listedWorkflow>[] = [];
      const add = (definition: WorkflowDefinition, steps: z.infer<typeof listedStep>[]) => {
        items.push({
          id: definition.id,
          name: definition.name,
          ...(definition.description === undefined ? {} : { description: definition.description }),
          source: definition.source,
          stepCount: steps.length,
          steps,
        });
      };
      for (const workflow of config.workflows) {
        add(
          {
            id: workflow.id,
            name: workflow.name ?? workflow.id,
            description: workflow.description,
            steps: workflow.steps,
            source: 'config',
          },
          listSteps(workflow.steps),
        );
      }
      for (const record of stored.items) {
        const raw = (record.definition.steps ?? []) as Record<string, unknown>[];
        add(
          {
            id: record.workflowId,
            name: record.name,
            description: record.description ?? undefined,
            steps: [],
            source: 'api',
          },
          // iii's own step fields stay beside agtOS's id/name/type.
          raw.map((step) => ({ ...step, id: String(step.name), name: String(step.name), type: 'ACTION' })),
        );
      }
      // Agno workflow components (issue 9), at their current version.
      for (const workflow of await currentWorkflowComponents(store, workspaceId)) {
        add(
          {
            id: workflow.id,
            name: workflow.name ?? workflow.id,
            description: workflow.description,
            steps: workflow.steps,
            source: 'component',
          },
          listSteps(workflow.steps),
        );
      }
      const scopes = request.principal?.scopes ?? [];
      const visible = items.filter((item) => hasScope(scopes, { resource: 'workflows', action: 'read', id: item.id }));
      return { workflows: visible, count: visible.length };
    },
  });

  app.post('/workflows/run', {
    config: { access: { scope: 'workflows:run', anyId: true }, rateLimitClass: 'workflow_run' },
    schema: {
      summary: 'Run a workflow synchronously (iii)',
      description:
        'Answers when the run ends, with every step result and the final vars; a failed run has status `error`.',
      tags: ['Workflows'],
      operationId: 'apiRunWorkflow',
      body: z.object({ workflowId: idSchema, input: z.unknown().optional(), agentId: idSchema.optional() }),
      response: { 200: runResult },
    },
    handler: async (request) => {
      const { workflowId, input, agentId } = request.body;
      requireScope(request, 'run', workflowId);
      const pinned = effectiveUserId(request, config);
      const handle = await services.workflows.start({
        workspaceId: workspaceOf(request),
        workflowId,
        message: asText(input ?? ''),
        agentId,
        userId: pinned ?? null,
        userPinned: pinned !== undefined,
        principal: callerSubjectOf(request.principal),
        mayRun: runAccessOf(fastify, request),
      });
      return iiiResult(await handle.done);
    },
  });

  app.get('/workflows/runs/:runId', {
    config: { access: { scope: 'workflows:read', anyId: true } },
    schema: {
      summary: 'Status of a workflow run (iii)',
      tags: ['Workflows'],
      operationId: 'apiGetWorkflowRun',
      params: z.object({ runId: idSchema }),
      response: { 200: runResult },
    },
    handler: async (request) => {
      const found = await store.runs.get(workspaceOf(request), request.params.runId);
      const run = assertOwnedBy(found, effectiveUserId(request, config), () => new NotFoundError('Run not found'));
      if (run.componentType !== 'workflow') throw new NotFoundError('Run not found');
      requireScope(request, 'read', run.componentId);
      return iiiResult(run);
    },
  });

  app.post('/workflows/:workflowId/execute', {
    config: { access: { scope: 'workflows:run', scopeParam: 'workflowId' }, rateLimitClass: 'workflow_run' },
    schema: {
      summary: 'Execute a workflow (agtOS)',
      tags: ['Workflows'],
      operationId: 'apiExecuteWorkflow',
      params: z.object({ workflowId: idSchema }),
      body: z.object({ input: z.unknown().optional() }).optional(),
      response: {
        200: z.object({ execution }),
        // Validation failures answer 400 in the surface's shape too, so both bodies fit one schema.
        400: z
          .object({ error: z.string(), workflowId: z.string().optional(), execution: execution.optional() })
          .loose(),
        404: z.object({ error: z.string(), workflowId: z.string().optional() }).loose(),
      },
    },
    handler: async (request, reply) => {
      const { workflowId } = request.params;
      const definition = await definitionOrNull(workspaceOf(request), workflowId);
      if (!definition) {
        // agtOS's documented 404 names the workflow beside the message.
        return reply
          .code(404)
          .send({ error: 'Workflow not found', workflowId, code: 'AOS_NOT_FOUND', request_id: String(request.id) });
      }
      const pinned = effectiveUserId(request, config);
      const handle = await services.workflows.start({
        workspaceId: workspaceOf(request),
        workflowId,
        message: asText(request.body?.input ?? ''),
        userId: pinned ?? null,
        userPinned: pinned !== undefined,
        principal: callerSubjectOf(request.principal),
        mayRun: runAccessOf(fastify, request),
      });
      const run = await handle.done;
      const output = run.output as { workflow_output?: unknown };
      const state = run.status === 'completed' ? 'completed' : run.status === 'error' ? 'failed' : run.status;
      const result = {
        id: run.runId,
        workflowId,
        state: state as z.infer<typeof execution>['state'],
        startTime: run.createdAt,
        endTime: run.updatedAt,
        output: output.workflow_output ?? run.content ?? null,
        ...(run.error === null ? {} : { error: run.error }),
      };
      if (run.status === 'error') {
        return reply.code(400).send({
          error: `Workflow execution failed: ${run.error ?? 'error'}`,
          workflowId,
          execution: result,
          code: 'AOS_WORKFLOW_FAILED',
        });
      }
      return { execution: result };
    },
  });
};
