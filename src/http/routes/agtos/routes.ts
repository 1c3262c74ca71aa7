/**
 * The agtOS surface (seed 002, research/agtos-automatos.md §1.2) under `/api`: `POST /api/chat`,
 * `POST /api/tasks` (202 and a status route; `?wait=true` for the seed's synchronous shape),
 * `GET /api/sessions`, `GET /api/voice/status` (the voice pipeline, `src/voice/`) and `GET /api/system/info`.
 * Bodies are capped at 1 MB and
 * path ids follow agtOS' `^[a-zA-Z0-9\-_]+$` (1–128), else 400. Timestamps are epoch milliseconds.
 * @module
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { callerSubjectOf, hasScope } from '../../../auth/index.js';
import { idSchema } from '../../../config/index.js';
import { AgentOsError, NotFoundError } from '../../../errors/index.js';
import type { Services } from '../../../services.js';
import type { RunRecord } from '../../../store/types.js';
import { workspaceOf } from '../../plugins/access-control.js';
import { effectiveUserId } from '../../user-scope.js';
import { countSteps, outcomeOf, type RunOutcome } from '../api/run-once.js';
import { voiceOf } from '../voice/voice-of.js';

/** agtOS caps bodies at 1 MB; a smaller server `body_limit` still wins. */
const AGTOS_BODY_LIMIT = 1024 * 1024;
/** agtOS path ids. */
const agtosId = z
  .string()
  .regex(/^[a-zA-Z0-9\-_]{1,128}$/, { error: 'invalid id (expected 1-128 characters of a-z, A-Z, 0-9, - and _)' });

const metadata = z.object({
  stepCount: z.number().int(),
  toolCallCount: z.number().int(),
  durationMs: z.number().int(),
});

const chatBody = z.object({
  text: z.string().min(1).max(10_000),
  sessionId: z.string().min(1).max(128).optional(),
  platform: z.string().min(1).max(32).default('web'),
  agentId: idSchema.optional(),
});

const taskBody = z.object({ topic: z.string().min(1).max(10_000), agentId: idSchema.optional() });

const taskView = z.object({
  taskId: z.string(),
  status: z.enum(['pending', 'running', 'completed', 'paused', 'cancelled', 'error']),
  sessionId: z.string(),
  text: z.string().nullable(),
  metadata: metadata.nullable(),
  error: z.string().nullable(),
  createdAt: z.number().int(),
  updatedAt: z.number().int(),
});

/** The agent answering `/api/chat` and `/api/tasks`: the request's, else `default_agent`, else the first. */
function chatAgent(services: Services, request: FastifyRequest, requested: string | undefined): string {
  const agentId = requested ?? services.config.default_agent ?? services.config.agents[0]?.id;
  if (agentId === undefined) {
    throw new NotFoundError('No agent answers /api/chat: set default_agent in the config or send agentId');
  }
  if (!hasScope(request.principal?.scopes ?? [], { resource: 'agents', action: 'run', id: agentId })) {
    throw new AgentOsError('AOS_AUTH_FORBIDDEN', `Insufficient permissions. Required scope: agents:${agentId}:run`, {
      details: { required: `agents:${agentId}:run` },
    });
  }
  return agentId;
}

function metadataOf(outcome: RunOutcome) {
  return { stepCount: outcome.steps, toolCallCount: outcome.toolCalls, durationMs: outcome.durationMs };
}

/** Route table of the agtOS routes under `/api`. */
export const agtosRoutes: FastifyPluginAsync<{ services: Services }> = async (fastify, { services }) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const bodyLimit = Math.min(services.config.server.body_limit, AGTOS_BODY_LIMIT);
  const { config, runs, store } = services;

  app.post('/chat', {
    config: { access: { scope: 'agents:run', anyId: true }, rateLimitClass: 'message' },
    bodyLimit: bodyLimit,
    schema: {
      summary: 'Chat with an agent (agtOS)',
      description:
        '`{text, sessionId?, platform?, agentId?}` → `{text, sessionId, platform, metadata{stepCount, ' +
        'toolCallCount, durationMs}}`. Without `sessionId` the call is stateless (a fresh session, no history); ' +
        'with one, the session’s history is used. The agent is `agentId`, else `default_agent`, else the first.',
      tags: ['API'],
      operationId: 'agtosChat',
      body: chatBody,
      response: {
        200: z.object({ text: z.string(), sessionId: z.string(), platform: z.string(), metadata }),
      },
    },
    handler: async (request) => {
      const body = request.body;
      const agentId = chatAgent(services, request, body.agentId);
      const pinned = effectiveUserId(request, config);
      const startedAt = Date.now();
      const handle = await runs.start({
        workspaceId: workspaceOf(request),
        agentId,
        message: body.text,
        sessionId: body.sessionId,
        userId: pinned,
        userPinned: pinned !== undefined,
        principal: callerSubjectOf(request.principal),
      });
      const steps = countSteps(handle);
      const outcome = outcomeOf(await handle.done, steps(), startedAt);
      return {
        text: outcome.run.content ?? '',
        sessionId: outcome.run.sessionId,
        platform: body.platform,
        metadata: metadataOf(outcome),
      };
    },
  });

  app.post('/tasks', {
    config: { access: { scope: 'agents:run', anyId: true }, rateLimitClass: 'message' },
    bodyLimit: bodyLimit,
    schema: {
      summary: 'Start a task (agtOS)',
      description:
        'Runs the agent on `topic` in the background: 202 `{taskId, status, sessionId}`; poll ' +
        '`GET /api/tasks/{taskId}`. `?wait=true` answers 200 `{taskId, text, metadata}` when it ends (the seed’s ' +
        'synchronous shape).',
      tags: ['API'],
      operationId: 'agtosCreateTask',
      querystring: z.object({ wait: z.enum(['true', 'false']).default('false') }),
      body: taskBody,
      response: {
        200: z.object({ taskId: z.string(), text: z.string(), metadata }),
        202: z.object({ taskId: z.string(), status: z.literal('running'), sessionId: z.string() }),
        502: z.object({ error: z.string(), code: z.string(), request_id: z.string(), taskId: z.string() }),
      },
    },
    handler: async (request, reply) => {
      const agentId = chatAgent(services, request, request.body.agentId);
      const pinned = effectiveUserId(request, config);
      const startedAt = Date.now();
      const handle = await runs.start({
        workspaceId: workspaceOf(request),
        agentId,
        message: request.body.topic,
        userId: pinned,
        userPinned: pinned !== undefined,
        principal: callerSubjectOf(request.principal),
      });
      if (request.query.wait !== 'true') {
        return reply.code(202).send({ taskId: handle.runId, status: 'running' as const, sessionId: handle.sessionId });
      }
      const steps = countSteps(handle);
      const run = await handle.done;
      if (run.status === 'error') {
        // agtOS: a failed task still names its taskId, so the caller can look it up.
        return reply.code(502).send({
          error: `The task failed: ${run.error ?? 'unknown error'}`,
          code: 'AOS_MODEL_PROVIDER_ERROR',
          request_id: request.id,
          taskId: run.runId,
        });
      }
      const outcome = outcomeOf(run, steps(), startedAt);
      return { taskId: handle.runId, text: outcome.run.content ?? '', metadata: metadataOf(outcome) };
    },
  });

  app.get('/tasks/:taskId', {
    config: { access: { scope: 'agents:read', anyId: true } },
    schema: {
      summary: 'A task’s status and result (agtOS)',
      tags: ['API'],
      operationId: 'agtosGetTask',
      params: z.object({ taskId: agtosId }),
      response: { 200: taskView },
    },
    handler: async (request) => {
      const run: RunRecord | null = await store.runs.get(workspaceOf(request), request.params.taskId);
      const pinned = effectiveUserId(request, config);
      const visible =
        run !== null &&
        (pinned === undefined || run.userId === pinned) &&
        hasScope(request.principal?.scopes ?? [], { resource: 'agents', action: 'read', id: run.componentId });
      if (!visible) throw new NotFoundError('Task not found');
      const finished = run.status === 'completed' || run.status === 'cancelled';
      const steps = finished
        ? (await store.runEvents.list(run.runId)).filter((event) => event.event === 'ModelRequestCompleted').length
        : 0;
      const tools = Array.isArray(run.output?.tools) ? run.output.tools.length : 0;
      return {
        taskId: run.runId,
        status: run.status,
        sessionId: run.sessionId,
        text: finished ? (run.content ?? '') : null,
        metadata: finished
          ? { stepCount: steps, toolCallCount: tools, durationMs: Math.max(0, run.updatedAt - run.createdAt) }
          : null,
        error: run.error,
        createdAt: run.createdAt,
        updatedAt: run.updatedAt,
      };
    },
  });

  app.get('/sessions', {
    config: { access: { scope: 'sessions:read', anyId: true } },
    schema: {
      summary: 'Live voice sessions (agtOS)',
      description:
        'The `/audio` connections open now: `id` is the agentos session the conversation is stored in, ' +
        '`isSpeaking` whether the caller is speaking (the VAD is inside an utterance), `lastActivity` epoch ms.',
      tags: ['API'],
      operationId: 'agtosListVoiceSessions',
      response: {
        200: z.object({
          sessions: z.array(
            z.object({
              id: z.string(),
              connectionId: z.string(),
              isActive: z.boolean(),
              isSpeaking: z.boolean(),
              lastActivity: z.number().int(),
            }),
          ),
          count: z.number().int(),
        }),
      },
    },
    handler: async (request) => {
      const sessions = voiceOf(services).list({
        workspaceId: workspaceOf(request),
        userId: effectiveUserId(request, services.config),
      });
      return { sessions, count: sessions.length };
    },
  });

  app.get('/voice/status', {
    config: { access: { scope: 'sessions:read', anyId: true } },
    schema: {
      summary: 'Voice pipeline status (agtOS)',
      description:
        'Always 200: `{available:true, pipeline:"cascade", activeSessions, stt, tts}` when both speech engines ' +
        'work here, else `available:false` with the `reason` (voice disabled, an engine not installed).',
      tags: ['API'],
      operationId: 'agtosVoiceStatus',
      response: {
        200: z.object({
          available: z.boolean(),
          pipeline: z.string().nullable(),
          activeSessions: z.number().int(),
          stt: z.string(),
          tts: z.string(),
          reason: z.string().optional(),
        }),
      },
    },
    handler: async (request) => {
      const voice = voiceOf(services);
      const mine = voice.list({ workspaceId: workspaceOf(request), userId: effectiveUserId(request, services.config) });
      return { ...(await voice.status()), activeSessions: mine.length };
    },
  });

  app.get('/system/info', {
    config: { access: { scope: 'config:read' } },
    schema: {
      summary: 'Process information (agtOS)',
      tags: ['API'],
      operationId: 'agtosSystemInfo',
      response: {
        200: z.object({
          uptime: z.number().describe('Seconds since start'),
          version: z.string(),
          nodeVersion: z.string(),
          platform: z.string(),
          arch: z.string(),
          memoryUsage: z.object({
            rss: z.number(),
            heapTotal: z.number(),
            heapUsed: z.number(),
            external: z.number(),
            arrayBuffers: z.number(),
          }),
          ports: z.record(z.string(), z.number().int()),
          activeRuns: z.number().int(),
          timestamp: z.number().int(),
        }),
      },
    },
    handler: async (request) => {
      const memory = process.memoryUsage();
      const address = request.server.server.address();
      const port = typeof address === 'object' && address !== null ? address.port : config.server.port;
      return {
        uptime: Math.round((Date.now() - services.startedAt) / 10) / 100,
        version: services.version,
        nodeVersion: process.version,
        platform: process.platform,
        arch: process.arch,
        memoryUsage: {
          rss: memory.rss,
          heapTotal: memory.heapTotal,
          heapUsed: memory.heapUsed,
          external: memory.external,
          arrayBuffers: memory.arrayBuffers,
        },
        // One listener serves HTTP, MCP, WebSockets and health alike.
        ports: { http: port },
        activeRuns: runs.activeCount,
        timestamp: Date.now(),
      };
    },
  });
};
