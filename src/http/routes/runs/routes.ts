/**
 * Agent runs on the root surface (seed 001, research/agno.md §1.2, CONTRACT.md §5): create (blocking,
 * SSE or background), list, get, cancel, and resume a stream from the events table.
 * @module
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { parseVersion } from '../../../agents/components.js';
import { callerSubjectOf } from '../../../auth/index.js';
import { AgentOsError } from '../../../errors/index.js';
import type { ToolDecisionInput } from '../../../runtime/hitl/types.js';
import type { Services } from '../../../services.js';
import { workspaceOf } from '../../plugins/access-control.js';
import { effectiveUserId } from '../../user-scope.js';
import { canApprove, deciderOf } from '../approvals/decider.js';
import { pageMeta } from '../pagination.js';
import { findComponentRun, listComponentRuns, replyWithRun, streamReplay } from './run-handlers.js';
import { toRunView } from './run-view.js';
import {
  agentParams,
  backgroundAccepted,
  continueRequest,
  resumeRequest,
  runParams,
  runQuery,
  runRequest,
  runsListQuery,
  runView,
  toolDecision,
} from './schemas.js';

/** The continue body's `tools` (a JSON string in forms, an array in JSON) as decisions; 400 when malformed. */
function parseToolDecisions(tools: string | unknown[] | undefined): ToolDecisionInput[] {
  if (tools === undefined || tools === '') return [];
  let value: unknown = tools;
  if (typeof tools === 'string') {
    try {
      value = JSON.parse(tools);
    } catch {
      throw new AgentOsError('AOS_BAD_REQUEST', '`tools` is not valid JSON');
    }
  }
  // One object is accepted as a list of one (forms built by hand).
  const parsed = z.array(toolDecision).safeParse(Array.isArray(value) ? value : [value]);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AgentOsError(
      'AOS_BAD_REQUEST',
      `\`tools\`: ${issue?.path.join('.') ?? ''} ${issue?.message ?? 'invalid'}`,
    );
  }
  return parsed.data as ToolDecisionInput[];
}

/** Route table of agent runs. */
export const runRoutes: FastifyPluginAsync<{ services: Services }> = async (fastify, { services }) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const runs = services.runs;
  /** The agent a request names and its run (`session_id`, when given, must match too). */
  const agentRunOf = async (request: FastifyRequest, sessionId?: string) => {
    // `runParams` validated both ids before the handler runs.
    const params = request.params as { agent_id: string; run_id: string };
    const agent = await runs.resolveAgent(workspaceOf(request), params.agent_id);
    const run = await findComponentRun(services, request, 'agent', agent.id, params.run_id, sessionId);
    return { agent, run };
  };

  app.post('/agents/:agent_id/runs', {
    config: { access: { scope: 'agents:run', scopeParam: 'agent_id' }, uploads: true, rateLimitClass: 'message' },
    schema: {
      summary: 'Run an agent',
      description:
        'Form (multipart or urlencoded) or JSON. `stream=true` answers Server-Sent Events; `background=true` ' +
        'answers 202 and runs off the request (with `stream=true` the stream may disconnect without stopping the run).',
      tags: ['Agents'],
      operationId: 'createAgentRun',
      consumes: ['multipart/form-data', 'application/x-www-form-urlencoded', 'application/json'],
      params: agentParams,
      body: runRequest,
      response: { 200: runView, 202: backgroundAccepted },
    },
    handler: async (request, reply) => {
      const { agent_id: agentId } = request.params;
      const body = request.body;
      // Agno: `version` runs a component at that config version (issue 9).
      const version = parseVersion((body as { version?: unknown }).version);
      const agent = await runs.resolveAgent(workspaceOf(request), agentId, version);
      const pinned = effectiveUserId(request, services.config);
      const handle = await runs.start({
        workspaceId: workspaceOf(request),
        agentId,
        agent,
        message: body.message,
        sessionId: body.session_id,
        userId: pinned ?? body.user_id,
        userPinned: pinned !== undefined,
        principal: callerSubjectOf(request.principal),
        // Nobody reads this run's events live: one non-streaming model call per step is enough.
        blocking: !body.stream && !body.background,
      });
      return replyWithRun(services, request, reply, handle, {
        stream: body.stream,
        background: body.background,
        render: (run) => toRunView(run, agent.name ?? agent.id),
      });
    },
  });

  app.get('/agents/:agent_id/runs', {
    config: { access: { scope: 'agents:read', scopeParam: 'agent_id' } },
    schema: {
      summary: "List an agent's runs",
      tags: ['Agents'],
      operationId: 'listAgentRuns',
      params: agentParams,
      querystring: runsListQuery,
      response: { 200: z.object({ runs: z.array(runView), meta: pageMeta }) },
    },
    handler: async (request) => {
      const agent = await runs.resolveAgent(workspaceOf(request), request.params.agent_id);
      return listComponentRuns(
        services,
        request,
        { componentType: 'agent', componentId: agent.id },
        request.query,
        (run) => toRunView(run, agent.name ?? agent.id),
      );
    },
  });

  app.get('/agents/:agent_id/runs/:run_id', {
    config: { access: { scope: 'agents:read', scopeParam: 'agent_id' } },
    schema: {
      summary: 'Get one run (poll a background run)',
      tags: ['Agents'],
      operationId: 'getAgentRun',
      params: runParams,
      querystring: runQuery,
      response: { 200: runView },
    },
    handler: async (request) => {
      const { agent, run } = await agentRunOf(request, request.query.session_id);
      return toRunView(run, agent.name ?? agent.id);
    },
  });

  app.post('/agents/:agent_id/runs/:run_id/cancel', {
    config: { access: { scope: 'agents:run', scopeParam: 'agent_id' } },
    schema: {
      summary: 'Cancel a run',
      description: 'Stops the run wherever it executes; its stream ends with RunCancelled then RunCompleted.',
      tags: ['Agents'],
      operationId: 'cancelAgentRun',
      params: runParams,
      querystring: runQuery,
      response: { 200: z.object({}) },
    },
    handler: async (request) => {
      const { run } = await agentRunOf(request, request.query.session_id);
      await runs.cancel(workspaceOf(request), run.runId);
      return {};
    },
  });

  app.post('/agents/:agent_id/runs/:run_id/continue', {
    config: { access: { scope: 'agents:run', scopeParam: 'agent_id' }, forms: true, rateLimitClass: 'message' },
    schema: {
      summary: 'Continue a paused run',
      description:
        'Form or JSON. `tools`: the paused calls sent back with `confirmed` (+ `confirmation_note`), `user_input` ' +
        "values or an external `result` (Agno semantics); empty when the run's approvals were resolved. Emits " +
        'RunContinued and finishes the run: SSE with `stream=true`, else the run. 403 while an `approval: required` ' +
        'approval is pending (unless the caller has approvals:write); 409 when the run is not paused.',
      tags: ['Agents'],
      operationId: 'continueAgentRun',
      consumes: ['multipart/form-data', 'application/x-www-form-urlencoded', 'application/json'],
      params: runParams,
      body: continueRequest.optional(),
      response: { 200: runView, 202: backgroundAccepted },
    },
    handler: async (request, reply) => {
      const body = request.body ?? { stream: false, background: false };
      const { agent, run } = await agentRunOf(request, body.session_id);
      const handle = await services.approvals.continueRun({
        run,
        tools: parseToolDecisions(body.tools),
        canApprove: canApprove(request),
        decider: deciderOf(request),
      });
      return replyWithRun(services, request, reply, handle, {
        stream: body.stream,
        background: body.background,
        render: (done) => toRunView(done, agent.name ?? agent.id),
      });
    },
  });

  app.post('/agents/:agent_id/runs/:run_id/resume', {
    config: { access: { scope: 'agents:run', scopeParam: 'agent_id' }, forms: true },
    schema: {
      summary: 'Re-attach to a run stream',
      description:
        'Sends the events after `last_event_index` from the events table, then live events until the run ends.',
      tags: ['Agents'],
      operationId: 'resumeAgentRun',
      consumes: ['multipart/form-data', 'application/x-www-form-urlencoded', 'application/json'],
      params: runParams,
      body: resumeRequest.optional(),
    },
    handler: async (request, reply) => {
      const body = request.body ?? { last_event_index: -1 };
      const { run } = await agentRunOf(request, body.session_id);
      return streamReplay(runs, request, reply, run.runId, body.last_event_index);
    },
  });

  app.get('/agents/:agent_id/runs/:run_id/resume', {
    config: { access: { scope: 'agents:run', scopeParam: 'agent_id' } },
    schema: {
      summary: 'Re-attach to a run stream (EventSource)',
      description: 'Like POST …/resume, with the last seen index in the `Last-Event-ID` header.',
      tags: ['Agents'],
      operationId: 'resumeAgentRunStream',
      params: runParams,
      querystring: runQuery,
      headers: z.object({ 'last-event-id': z.coerce.number().int().min(-1).optional() }).loose(),
    },
    handler: async (request, reply) => {
      const { run } = await agentRunOf(request, request.query.session_id);
      return streamReplay(runs, request, reply, run.runId, request.headers['last-event-id'] ?? -1);
    },
  });
};
