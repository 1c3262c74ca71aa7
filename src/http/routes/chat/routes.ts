/**
 * `/agents/{agent_id}/chat`: an agent behind the AI SDK UI message stream v1 (CONTRACT.md §3), so a
 * `useChat` front end talks to it directly. POST starts a run (the chat id is the session id) or, when the
 * last message carries approval answers, continues the paused run; GET re-attaches to the chat's active
 * run or answers 204. Same access and rate-limit class as `POST /agents/{id}/runs`.
 * @module
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { callerSubjectOf } from '../../../auth/index.js';
import { AgentOsError, isAgentOsError } from '../../../errors/index.js';
import { chatIntentOf, chatRequest } from '../../../interfaces/ui-stream/messages.js';
import { openUiStream } from '../../../interfaces/ui-stream/response.js';
import type { RunHandle } from '../../../runtime/run-manager.js';
import type { Services } from '../../../services.js';
import type { RunRecord, RunStatus } from '../../../store/types.js';
import { workspaceOf } from '../../plugins/access-control.js';
import { effectiveUserId } from '../../user-scope.js';
import { canApprove, deciderOf } from '../approvals/decider.js';
import { agentParams } from '../runs/schemas.js';

const chatIdParams = z.object({ agent_id: agentParams.shape.agent_id, chat_id: z.string().min(1).max(128) });

/** The newest run of this agent in the chat with the given status, within the caller's tenant and user. */
async function latestRun(
  services: Services,
  request: FastifyRequest,
  agentId: string,
  sessionId: string,
  status: RunStatus,
): Promise<RunRecord | undefined> {
  const userId = effectiveUserId(request, services.config);
  const page = await services.store.runs.list({
    workspaceId: workspaceOf(request),
    componentType: 'agent',
    componentId: agentId,
    sessionId,
    status,
    ...(userId === undefined ? {} : { userId }),
    order: 'desc',
    page: 1,
    limit: 1,
  });
  return page.items[0];
}

/** Streams a live run to the reply; a disconnect cancels it, as a plain run stream does. */
function streamHandle(services: Services, request: FastifyRequest, reply: FastifyReply, handle: RunHandle) {
  const stream = openUiStream(reply);
  const unsubscribe = handle.channel.subscribe(-1, stream.subscriber);
  stream.onDisconnect(() => {
    unsubscribe();
    services.runs.cancel(workspaceOf(request), handle.runId, 'disconnect').catch((error: unknown) => {
      request.log.warn({ err: error, run_id: handle.runId }, 'cancelling a disconnected chat run failed');
    });
  });
  return reply;
}

/** Re-attaches to the chat's running run from its first event, or answers 204 when none runs. */
async function resumeChat(
  services: Services,
  request: FastifyRequest,
  reply: FastifyReply,
  agentId: string,
  chatId: string,
) {
  const agent = await services.runs.resolveAgent(workspaceOf(request), agentId);
  const run =
    (await latestRun(services, request, agent.id, chatId, 'running')) ??
    (await latestRun(services, request, agent.id, chatId, 'pending'));
  if (!run) return reply.code(204).send();
  const stream = openUiStream(reply);
  try {
    // A resumed stream only watches: leaving it does not cancel the run.
    const unsubscribe = await services.runs.replay(workspaceOf(request), run.runId, -1, stream.subscriber);
    stream.onDisconnect(unsubscribe);
  } catch (error) {
    request.log.warn({ err: error, run_id: run.runId }, 'chat resume failed');
    stream.fail(isAgentOsError(error) && error.status < 500 ? error.message : 'Resume failed');
  }
  return reply;
}

/** Route table of the UI message stream surface. */
export const chatRoutes: FastifyPluginAsync<{ services: Services }> = async (fastify, { services }) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();

  app.post('/agents/:agent_id/chat', {
    config: { access: { scope: 'agents:run', scopeParam: 'agent_id' }, rateLimitClass: 'message' },
    schema: {
      summary: 'Chat with an agent (AI SDK UI message stream)',
      description:
        "`useChat`'s body: `id` (the session id) and `messages` (UIMessage[]). Answers the UI message stream v1 " +
        '(`x-vercel-ai-ui-message-stream: v1`, `data:` chunks, `[DONE]`). A paused run sends `tool-approval-request` ' +
        'chunks; posting the messages back with the approvals answered continues it.',
      tags: ['Agents'],
      operationId: 'chatWithAgent',
      params: agentParams,
      body: chatRequest,
    },
    handler: async (request, reply) => {
      const { agent_id: agentId } = request.params;
      const body = request.body;
      const workspaceId = workspaceOf(request);
      const agent = await services.runs.resolveAgent(workspaceId, agentId);
      const intent = chatIntentOf(body);
      if (!intent) throw new AgentOsError('AOS_BAD_REQUEST', 'No user message or approval answer to act on');
      if (intent.kind === 'approvals') {
        const run = await latestRun(services, request, agent.id, body.id, 'paused');
        if (!run) throw new AgentOsError('AOS_RUN_INVALID_TRANSITION', 'No paused run in this chat to continue');
        const handle = await services.approvals.continueRun({
          run,
          tools: intent.decisions,
          canApprove: canApprove(request),
          decider: deciderOf(request),
        });
        return streamHandle(services, request, reply, handle);
      }
      const pinned = effectiveUserId(request, services.config);
      const handle = await services.runs.start({
        workspaceId,
        agentId,
        agent,
        message: intent.text,
        sessionId: body.id,
        userId: pinned ?? body.user_id,
        userPinned: pinned !== undefined,
        principal: callerSubjectOf(request.principal),
      });
      return streamHandle(services, request, reply, handle);
    },
  });

  app.get('/agents/:agent_id/chat', {
    config: { access: { scope: 'agents:run', scopeParam: 'agent_id' } },
    schema: {
      summary: "Resume a chat's active stream",
      description: 'UI message stream of the running run of chat `id` from its start, or 204 when none runs.',
      tags: ['Agents'],
      operationId: 'resumeAgentChat',
      params: agentParams,
      querystring: z.object({ id: chatIdParams.shape.chat_id }),
    },
    handler: (request, reply) => resumeChat(services, request, reply, request.params.agent_id, request.query.id),
  });

  // The path `useChat`'s DefaultChatTransport calls for `resume: true` (`${api}/${chatId}/stream`).
  app.get('/agents/:agent_id/chat/:chat_id/stream', {
    config: { access: { scope: 'agents:run', scopeParam: 'agent_id' } },
    schema: {
      summary: "Resume a chat's active stream (useChat path)",
      tags: ['Agents'],
      operationId: 'resumeAgentChatStream',
      params: chatIdParams,
    },
    handler: (request, reply) => resumeChat(services, request, reply, request.params.agent_id, request.params.chat_id),
  });
};
