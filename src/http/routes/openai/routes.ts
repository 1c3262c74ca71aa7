/**
 * The OpenAI-compatible surface (seed 000, CONTRACT.md §3 and §5): `GET /v1/models` lists what can be
 * called, `POST /v1/chat/completions` runs an agent through the one runtime, blocking or as
 * `chat.completion.chunk` frames ending with `data: [DONE]`.
 *
 * Not yet supported: teams and workflows as `model` (listed, refused with 400), a raw `provider:model`
 * (400), and client-side `tools` / `tool_choice` (accepted and ignored: the agent's own tools run on the
 * server).
 * @module
 */
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { hasScope } from '../../../auth/index.js';
import type { AgentOsConfig } from '../../../config/index.js';
import { AgentOsError, NotFoundError } from '../../../errors/index.js';
import type { RunEvent } from '../../../events/index.js';
import type { Services } from '../../../services.js';
import type { RunRecord } from '../../../store/types.js';
import { workspaceOf } from '../../plugins/access-control.js';
import { openSseStream } from '../../streaming/sse-stream.js';
import { formatErrorBody } from '../../surfaces.js';
import { effectiveUserId } from '../../user-scope.js';
import { toConversation } from './messages.js';
import {
  type ChatCompletion,
  chatCompletion,
  chatCompletionHeaders,
  chatCompletionRequest,
  modelList,
} from './schemas.js';

const AGENT_PREFIX = 'agent:';

const openAiError = z.object({
  error: z.object({ message: z.string(), type: z.string(), code: z.string(), param: z.string().nullable() }),
});

/**
 * The agent a request's `model` names: an exact agent id wins, then `agent:<id>`. Teams, workflows and
 * raw `provider:model` ids are refused for now.
 */
export function resolveModel(config: AgentOsConfig, model: string): string {
  if (config.agents.some((agent) => agent.id === model)) return model;
  if (config.teams.some((team) => team.id === model) || config.workflows.some((workflow) => workflow.id === model)) {
    throw new AgentOsError('AOS_BAD_REQUEST', `Model "${model}" is a team or workflow; /v1 runs only agents for now`);
  }
  if (model.startsWith(AGENT_PREFIX)) {
    const id = model.slice(AGENT_PREFIX.length);
    if (config.agents.some((agent) => agent.id === id)) return id;
  } else if (/^[a-z][a-z0-9_-]*:.+/.test(model)) {
    throw new AgentOsError(
      'AOS_BAD_REQUEST',
      `Model "${model}" is not an agent id; raw provider:model ids are not supported yet (see GET /v1/models)`,
    );
  }
  throw new NotFoundError(`The model "${model}" does not exist (see GET /v1/models)`);
}

/** OpenAI's finish reason for the AI SDK's. */
function finishReasonOf(reason: unknown): 'stop' | 'length' | 'content_filter' {
  if (reason === 'length') return 'length';
  if (reason === 'content-filter') return 'content_filter';
  return 'stop';
}

function tokens(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? Math.round(value) : 0;
}

function usageOf(metrics: Record<string, unknown> | undefined) {
  const prompt = tokens(metrics?.input_tokens);
  const completion = tokens(metrics?.output_tokens);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

function epochSeconds(ms: number): number {
  return Math.floor(ms / 1000);
}

function toCompletion(run: RunRecord, model: string): ChatCompletion {
  return {
    id: `chatcmpl-${run.runId}`,
    object: 'chat.completion',
    created: epochSeconds(run.createdAt),
    model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: run.content ?? '', refusal: null },
        logprobs: null,
        finish_reason: finishReasonOf(run.output?.finish_reason),
      },
    ],
    usage: usageOf(run.metrics),
    system_fingerprint: null,
  };
}

/** Route table of `/v1`. */
export const openAiRoutes: FastifyPluginAsync<{ services: Services }> = async (fastify, { services }) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const { config, runs } = services;

  app.get('/models', {
    config: { access: { scope: 'agents:read', anyId: true } },
    schema: {
      summary: 'List callable models (agents, teams, workflows)',
      description: 'OpenAI `GET /v1/models`: every configured agent, team and workflow the caller may read.',
      tags: ['OpenAI'],
      operationId: 'openaiListModels',
      response: { 200: modelList },
    },
    handler: async (request) => {
      const scopes = request.principal?.scopes ?? [];
      const created = epochSeconds(services.startedAt);
      const entries = [
        ...config.agents.map((agent) => ({ resource: 'agents', id: agent.id })),
        ...config.teams.map((team) => ({ resource: 'teams', id: team.id })),
        ...config.workflows.map((workflow) => ({ resource: 'workflows', id: workflow.id })),
      ];
      return {
        object: 'list' as const,
        data: entries
          .filter((entry) => hasScope(scopes, { resource: entry.resource, action: 'read', id: entry.id }))
          .map((entry) => ({ id: entry.id, object: 'model' as const, created, owned_by: 'agentos' })),
      };
    },
  });

  app.post('/chat/completions', {
    config: { access: { scope: 'agents:run', anyId: true }, rateLimitClass: 'message' },
    schema: {
      summary: 'Create a chat completion (runs an agent)',
      description:
        'OpenAI Chat Completions. `model` is an agent id (or `agent:<id>`). The request `messages` are the ' +
        'conversation: system messages extend the agent instructions, the last user message is the run message. ' +
        'With `X-Session-Id` the stored session history is used instead of the earlier messages. `user` sets ' +
        'the run user id. `stream=true` answers `chat.completion.chunk` frames then `data: [DONE]`. Client-side ' +
        '`tools` are not supported yet (accepted, ignored).',
      tags: ['OpenAI'],
      operationId: 'openaiCreateChatCompletion',
      headers: chatCompletionHeaders,
      body: chatCompletionRequest,
      response: { 200: chatCompletion, 502: openAiError },
    },
    handler: async (request, reply) => {
      const body = request.body;
      const agentId = resolveModel(config, body.model);
      const scopes = request.principal?.scopes ?? [];
      if (!hasScope(scopes, { resource: 'agents', action: 'run', id: agentId })) {
        throw new AgentOsError(
          'AOS_AUTH_FORBIDDEN',
          `Insufficient permissions. Required scope: agents:${agentId}:run`,
          { details: { required: `agents:${agentId}:run` } },
        );
      }
      const conversation = toConversation(body.messages);
      const sessionId = request.headers['x-session-id'];
      const workspaceId = workspaceOf(request);
      const pinned = effectiveUserId(request, config);
      const maxTokens = body.max_completion_tokens ?? body.max_tokens ?? undefined;
      const handle = await runs.start({
        workspaceId,
        agentId,
        message: conversation.message,
        sessionId,
        userId: pinned ?? body.user ?? undefined,
        userPinned: pinned !== undefined,
        // With a server-side session its stored history is the conversation; else the request's is.
        ...(sessionId === undefined ? { history: conversation.history } : {}),
        extraInstructions: conversation.extraInstructions,
        temperature: body.temperature ?? undefined,
        maxOutputTokens: maxTokens,
      });

      if (!body.stream) {
        const run = await handle.done;
        if (run.status === 'error') {
          return reply.code(502).send(
            formatErrorBody('openai', {
              status: 502,
              code: 'AOS_MODEL_PROVIDER_ERROR',
              message: `The run failed: ${run.error ?? 'unknown error'}`,
              requestId: request.id,
            }) as z.infer<typeof openAiError>,
          );
        }
        return toCompletion(run, body.model);
      }

      const sse = openSseStream(reply);
      const send = (data: unknown) => {
        if (!sse.closed) reply.raw.write(`data: ${JSON.stringify(data)}\n\n`);
      };
      const base = {
        id: `chatcmpl-${handle.runId}`,
        object: 'chat.completion.chunk' as const,
        created: epochSeconds(Date.now()),
        model: body.model,
        system_fingerprint: null,
      };
      const chunk = (delta: Record<string, unknown>, finishReason: string | null = null) => ({
        ...base,
        choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
      });
      send(chunk({ role: 'assistant', content: '' }));
      let finishReason: 'stop' | 'length' | 'content_filter' = 'stop';
      let metrics: Record<string, unknown> | undefined;
      let failure: string | undefined;
      const unsubscribe = handle.channel.subscribe(-1, {
        onEvent: (event: RunEvent) => {
          switch (event.event) {
            case 'RunContent':
              if (typeof event.content === 'string' && event.content !== '') send(chunk({ content: event.content }));
              break;
            case 'ModelRequestCompleted':
              finishReason = finishReasonOf(event.finish_reason);
              break;
            case 'RunCompleted':
              metrics = event.metrics as Record<string, unknown> | undefined;
              break;
            case 'RunError':
              failure = typeof event.content === 'string' ? event.content : 'Run failed';
              break;
            default:
              break;
          }
        },
        onEnd: () => {
          if (failure !== undefined) {
            send({
              ...base,
              choices: [],
              error: { message: `The run failed: ${failure}`, type: 'server_error', code: 'AOS_MODEL_PROVIDER_ERROR' },
            });
          } else {
            send(chunk({}, finishReason));
            if (body.stream_options?.include_usage) send({ ...base, choices: [], usage: usageOf(metrics) });
          }
          if (!sse.closed) reply.raw.write('data: [DONE]\n\n');
          sse.end();
        },
      });
      sse.onDisconnect(() => {
        unsubscribe();
        // The stream is the run's only consumer: when the client goes, the run is cancelled.
        runs.cancel(workspaceId, handle.runId, 'disconnect').catch((error: unknown) => {
          request.log.warn({ err: error, run_id: handle.runId }, 'cancelling a disconnected run failed');
        });
      });
      return reply;
    },
  });
};
