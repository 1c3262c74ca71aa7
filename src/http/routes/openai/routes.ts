/**
 * The OpenAI-compatible surface (seed 000, CONTRACT.md §3 and §5): `GET /v1/models` lists what can be
 * called, `POST /v1/chat/completions` runs an agent (from the config or the database) or a raw
 * `provider:model` through the one runtime, blocking or as `chat.completion.chunk` frames ending with
 * `data: [DONE]`. Client-side `tools` are offered to the model; a call to one ends the run with
 * `finish_reason: "tool_calls"` and the client continues the conversation with `tool` messages.
 *
 * A team or workflow (of the config, or a `/components` one) as `model` gets the whole conversation:
 * the team leader takes the earlier turns as history and the system messages as extra instructions,
 * as an agent does; a workflow hands both to its agent steps as context.
 * @module
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { storedAgentEntries, storedTeamEntries, storedWorkflowEntries } from '../../../agents/catalog.js';
import { callerSubjectOf, hasScope } from '../../../auth/index.js';
import { parseModelId } from '../../../config/index.js';
import { AgentOsError, NotFoundError } from '../../../errors/index.js';
import type { RunEvent, ToolExecution } from '../../../events/index.js';
import type { RuntimeAgent } from '../../../runtime/agent/context.js';
import type { RunHandle } from '../../../runtime/run-manager.js';
import type { Services } from '../../../services.js';
import type { RunRecord } from '../../../store/types.js';
import { workspaceOf } from '../../plugins/access-control.js';
import { openSseStream } from '../../streaming/sse-stream.js';
import { formatErrorBody } from '../../surfaces.js';
import { effectiveUserId } from '../../user-scope.js';
import { runAccessOf } from '../components/run-access.js';
import { toConversation } from './messages.js';
import {
  type ChatCompletion,
  type ChatCompletionRequest,
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
 * What a request's `model` names: an agent to look up, a raw model run as a plain assistant, or a team or
 * workflow (run through their own runners, with the conversation as their input).
 */
export type ModelTarget =
  | { kind: 'agent'; agentId: string; agent: RuntimeAgent; raw: boolean }
  | { kind: 'team' | 'workflow'; id: string };

/** The plain assistant a raw `provider:model` runs as. */
function rawModelAgent(modelId: string): RuntimeAgent {
  return {
    id: modelId,
    name: 'a helpful assistant',
    model: modelId,
    tools: [],
    memory: false,
    history_runs: 3,
    max_steps: 10,
    source: 'model',
  };
}

/**
 * What a request's `model` names: an exact id wins (config teams and workflows, config agents, the
 * workspace's database agents, then its team and workflow components), then `agent:<id>`, then a raw
 * `provider:model` of a known provider.
 */
export async function resolveModel(services: Services, workspaceId: string, model: string): Promise<ModelTarget> {
  const { config, runs } = services;
  // The agent found is kept: a database agent costs several store reads to load.
  const findAgent = async (id: string) =>
    runs.resolveAgent(workspaceId, id).catch((error: unknown) => {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    });
  if (config.teams.some((team) => team.id === model)) return { kind: 'team', id: model };
  if (config.workflows.some((workflow) => workflow.id === model)) return { kind: 'workflow', id: model };
  const named = await findAgent(model);
  if (named) return { kind: 'agent', agentId: model, agent: named, raw: false };
  const component = await services.store.agents.getComponent(workspaceId, model);
  if (component?.componentType === 'team' || component?.componentType === 'workflow') {
    return { kind: component.componentType, id: model };
  }
  if (model.startsWith(AGENT_PREFIX)) {
    const id = model.slice(AGENT_PREFIX.length);
    const prefixed = await findAgent(id);
    if (prefixed) return { kind: 'agent', agentId: id, agent: prefixed, raw: false };
  } else if (parseModelId(model) !== null) {
    // Fails here (400 AOS_MODEL_NOT_CONFIGURED) rather than as a failed run when the provider has no key.
    await services.models.languageModel(model);
    return { kind: 'agent', agentId: model, agent: rawModelAgent(model), raw: true };
  } else if (/^[a-z][a-z0-9_-]*:.+/.test(model)) {
    throw new AgentOsError('AOS_MODEL_UNKNOWN', `Model "${model}" names no known provider (see GET /v1/models)`);
  }
  throw new NotFoundError(`The model "${model}" does not exist (see GET /v1/models)`);
}

type FinishReason = 'stop' | 'length' | 'content_filter' | 'tool_calls';

/** OpenAI's finish reason for the AI SDK's. */
function finishReasonOf(reason: unknown): FinishReason {
  if (reason === 'length') return 'length';
  if (reason === 'content-filter') return 'content_filter';
  if (reason === 'tool-calls') return 'tool_calls';
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

/** An OpenAI tool call for a client-side tool the model called. */
function toToolCall(execution: ToolExecution) {
  return {
    id: execution.tool_call_id ?? '',
    type: 'function' as const,
    function: { name: execution.tool_name ?? '', arguments: JSON.stringify(execution.tool_args ?? {}) },
  };
}

/** The calls of client-side tools: they have no result, the client runs them. */
function clientCalls(run: RunRecord, clientToolNames: ReadonlySet<string>) {
  const executions = Array.isArray(run.output?.tools) ? (run.output.tools as ToolExecution[]) : [];
  return executions
    .filter((execution) => clientToolNames.has(execution.tool_name ?? '') && execution.result === undefined)
    .map(toToolCall);
}

function toCompletion(run: RunRecord, model: string, clientToolNames: ReadonlySet<string>): ChatCompletion {
  const calls = clientCalls(run, clientToolNames);
  const content = run.content ?? '';
  return {
    id: `chatcmpl-${run.runId}`,
    object: 'chat.completion',
    created: epochSeconds(run.createdAt),
    model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: calls.length > 0 && content === '' ? null : content,
          refusal: null,
          ...(calls.length > 0 ? { tool_calls: calls } : {}),
        },
        logprobs: null,
        finish_reason: calls.length > 0 ? 'tool_calls' : finishReasonOf(run.output?.finish_reason),
      },
    ],
    usage: usageOf(run.metrics),
    system_fingerprint: null,
  };
}

/** The request's client-side tools and tool choice in the runtime's terms; 400 on a name clash. */
function clientToolsOf(body: ChatCompletionRequest, agentToolNames: readonly string[]) {
  const tools = (body.tools ?? []).map((entry) => ({
    name: entry.function.name,
    description: entry.function.description,
    parameters: entry.function.parameters ?? { type: 'object', properties: {} },
  }));
  const names = new Set<string>();
  for (const tool of tools) {
    if (names.has(tool.name) || agentToolNames.includes(tool.name)) {
      throw new AgentOsError(
        'AOS_BAD_REQUEST',
        `tools: "${tool.name}" is given twice or is already a tool of the agent; rename the client-side tool`,
      );
    }
    names.add(tool.name);
  }
  const choice = body.tool_choice;
  const toolChoice =
    choice === undefined || choice === null
      ? undefined
      : typeof choice === 'string'
        ? choice
        : { type: 'tool' as const, toolName: choice.function.name };
  return { tools, names, toolChoice };
}

/** What {@link streamChunks} needs. */
interface ChunkStreamOptions {
  services: Services;
  workspaceId: string;
  handle: RunHandle;
  /** Echoed as `model` in every chunk. */
  model: string;
  /** Client-side tool names: their calls are streamed as `tool_calls` deltas. */
  names: ReadonlySet<string>;
  includeUsage?: boolean;
  /**
   * The event whose `content` is streamed: `RunContent` (agents, the default), `TeamRunContent` (a team's
   * leader); none for a workflow, whose final output is sent in one chunk when it ends.
   */
  contentEvent?: 'RunContent' | 'TeamRunContent' | undefined;
}

/** Streams a run as `chat.completion.chunk` frames then `data: [DONE]`; a client that leaves cancels it. */
function streamChunks(request: FastifyRequest, reply: FastifyReply, options: ChunkStreamOptions): FastifyReply {
  const { services, workspaceId, handle } = options;
  const runs = services.runs;
  const sse = openSseStream(reply);
  const send = (data: unknown) => {
    if (!sse.closed) reply.raw.write(`data: ${JSON.stringify(data)}\n\n`);
  };
  const base = {
    id: `chatcmpl-${handle.runId}`,
    object: 'chat.completion.chunk' as const,
    created: epochSeconds(Date.now()),
    model: options.model,
    system_fingerprint: null,
  };
  const chunk = (delta: Record<string, unknown>, finishReason: string | null = null) => ({
    ...base,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
  });
  send(chunk({ role: 'assistant', content: '' }));
  const contentEvent = options.contentEvent;
  let streamed = false;
  let finishReason: FinishReason = 'stop';
  let toolCalls = 0;
  const finish = (run: RunRecord | undefined) => {
    if (!run || run.status === 'error') {
      const failure = run?.error ?? 'Run failed';
      send({
        ...base,
        choices: [],
        error: { message: `The run failed: ${failure}`, type: 'server_error', code: 'AOS_MODEL_PROVIDER_ERROR' },
      });
    } else {
      // Workflows (and teams whose leader only relayed) stream no tokens: their output goes out whole.
      if (!streamed && run.content) send(chunk({ content: run.content }));
      send(chunk({}, toolCalls > 0 ? 'tool_calls' : finishReason));
      if (options.includeUsage) send({ ...base, choices: [], usage: usageOf(run.metrics) });
    }
    if (!sse.closed) reply.raw.write('data: [DONE]\n\n');
    sse.end();
  };
  const unsubscribe = handle.channel.subscribe(-1, {
    onEvent: (event: RunEvent) => {
      // Team members' own agent events are marked `role: "member"`; only the answer is streamed.
      if ((event as { role?: unknown }).role === 'member') return;
      if (contentEvent !== undefined && event.event === contentEvent) {
        if (typeof event.content === 'string' && event.content !== '') {
          streamed = true;
          send(chunk({ content: event.content }));
        }
        return;
      }
      switch (event.event) {
        case 'ToolCallStarted': {
          const execution = event.tool as ToolExecution | undefined;
          if (!execution || !options.names.has(execution.tool_name ?? '')) break;
          send(chunk({ tool_calls: [{ index: toolCalls, ...toToolCall(execution) }] }));
          toolCalls += 1;
          break;
        }
        case 'ModelRequestCompleted':
        case 'TeamModelRequestCompleted':
          finishReason = finishReasonOf(event.finish_reason);
          break;
        default:
          break;
      }
    },
    onEnd: () => {
      // The final record holds the status, the whole output and the usage of every kind of run.
      handle.done.then(finish, () => finish(undefined));
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
}

/** Route table of `/v1`. */
export const openAiRoutes: FastifyPluginAsync<{ services: Services }> = async (fastify, { services }) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const { config, runs } = services;

  app.get('/models', {
    config: { access: { scope: 'agents:read', anyId: true } },
    schema: {
      summary: 'List callable models (agents, teams, workflows)',
      description:
        'OpenAI `GET /v1/models`: every agent (configured or created over `/api/agents` in the workspace), team ' +
        'and workflow the caller may read. A raw `provider:model` may also be named in a completion.',
      tags: ['OpenAI'],
      operationId: 'openaiListModels',
      response: { 200: modelList },
    },
    handler: async (request) => {
      const scopes = request.principal?.scopes ?? [];
      const created = epochSeconds(services.startedAt);
      const workspaceId = workspaceOf(request);
      const [stored, storedTeams, storedWorkflows] = await Promise.all([
        storedAgentEntries(services.store, config, workspaceId),
        storedTeamEntries(services.store, config, workspaceId),
        storedWorkflowEntries(services.store, workspaceId),
      ]);
      const entries = [
        ...config.agents.map((agent) => ({ resource: 'agents', id: agent.id, created })),
        ...stored.map((agent) => ({ resource: 'agents', id: agent.id, created })),
        ...[...config.teams, ...storedTeams].map((team) => ({ resource: 'teams', id: team.id, created })),
        ...[...config.workflows, ...storedWorkflows].map((workflow) => ({
          resource: 'workflows',
          id: workflow.id,
          created,
        })),
      ];
      return {
        object: 'list' as const,
        data: entries
          .filter((entry) => hasScope(scopes, { resource: entry.resource, action: 'read', id: entry.id }))
          .map((entry) => ({ id: entry.id, object: 'model' as const, created: entry.created, owned_by: 'agentos' })),
      };
    },
  });

  /**
   * A team or workflow as `model`: the last user message is its input, the earlier turns its history and
   * the system messages extra instructions, as for an agent (with `X-Session-Id` the stored session
   * history replaces the earlier turns); client-side tools are refused. A stream sends the leader's
   * tokens for a team, and the final output in one chunk for a workflow.
   */
  const composite = async (
    request: FastifyRequest,
    reply: FastifyReply,
    target: { kind: 'team' | 'workflow'; id: string },
  ) => {
    const body = request.body as ChatCompletionRequest;
    const resource = target.kind === 'team' ? 'teams' : 'workflows';
    if (!hasScope(request.principal?.scopes ?? [], { resource, action: 'run', id: target.id })) {
      throw new AgentOsError(
        'AOS_AUTH_FORBIDDEN',
        `Insufficient permissions. Required scope: ${resource}:${target.id}:run`,
        {
          details: { required: `${resource}:${target.id}:run` },
        },
      );
    }
    if ((body.tools ?? []).length > 0) {
      throw new AgentOsError(
        'AOS_BAD_REQUEST',
        `tools: client-side tools are supported for agents, not for a ${target.kind}`,
      );
    }
    const conversation = toConversation(body.messages);
    if (conversation.continuesToolCalls) {
      throw new AgentOsError('AOS_BAD_REQUEST', `A ${target.kind} takes a user message, not tool results`);
    }
    const workspaceId = workspaceOf(request);
    const pinned = effectiveUserId(request, config);
    const sessionId = (request.headers as Record<string, string | undefined>)['x-session-id'];
    const common = {
      workspaceId,
      message: conversation.message,
      sessionId,
      userId: pinned ?? body.user ?? undefined,
      userPinned: pinned !== undefined,
      principal: callerSubjectOf(request.principal),
      ...(sessionId === undefined ? { history: conversation.history } : {}),
      extraInstructions: conversation.extraInstructions,
      // A component may call only what its caller could run alone.
      mayRun: runAccessOf(fastify, request),
    };
    const handle =
      target.kind === 'team'
        ? await services.teams.start({ ...common, teamId: target.id })
        : await services.workflows.start({ ...common, workflowId: target.id });
    if (!body.stream) {
      const run = await handle.done;
      if (run.status === 'error') {
        return reply.code(502).send(
          formatErrorBody('openai', {
            status: 502,
            code: 'AOS_MODEL_PROVIDER_ERROR',
            message: `The run failed: ${run.error ?? 'unknown error'}`,
            requestId: request.id,
          }),
        );
      }
      return toCompletion(run, body.model, new Set());
    }
    return streamChunks(request, reply, {
      services,
      workspaceId,
      handle,
      model: body.model,
      names: new Set(),
      includeUsage: body.stream_options?.include_usage === true,
      contentEvent: target.kind === 'team' ? 'TeamRunContent' : undefined,
    });
  };

  app.post('/chat/completions/stream', {
    config: { access: { scope: 'agents:run', anyId: true }, rateLimitClass: 'message' },
    schema: {
      summary: 'Stream an agent reply (iii)',
      description:
        'iii’s `{agentId?, message, sessionId?}` (not the OpenAI body): the agent (`agentId`, else `default_agent`, ' +
        'else the first agent) answers as `chat.completion.chunk` frames sent as the model produces tokens, then ' +
        '`data: [DONE]`. Errors before the stream starts use the OpenAI error body.',
      tags: ['OpenAI'],
      operationId: 'iiiStreamChat',
      body: z.object({
        agentId: z.string().min(1).max(256).optional(),
        message: z.string().min(1).max(100_000),
        sessionId: z.string().min(1).max(128).optional(),
      }),
    },
    handler: async (request, reply) => {
      const body = request.body;
      const workspaceId = workspaceOf(request);
      const agentId = body.agentId ?? config.default_agent ?? config.agents[0]?.id;
      if (agentId === undefined) throw new NotFoundError('No agent to answer: send agentId or set default_agent');
      if (!hasScope(request.principal?.scopes ?? [], { resource: 'agents', action: 'run', id: agentId })) {
        throw new AgentOsError(
          'AOS_AUTH_FORBIDDEN',
          `Insufficient permissions. Required scope: agents:${agentId}:run`,
          {
            details: { required: `agents:${agentId}:run` },
          },
        );
      }
      const pinned = effectiveUserId(request, config);
      const handle = await runs.start({
        workspaceId,
        agentId,
        message: body.message,
        sessionId: body.sessionId,
        userId: pinned,
        userPinned: pinned !== undefined,
        principal: callerSubjectOf(request.principal),
      });
      return streamChunks(request, reply, {
        services,
        workspaceId,
        handle,
        model: agentId,
        names: new Set(),
        contentEvent: 'RunContent',
      });
    },
  });

  app.post('/chat/completions', {
    config: { access: { scope: 'agents:run', anyId: true }, rateLimitClass: 'message' },
    schema: {
      summary: 'Create a chat completion (runs an agent or a raw model)',
      description:
        'OpenAI Chat Completions. `model` is an agent id (or `agent:<id>`; config agents, then the workspace’s ' +
        'database agents), a team or workflow id (config or `/components`; needs `teams:<id>:run` / ' +
        '`workflows:<id>:run`) or a raw `provider:model` (needs `agents:run` on every agent). The request `messages` are ' +
        'the conversation: system messages extend the agent (or team leader) instructions, the last user message is ' +
        'the run message; a workflow hands both to its agent steps. ' +
        'With `X-Session-Id` the stored session history is used instead of the earlier messages. `user` sets the ' +
        'run user id. `tools` are client-side: a call to one ends the run with `finish_reason: "tool_calls"`; send ' +
        'the results back as `tool` messages. `stream=true` answers `chat.completion.chunk` frames then `data: [DONE]`.',
      tags: ['OpenAI'],
      operationId: 'openaiCreateChatCompletion',
      headers: chatCompletionHeaders,
      body: chatCompletionRequest,
      response: { 200: chatCompletion, 502: openAiError },
    },
    handler: async (request, reply) => {
      const body = request.body;
      const workspaceId = workspaceOf(request);
      const target = await resolveModel(services, workspaceId, body.model);
      if (target.kind !== 'agent') return composite(request, reply, target);
      const scopes = request.principal?.scopes ?? [];
      // A raw model is no agent: only a caller allowed to run every agent may call it.
      const required = target.raw ? 'agents:run' : `agents:${target.agentId}:run`;
      if (!hasScope(scopes, { resource: 'agents', action: 'run', ...(target.raw ? {} : { id: target.agentId }) })) {
        throw new AgentOsError('AOS_AUTH_FORBIDDEN', `Insufficient permissions. Required scope: ${required}`, {
          details: { required },
        });
      }
      const conversation = toConversation(body.messages);
      const agent = target.agent;
      const client = clientToolsOf(
        body,
        agent.tools.map((entry) => entry.name),
      );
      const sessionId = request.headers['x-session-id'];
      const pinned = effectiveUserId(request, config);
      const maxTokens = body.max_completion_tokens ?? body.max_tokens ?? undefined;
      // Tool results continue the request's own conversation, which the stored history lacks.
      const useRequestHistory = sessionId === undefined || conversation.continuesToolCalls;
      const handle = await runs.start({
        workspaceId,
        agentId: target.agentId,
        agent,
        message: conversation.message,
        messageInHistory: conversation.continuesToolCalls,
        sessionId,
        userId: pinned ?? body.user ?? undefined,
        userPinned: pinned !== undefined,
        principal: callerSubjectOf(request.principal),
        ...(useRequestHistory ? { history: conversation.history } : {}),
        extraInstructions: conversation.extraInstructions,
        temperature: body.temperature ?? undefined,
        maxOutputTokens: maxTokens,
        clientTools: client.tools,
        toolChoice: client.toolChoice,
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
        return toCompletion(run, body.model, client.names);
      }

      return streamChunks(request, reply, {
        services,
        workspaceId,
        handle,
        model: body.model,
        names: client.names,
        includeUsage: body.stream_options?.include_usage === true,
        contentEvent: 'RunContent',
      });
    },
  });
};
