/**
 * A2A v1.0 over HTTP+JSON (CONTRACT.md §3), mounted in Fastify without express: per agent, the card at
 * `/a2a/agents/{agent_id}/.well-known/agent-card.json` and `v1/message:send`, `v1/message:stream`,
 * `v1/tasks/{id}` and `v1/tasks/{id}:cancel`. Tasks are runs, contexts are sessions. Every route sits behind
 * the same authentication and the same per-agent scopes as the REST run routes (Agno's /a2a skipped them,
 * #8629); runs are filtered by workspace and, under user isolation, by user.
 *
 * Human in the loop: a run that pauses at a gated tool call ends its task `input-required`, with a status
 * message naming the pending calls. A message on that `taskId` (same `contextId`, if it names one) answers
 * it (`yes` / `no` text, or a data part `{confirmed, note?}`) and continues the run through the same path as
 * `POST /agents/{id}/runs/{run_id}/continue`, approvals gate included.
 * @module
 */

import type { Message } from '@a2a-js/sdk';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { callerSubjectOf } from '../../../auth/index.js';
import { idSchema } from '../../../config/index.js';
import { AgentOsError, NotFoundError } from '../../../errors/index.js';
import type { RunHandle } from '../../../runtime/run-manager.js';
import type { Services } from '../../../services.js';
import type { RunRecord } from '../../../store/types.js';
import { workspaceOf } from '../../plugins/access-control.js';
import { effectiveUserId, isOwnedBy } from '../../user-scope.js';
import { canApprove, deciderOf } from '../approvals/decider.js';

const agentParams = z.object({ agent_id: idSchema });
const taskParams = z.object({ agent_id: idSchema, task_id: z.string().min(1).max(160) });

/** The A2A `SendMessageRequest` fields agentos reads (the SDK codec reads the rest). */
const sendMessageBody = z
  .object({
    message: z
      .object({
        messageId: z.string().min(1),
        contextId: z.string().max(128).optional(),
        parts: z.array(z.object({}).loose()).min(1),
      })
      .loose(),
  })
  .loose();

/**
 * The A2A mapping and, through it, @a2a-js/sdk (and jose), imported on the first A2A request: a server
 * nobody reaches over A2A never holds them in memory (bench/startup). Routes are declared up front as usual.
 */
const loadMapping = () => import('../../../interfaces/a2a/mapping.js');

const SSE_HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
} as const;

/** Route table of the A2A interface. */
export const a2aRoutes: FastifyPluginAsync<{ services: Services }> = async (fastify, { services }) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  // A2A clients may send the protocol's own media type, and bodyless POSTs (`tasks/{id}:cancel`) still carry
  // `content-type: application/json`: both parse here, an empty body as none.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(
    ['application/json', 'application/a2a+json'],
    { parseAs: 'string' },
    (_request, body, done) => {
      const text = String(body);
      if (text.trim() === '') return done(null, undefined);
      try {
        done(null, JSON.parse(text));
      } catch (error) {
        (error as { statusCode?: number }).statusCode = 400;
        done(error as Error, undefined);
      }
    },
  );

  const run = (scope: 'run' | 'read') => ({ access: { scope: `agents:${scope}`, scopeParam: 'agent_id' } });
  const originOf = (request: FastifyRequest) => `${request.protocol}://${request.host}`;

  /** The task (run) of this agent, in the caller's workspace and (under isolation) user; else 404. */
  async function findTask(request: FastifyRequest, agentId: string, taskId: string): Promise<RunRecord | undefined> {
    const found = await services.store.runs.get(workspaceOf(request), taskId);
    if (!isOwnedBy(found, effectiveUserId(request, services.config))) return undefined;
    return found.componentType === 'agent' && found.componentId === agentId ? found : undefined;
  }

  /**
   * A paused run's row is stored a moment after its stream ends: a reply sent right away may find it
   * still running. Waits briefly for it to settle (`approvals.continueRun` then refuses what is not paused).
   */
  async function settled(task: RunRecord): Promise<RunRecord> {
    let current = task;
    for (let attempt = 0; attempt < 40 && (current.status === 'running' || current.status === 'pending'); attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      current = (await services.store.runs.get(task.workspaceId, task.runId)) ?? current;
    }
    return current;
  }

  /** Continues the paused run (task) a reply names, exactly as the REST continue route does. */
  async function continueFrom(request: FastifyRequest, agentId: string, message: Message): Promise<RunHandle> {
    const { replyDecision, toolDecisionsOf } = await loadMapping();
    const found = await findTask(request, agentId, message.taskId);
    // A context other than the task's names another conversation: the task is not there.
    if (!found || (message.contextId !== '' && message.contextId !== found.sessionId)) {
      throw new NotFoundError('Task not found');
    }
    const task = await settled(found);
    return services.approvals.continueRun({
      run: task,
      tools: toolDecisionsOf(task, replyDecision(message)),
      canApprove: canApprove(request),
      decider: deciderOf(request),
    });
  }

  /**
   * Starts the run a send/stream request asks for, or continues the paused task it replies to; 400 when
   * a new task's message has no text.
   */
  async function startFrom(request: FastifyRequest, agentId: string): Promise<RunHandle> {
    const { messageText, parseSendRequest } = await loadMapping();
    const parsed = parseSendRequest(request.body);
    if (parsed?.message && parsed.message.taskId !== '') return continueFrom(request, agentId, parsed.message);
    const text = messageText(parsed?.message);
    if (!parsed?.message || text === '') {
      throw new AgentOsError('AOS_BAD_REQUEST', 'message needs at least one text part');
    }
    const workspaceId = workspaceOf(request);
    const agent = await services.runs.resolveAgent(workspaceId, agentId);
    const pinned = effectiveUserId(request, services.config);
    return services.runs.start({
      workspaceId,
      agentId,
      agent,
      message: text,
      // contextId = session id: a follow-up message continues the conversation.
      sessionId: parsed.message.contextId === '' ? undefined : parsed.message.contextId,
      userId: pinned,
      userPinned: pinned !== undefined,
      principal: callerSubjectOf(request.principal),
    });
  }

  app.get('/a2a/agents/:agent_id/.well-known/agent-card.json', {
    config: run('read'),
    schema: {
      summary: 'A2A agent card',
      tags: ['Interfaces'],
      operationId: 'a2aAgentCard',
      params: agentParams,
    },
    handler: async (request) => {
      const agent = await services.runs.resolveAgent(workspaceOf(request), request.params.agent_id);
      const { agentCardJson } = await loadMapping();
      return agentCardJson(agent, originOf(request), services.version);
    },
  });

  // One route for both operations: the A2A method sits in the last segment (`message:send`, `message:stream`).
  app.post('/a2a/agents/:agent_id/v1/:operation', {
    config: { ...run('run'), rateLimitClass: 'message' },
    schema: {
      summary: 'A2A message:send (the finished task) or message:stream (SSE of task, artifact and status updates)',
      description:
        'A message without `taskId` starts a task (a run; `contextId` = session). A task ends `input-required` ' +
        'when the run pauses at a gated tool call, its status message naming the calls; a message with that ' +
        '`taskId` answers it: text starting with yes/no (the rest is the note) or a data part ' +
        '`{"confirmed": true|false, "note"?: string}`, applied to every pending call; without either, resolved ' +
        'approvals apply. It continues the run as `POST /agents/{id}/runs/{run_id}/continue` does: 403 while an ' +
        '`approval: required` approval is pending (unless the caller has approvals:write), 409 when the task is ' +
        'not paused.',
      tags: ['Interfaces'],
      operationId: 'a2aSendMessage',
      params: z.object({ agent_id: idSchema, operation: z.enum(['message:send', 'message:stream']) }),
      body: sendMessageBody,
    },
    handler: async (request, reply) => {
      const handle = await startFrom(request, request.params.agent_id);
      const { artifactChunk, pausedMessage, sendResponseJson, statusChunk, streamFrame, taskOf, taskStateOf } =
        await loadMapping();
      if (request.params.operation === 'message:send') return sendResponseJson(await handle.done);
      reply.hijack();
      const raw = reply.raw;
      const headers: Record<string, string | number | string[]> = {};
      for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) headers[name] = value;
      raw.writeHead(200, { ...headers, ...SSE_HEADERS });
      const ids = { runId: handle.runId, sessionId: handle.sessionId };
      const write = (frame: string) => {
        if (!raw.writableEnded && !raw.destroyed) raw.write(frame);
      };
      const started = await services.store.runs.get(workspaceOf(request), handle.runId);
      if (started) write(streamFrame({ $case: 'task', value: taskOf(started) }));
      let appended = false;
      // Leaving the stream does not cancel the task (A2A: tasks outlive their streams; poll tasks/{id}).
      const unsubscribe = handle.channel.subscribe(-1, {
        onEvent: (event) => {
          if (event.event !== 'RunContent' || typeof event.content !== 'string' || event.content === '') return;
          write(streamFrame(artifactChunk(ids, event.content, appended)));
          appended = true;
        },
        onEnd: () => {
          void handle.done
            .then((final) => write(streamFrame(statusChunk(ids, taskStateOf(final.status), pausedMessage(final)))))
            .catch(() => {})
            .finally(() => raw.end());
        },
      });
      raw.on('close', unsubscribe);
      return reply;
    },
  });

  app.get('/a2a/agents/:agent_id/v1/tasks/:task_id', {
    config: run('read'),
    schema: {
      summary: 'A2A tasks/get (a run)',
      tags: ['Interfaces'],
      operationId: 'a2aGetTask',
      params: taskParams,
    },
    handler: async (request) => {
      const task = await findTask(request, request.params.agent_id, request.params.task_id);
      if (!task) throw new NotFoundError('Task not found');
      const { taskJson } = await loadMapping();
      return taskJson(task);
    },
  });

  // `{id}:cancel` shares the segment with the task id, so the suffix is read here rather than by the router.
  app.post('/a2a/agents/:agent_id/v1/tasks/:task_id', {
    config: run('run'),
    schema: {
      summary: 'A2A tasks/{id}:cancel (cancels the run)',
      tags: ['Interfaces'],
      operationId: 'a2aCancelTask',
      params: taskParams,
    },
    handler: async (request) => {
      const { agent_id: agentId, task_id: ref } = request.params;
      if (!ref.endsWith(':cancel')) throw new NotFoundError('Unknown task operation (expected {id}:cancel)');
      const task = await findTask(request, agentId, ref.slice(0, -':cancel'.length));
      if (!task) throw new NotFoundError('Task not found');
      if (task.status === 'completed' || task.status === 'cancelled' || task.status === 'error') {
        throw new AgentOsError('AOS_RUN_INVALID_TRANSITION', `Task is ${task.status}; it cannot be canceled`);
      }
      await services.runs.cancel(task.workspaceId, task.runId);
      // The abort lands asynchronously; answer with the settled state when it comes within a moment.
      let after = task;
      for (let attempt = 0; attempt < 40; attempt++) {
        after = (await services.store.runs.get(task.workspaceId, task.runId)) ?? after;
        if (after.status === 'cancelled' || after.status === 'completed' || after.status === 'error') break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const { taskJson } = await loadMapping();
      return taskJson(after);
    },
  });
};
