/**
 * The run routes teams and workflows share with agents (research/agno.md §1.2, §1.3; CONTRACT.md §5):
 * `POST /{resource}/{id}/runs` (blocking, SSE or background), list, get, cancel and resume. One
 * registration per resource keeps the two tables identical where Agno keeps them identical.
 * @module
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { parseVersion } from '../../../agents/components.js';
import { callerSubjectOf } from '../../../auth/index.js';
import { idSchema } from '../../../config/index.js';
import type { RunHandle } from '../../../runtime/run-manager.js';
import type { Services } from '../../../services.js';
import type { RunRecord } from '../../../store/types.js';
import { workspaceOf } from '../../plugins/access-control.js';
import type { ZodApp } from '../../route-config.js';
import { effectiveUserId } from '../../user-scope.js';
import { runAccessOf } from '../components/run-access.js';
import { pageMeta } from '../pagination.js';
import { findComponentRun, listComponentRuns, replyWithRun, streamReplay } from '../runs/run-handlers.js';
import { publicRunInput } from '../runs/run-view.js';
import { backgroundAccepted, resumeRequest, runQuery, runRequest, runStatus, runsListQuery } from '../runs/schemas.js';
import { registerTeamContinueRoute } from './continue-route.js';

/** A team or workflow run as the root surface returns it. */
export const compositeRunView = z.object({
  run_id: z.string(),
  session_id: z.string(),
  parent_run_id: z.string().optional(),
  user_id: z.string().optional(),
  team_id: z.string().optional(),
  team_name: z.string().optional(),
  workflow_id: z.string().optional(),
  workflow_name: z.string().optional(),
  status: runStatus,
  content: z.string().optional(),
  content_type: z.literal('str'),
  input: z.object({ message: z.string().optional() }).loose(),
  metrics: z.record(z.string(), z.number()),
  /** Teams: every member call, as `TeamRunCompleted` lists them. */
  member_responses: z.array(z.record(z.string(), z.unknown())).optional(),
  /** Workflows: every step checkpoint of the run, in order. */
  step_results: z.array(z.record(z.string(), z.unknown())).optional(),
  session_state: z.record(z.string(), z.unknown()).optional(),
  paused_step_name: z.string().optional(),
  /** A paused team: the member calls awaiting a human, and one requirement per call (naming the member). */
  tools: z.array(z.record(z.string(), z.unknown())).optional(),
  requirements: z.array(z.record(z.string(), z.unknown())).optional(),
  error: z.string().optional(),
  created_at: z.string(),
  updated_at: z.string(),
});

/** Renders a stored team or workflow run. */
export function toCompositeRunView(run: RunRecord, name: string): z.infer<typeof compositeRunView> {
  const output = run.output as {
    member_responses?: Record<string, unknown>[];
    step_results?: Record<string, unknown>[];
    session_state?: Record<string, unknown>;
    paused_step_name?: string;
    paused?: { tools?: Record<string, unknown>[]; requirements?: Record<string, unknown>[] };
  };
  const paused = run.status === 'paused' ? output.paused : undefined;
  const metrics: Record<string, number> = {};
  for (const [key, value] of Object.entries(run.metrics)) if (typeof value === 'number') metrics[key] = value;
  const component =
    run.componentType === 'team'
      ? { team_id: run.componentId, team_name: name }
      : { workflow_id: run.componentId, workflow_name: name };
  return {
    run_id: run.runId,
    session_id: run.sessionId,
    ...(run.parentRunId === null ? {} : { parent_run_id: run.parentRunId }),
    ...(run.userId === null ? {} : { user_id: run.userId }),
    ...component,
    status: run.status,
    ...(run.content === null ? {} : { content: run.content }),
    content_type: 'str',
    input: publicRunInput(run.input),
    metrics,
    ...(output.member_responses ? { member_responses: output.member_responses } : {}),
    ...(output.step_results ? { step_results: output.step_results } : {}),
    ...(output.session_state ? { session_state: output.session_state } : {}),
    ...(output.paused_step_name === undefined ? {} : { paused_step_name: output.paused_step_name }),
    ...(paused?.tools ? { tools: paused.tools } : {}),
    ...(paused?.requirements ? { requirements: paused.requirements } : {}),
    ...(run.error === null ? {} : { error: run.error }),
    created_at: new Date(run.createdAt).toISOString(),
    updated_at: new Date(run.updatedAt).toISOString(),
  };
}

/** What differs between the team and the workflow run tables. */
export interface ComponentRunSpec {
  resource: 'teams' | 'workflows';
  componentType: 'team' | 'workflow';
  param: 'team_id' | 'workflow_id';
  tag: 'Teams' | 'Workflows';
  /** `Team` / `Workflow`, for operation ids. */
  noun: string;
  rateLimitClass: 'message' | 'workflow_run';
  /** The component's display name; throws `AOS_NOT_FOUND` for an unknown id. */
  name(request: FastifyRequest, id: string): Promise<string>;
  start(
    request: FastifyRequest,
    id: string,
    body: { message: string; session_id?: string | undefined; user_id?: string | undefined },
  ): Promise<RunHandle>;
}

/** Answers a started team or workflow run: 202 (background), SSE (stream) or the final run (blocking). */
export function replyWithComponentRun(
  services: Services,
  request: FastifyRequest,
  reply: FastifyReply,
  handle: RunHandle,
  options: { stream: boolean; background: boolean; name: string },
): Promise<z.infer<typeof compositeRunView> | FastifyReply> {
  return replyWithRun(services, request, reply, handle, {
    stream: options.stream,
    background: options.background,
    render: (run) => toCompositeRunView(run, options.name),
  });
}

/**
 * Continues a paused team or workflow run the caller may see: finds it, hands it to `proceed` (which
 * checks its state and resumes it) and answers as a started run.
 */
export async function continueComponentRun(
  services: Services,
  request: FastifyRequest,
  reply: FastifyReply,
  target: { componentType: 'team' | 'workflow'; componentId: string; runId: string; name: string },
  body: { session_id?: string | undefined; stream: boolean; background: boolean },
  proceed: (run: RunRecord) => Promise<RunHandle>,
): Promise<z.infer<typeof compositeRunView> | FastifyReply> {
  const { componentType, componentId, runId, name } = target;
  const run = await findComponentRun(services, request, componentType, componentId, runId, body.session_id);
  const handle = await proceed(run);
  return replyWithComponentRun(services, request, reply, handle, {
    stream: body.stream,
    background: body.background,
    name,
  });
}

/** The start request fields a team and a workflow run take alike, from the caller and the request body. */
export function componentRunStart(
  app: FastifyInstance,
  services: Services,
  request: FastifyRequest,
  body: { message: string; session_id?: string | undefined; user_id?: string | undefined },
) {
  const pinned = effectiveUserId(request, services.config);
  return {
    workspaceId: workspaceOf(request),
    message: body.message,
    sessionId: body.session_id,
    userId: pinned ?? body.user_id,
    userPinned: pinned !== undefined,
    principal: callerSubjectOf(request.principal),
    // Agno: `version` runs a component at that config version.
    version: parseVersion((body as { version?: unknown }).version),
    mayRun: runAccessOf(app, request),
  };
}

/** Registers create, list, get, cancel and resume of one component type's runs. */
export function registerComponentRunRoutes(app: ZodApp, services: Services, spec: ComponentRunSpec): void {
  const { resource, param, tag, noun, componentType } = spec;
  const params = z.object({ [param]: idSchema }) as z.ZodObject<Record<typeof param, typeof idSchema>>;
  const runParams = z.object({ [param]: idSchema, run_id: idSchema }) as z.ZodObject<
    Record<typeof param | 'run_id', typeof idSchema>
  >;
  const idOf = (request: FastifyRequest) => (request.params as Record<string, string>)[param] as string;
  const runIdOf = (request: FastifyRequest) => (request.params as Record<string, string>).run_id as string;
  const run = (scope: 'run' | 'read') => ({ scope: `${resource}:${scope}`, scopeParam: param });
  /** The component's name and the run a request names (`session_id`, when given, must match too). */
  const componentRunOf = async (request: FastifyRequest, sessionId?: string) => {
    const id = idOf(request);
    const name = await spec.name(request, id);
    const found = await findComponentRun(services, request, componentType, id, runIdOf(request), sessionId);
    return { name, found };
  };

  app.post(`/${resource}/:${param}/runs`, {
    config: { access: run('run'), uploads: true, rateLimitClass: spec.rateLimitClass },
    schema: {
      summary: `Run a ${noun.toLowerCase()}`,
      description:
        'Form (multipart or urlencoded) or JSON. `stream=true` answers Server-Sent Events; `background=true` ' +
        'answers 202 and runs off the request.',
      tags: [tag],
      operationId: `create${noun}Run`,
      consumes: ['multipart/form-data', 'application/x-www-form-urlencoded', 'application/json'],
      params,
      body: runRequest,
      response: { 200: compositeRunView, 202: backgroundAccepted },
    },
    handler: async (request, reply) => {
      const id = idOf(request);
      const name = await spec.name(request, id);
      const body = request.body;
      const handle = await spec.start(request, id, body);
      return replyWithComponentRun(services, request, reply, handle, {
        stream: body.stream,
        background: body.background,
        name,
      });
    },
  });

  app.get(`/${resource}/:${param}/runs`, {
    config: { access: run('read') },
    schema: {
      summary: `List a ${noun.toLowerCase()}'s runs`,
      tags: [tag],
      operationId: `list${noun}Runs`,
      params,
      querystring: runsListQuery,
      response: { 200: z.object({ runs: z.array(compositeRunView), meta: pageMeta }) },
    },
    handler: async (request) => {
      const id = idOf(request);
      const name = await spec.name(request, id);
      return listComponentRuns(services, request, { componentType, componentId: id }, request.query, (item) =>
        toCompositeRunView(item, name),
      );
    },
  });

  app.get(`/${resource}/:${param}/runs/:run_id`, {
    config: { access: run('read') },
    schema: {
      summary: `Get one ${noun.toLowerCase()} run`,
      tags: [tag],
      operationId: `get${noun}Run`,
      params: runParams,
      querystring: runQuery,
      response: { 200: compositeRunView },
    },
    handler: async (request) => {
      const { name, found } = await componentRunOf(request, request.query.session_id);
      return toCompositeRunView(found, name);
    },
  });

  app.post(`/${resource}/:${param}/runs/:run_id/cancel`, {
    config: { access: run('run') },
    schema: {
      summary: `Cancel a ${noun.toLowerCase()} run`,
      tags: [tag],
      operationId: `cancel${noun}Run`,
      params: runParams,
      querystring: runQuery,
      response: { 200: z.object({}) },
    },
    handler: async (request) => {
      const { found } = await componentRunOf(request, request.query.session_id);
      await services.runs.cancel(workspaceOf(request), found.runId);
      return {};
    },
  });

  app.post(`/${resource}/:${param}/runs/:run_id/resume`, {
    config: { access: run('run'), forms: true },
    schema: {
      summary: `Re-attach to a ${noun.toLowerCase()} run stream`,
      description:
        'Sends the events after `last_event_index` from the events table, then live events until the run ends.',
      tags: [tag],
      operationId: `resume${noun}Run`,
      consumes: ['multipart/form-data', 'application/x-www-form-urlencoded', 'application/json'],
      params: runParams,
      body: resumeRequest.optional(),
    },
    handler: async (request, reply) => {
      const body = request.body ?? { last_event_index: -1 };
      const { found } = await componentRunOf(request, body.session_id);
      return streamReplay(services.runs, request, reply, found.runId, body.last_event_index);
    },
  });

  app.get(`/${resource}/:${param}/runs/:run_id/resume`, {
    config: { access: run('run') },
    schema: {
      summary: `Re-attach to a ${noun.toLowerCase()} run stream (EventSource)`,
      description: 'Like POST …/resume, with the last seen index in the `Last-Event-ID` header.',
      tags: [tag],
      operationId: `resume${noun}RunStream`,
      params: runParams,
      querystring: runQuery,
      headers: z.object({ 'last-event-id': z.coerce.number().int().min(-1).optional() }).loose(),
    },
    handler: async (request, reply) => {
      const { found } = await componentRunOf(request, request.query.session_id);
      return streamReplay(services.runs, request, reply, found.runId, request.headers['last-event-id'] ?? -1);
    },
  });

  // Teams pause at their members' human-in-the-loop tools (workflows have their own continue route).
  if (componentType === 'team') registerTeamContinueRoute(app, services, spec.name);
}
