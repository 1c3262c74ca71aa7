/**
 * Workflow runs on the root surface (research/agno.md §1.3): create (blocking, SSE, background),
 * list, get, cancel, resume, and continue a run paused before a step that needs confirmation. Runs
 * count in the `workflow_run` rate-limit class. `GET /workflows` and `GET /workflows/{id}` live in the
 * catalog routes; `WS /workflows/ws` in `ws.ts`.
 * @module
 */
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { componentName } from '../../../agents/components.js';
import { idSchema } from '../../../config/index.js';
import { AgentOsError, NotFoundError } from '../../../errors/index.js';
import type { Services } from '../../../services.js';
import { workspaceOf } from '../../plugins/access-control.js';
import { runAccessOf } from '../components/run-access.js';
import { backgroundAccepted, formBoolean } from '../runs/schemas.js';
import {
  componentRunStart,
  compositeRunView,
  continueComponentRun,
  registerComponentRunRoutes,
} from '../teams/component-run-routes.js';

/** One answer to a paused step (Agno `StepRequirement`, the part agentos reads). */
export const stepRequirement = z.object({ confirmed: z.boolean().optional() }).loose();

/** `step_requirements` arrive as a JSON string in forms and as an array in JSON bodies. */
export const stepRequirements = z.preprocess((value) => {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}, z.array(stepRequirement).max(100));

const continueRequest = z
  .object({
    step_requirements: stepRequirements.optional(),
    session_id: idSchema.optional(),
    stream: formBoolean.default(false),
    background: formBoolean.default(false),
  })
  .loose();

/** Route table of workflow runs. */
export const workflowRunRoutes: FastifyPluginAsync<{ services: Services }> = async (fastify, { services }) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const nameOf = async (workspaceId: string, id: string) => {
    try {
      return (await services.workflows.definition(workspaceId, id)).name;
    } catch (error) {
      // A workflow component without a current version still runs a version a request names (a draft).
      const stored =
        error instanceof NotFoundError && (await componentName(services.store, workspaceId, 'workflow', id));
      if (stored) return stored;
      throw error;
    }
  };

  registerComponentRunRoutes(app, services, {
    resource: 'workflows',
    componentType: 'workflow',
    param: 'workflow_id',
    tag: 'Workflows',
    noun: 'Workflow',
    rateLimitClass: 'workflow_run',
    name: (request, id) => nameOf(workspaceOf(request), id),
    start: (request, id, body) =>
      services.workflows.start({ ...componentRunStart(fastify, services, request, body), workflowId: id }),
  });

  app.post('/workflows/:workflow_id/runs/:run_id/continue', {
    config: {
      access: { scope: 'workflows:run', scopeParam: 'workflow_id' },
      forms: true,
      rateLimitClass: 'workflow_run',
    },
    schema: {
      summary: 'Continue a paused workflow run',
      description:
        'The run waits before a step with `requires_confirmation`. `step_requirements=[{"confirmed": true}]` (the ' +
        'default) runs that step, `false` skips it; the run goes on after it, in the same event sequence.',
      tags: ['Workflows'],
      operationId: 'continueWorkflowRun',
      consumes: ['multipart/form-data', 'application/x-www-form-urlencoded', 'application/json'],
      params: z.object({ workflow_id: idSchema, run_id: idSchema }),
      body: continueRequest.optional(),
      response: { 200: compositeRunView, 202: backgroundAccepted },
    },
    handler: async (request, reply) => {
      const { workflow_id: workflowId, run_id: runId } = request.params;
      const body = request.body ?? { stream: false, background: false };
      const name = await nameOf(workspaceOf(request), workflowId);
      const target = { componentType: 'workflow' as const, componentId: workflowId, runId, name };
      return continueComponentRun(services, request, reply, target, body, (run) => {
        if (run.status !== 'paused') {
          throw new AgentOsError('AOS_CONFLICT', `Run ${runId} is ${run.status}; only a paused run can be continued`);
        }
        const confirmed = body.step_requirements?.[0]?.confirmed ?? true;
        return services.workflows.continue(run, confirmed, runAccessOf(fastify, request));
      });
    },
  });
};
