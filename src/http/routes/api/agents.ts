/**
 * `/api/agents` for iii (seed 000) and Automatos (seed 004) clients, one body serving both (CONTRACT.md §3):
 * list, create, read, update, soft delete, `message`, `sessions`, plugin assignment, persona assignment and
 * `assembled-context`. Config agents are listed and runnable but read-only. Every agent, wherever it was
 * defined, runs through the one runtime (`RunManager.resolveAgent`).
 * @module
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { assembleContext, createAgent, setAgentPlugins, updateAgent } from '../../../agents/agent-admin.js';
import { callerSubjectOf, hasScope } from '../../../auth/index.js';
import { idSchema } from '../../../config/index.js';
import { AgentOsError, ConflictError, NotFoundError } from '../../../errors/index.js';
import type { Services } from '../../../services.js';
import type { StoredAgent } from '../../../store/types.js';
import { workspaceOf } from '../../plugins/access-control.js';
import { effectiveUserId } from '../../user-scope.js';
import {
  type AgentView,
  agentView,
  assignedPluginView,
  personaView,
  toAssignedPluginView,
  toConfigAgentView,
  toDbAgentView,
  toPersonaView,
} from './agent-views.js';
import { runToCompletion } from './run-once.js';

/** agtOS caps bodies at 1 MB; a smaller server `body_limit` still wins. */
const API_BODY_LIMIT = 1024 * 1024;

const modelObject = z
  .object({ provider: z.string().min(1), model: z.string().min(1), maxTokens: z.number().int().positive().optional() })
  .loose();

const agentFields = {
  name: z.string().trim().min(1).max(255),
  description: z.string().max(10_000).nullish(),
  type: z.string().min(1).max(64).optional(),
  agent_type: z.string().min(1).max(64).optional(),
  model_config: z
    .object({
      model_id: z.string().max(256).optional(),
      temperature: z.number().min(0).max(2).optional(),
      max_tokens: z.number().int().positive().optional(),
    })
    .loose()
    .optional(),
  model: z.union([z.string().max(256), modelObject]).optional(),
  persona_id: z.string().min(1).max(128).nullish(),
  use_custom_persona: z.boolean().optional(),
  custom_persona_prompt: z.string().max(200_000).nullish(),
  systemPrompt: z.string().max(200_000).optional(),
  instructions: z.string().max(200_000).optional(),
  tools: z.array(z.string().max(64)).max(64).optional(),
  tool_ids: z.array(z.string().max(64)).max(64).optional(),
  tags: z.array(z.string().max(64)).max(64).optional(),
  configuration: z.record(z.string(), z.unknown()).optional(),
};

const createBody = z
  .object({ ...agentFields, id: idSchema.optional(), status: z.enum(['active', 'idle']).optional() })
  .loose();
const updateBody = z
  .object({
    ...agentFields,
    name: agentFields.name.optional(),
    status: z.enum(['active', 'idle', 'failed']).optional(),
  })
  .loose();

const listQuery = z.object({
  skip: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  status: z.enum(['active', 'idle', 'failed', 'deleted']).optional(),
  agent_type: z.string().max(64).optional(),
  type: z.string().max(64).optional(),
  search: z.string().max(255).optional(),
});

const agentParams = z.object({ id: idSchema });

const messageBody = z.object({
  message: z.string().min(1).max(100_000),
  sessionId: z.string().min(1).max(128).optional(),
  userId: z.string().min(1).max(256).optional(),
});

const messageResponse = z.object({
  content: z.string(),
  model: z.string(),
  usage: z.object({ input: z.number().int(), output: z.number().int(), total: z.number().int() }),
  iterations: z.number().int().describe('Model requests the run made'),
  sessionId: z.string(),
  runId: z.string(),
});

const sessionView = z.object({
  id: z.string(),
  sessionId: z.string(),
  agentId: z.string(),
  userId: z.string().nullable(),
  name: z.string().nullable(),
  createdAt: z.number().int(),
  updatedAt: z.number().int(),
});

const contextResponse = z.object({
  agent_id: z.string(),
  model: z.string(),
  temperature: z.number().nullable(),
  system_prompt: z.string(),
  persona: personaView.nullable(),
  plugins_loaded: z.array(assignedPluginView),
  skills: z.array(z.object({ id: z.string(), slug: z.string(), name: z.string() })),
  tools: z.array(z.string()),
  token_estimate: z.number().int(),
  sections: z.array(
    z.object({ name: z.string(), included: z.boolean(), chars: z.number().int(), reason: z.string().optional() }),
  ),
});

const pluginsBody = z.object({ plugin_ids: z.array(z.string().min(1).max(128)).max(100) });

const personaAssignBody = z.object({
  persona_id: z.string().min(1).max(128).nullish(),
  custom_prompt: z.string().max(200_000).nullish(),
  use_custom: z.boolean().optional(),
});

/**
 * Fields of the other seed's agent that agentos does not interpret (iii `toolProfile`, `capabilities`,
 * `resources`, `persona`, …) are kept in `configuration`, so a client reads back what it wrote.
 */
function withExtras<T extends { configuration?: Record<string, unknown> | undefined }>(
  body: T,
  known: Record<string, unknown>,
): T {
  const extras = Object.fromEntries(Object.entries(body).filter(([key]) => !Object.hasOwn(known, key)));
  if (Object.keys(extras).length === 0) return body;
  return { ...body, configuration: { ...extras, ...body.configuration } };
}

/** Per-agent read filter for lists. */
function readable(request: FastifyRequest, id: string): boolean {
  return hasScope(request.principal?.scopes ?? [], { resource: 'agents', action: 'read', id });
}

/** Route table of `/api/agents…`. */
export const apiAgentRoutes: FastifyPluginAsync<{ services: Services }> = async (fastify, { services }) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const bodyLimit = Math.min(services.config.server.body_limit, API_BODY_LIMIT);
  const { config, store } = services;
  const configAgent = (id: string) => config.agents.find((agent) => agent.id === id);

  const viewOf = async (agent: StoredAgent): Promise<AgentView> =>
    toDbAgentView(agent, await store.agents.listAgentPlugins(agent.workspaceId, agent.agentId), config);

  /** A database agent of the workspace; config agents are read-only (409), missing ones 404. */
  const editable = async (request: FastifyRequest, id: string, options: { includeDeleted?: boolean } = {}) => {
    if (configAgent(id)) {
      throw new ConflictError(`Agent ${id} is defined in the config file (${services.configSource}); edit it there`);
    }
    const agent = await store.agents.get(workspaceOf(request), id, options);
    if (!agent) throw new NotFoundError('Agent not found');
    return agent;
  };

  app.get('/agents', {
    config: { access: { scope: 'agents:read', anyId: true } },
    schema: {
      summary: 'List agents (iii / Automatos)',
      description:
        'A JSON array of agent objects with the iii and Automatos fields: config agents (read-only) then the ' +
        'workspace’s database agents, newest first. Filters: `status`, `agent_type` (or `type`), `search` (name or ' +
        'description); `skip` and `limit` page the list. Deleted agents appear only with `status=deleted`.',
      tags: ['API'],
      operationId: 'apiListAgents',
      querystring: listQuery,
      response: { 200: z.array(agentView) },
    },
    handler: async (request) => {
      const { skip, limit, status, search } = request.query;
      const type = request.query.agent_type ?? request.query.type;
      const needle = search?.toLowerCase();
      const fromConfig = config.agents
        .map((agent) => toConfigAgentView(agent, config, services.startedAt))
        .filter(
          (view) =>
            (status === undefined || view.status === status) &&
            (type === undefined || view.agent_type === type) &&
            (needle === undefined ||
              view.name.toLowerCase().includes(needle) ||
              (view.description ?? '').toLowerCase().includes(needle)),
        );
      const stored = await store.agents.list({
        workspaceId: workspaceOf(request),
        limit: 1000,
        ...(status === undefined ? {} : { status }),
        ...(type === undefined ? {} : { agentType: type }),
        ...(search === undefined ? {} : { search }),
      });
      const fromDb = await Promise.all(stored.items.map(viewOf));
      return [...fromConfig, ...fromDb].filter((view) => readable(request, view.id)).slice(skip, skip + limit);
    },
  });

  app.post('/agents', {
    config: { access: { scope: 'agents:write' } },
    bodyLimit: bodyLimit,
    schema: {
      summary: 'Create an agent (stored in the database)',
      description:
        'Accepts the Automatos body (`name` ≤ 255, `agent_type`/`type`, `description`, `model_config{model_id, ' +
        'temperature, max_tokens}`, `persona_id`, `use_custom_persona`, `custom_persona_prompt`, `tool_ids`) and the ' +
        'iii one (`id`, `model{provider, model, maxTokens}`, `systemPrompt`, `tools`, `tags`). 201 with the agent ' +
        'object plus `agentId`. The agent runs on every surface at once.',
      tags: ['API'],
      operationId: 'apiCreateAgent',
      body: createBody,
      response: { 201: agentView.extend({ agentId: z.string() }) },
    },
    handler: async (request, reply) => {
      const agent = await createAgent(store, config, workspaceOf(request), withExtras(request.body, createBody.shape));
      return reply.code(201).send({ ...(await viewOf(agent)), agentId: agent.agentId });
    },
  });

  app.get('/agents/:id', {
    config: { access: { scope: 'agents:read', scopeParam: 'id' } },
    schema: {
      summary: 'Get one agent (iii / Automatos)',
      tags: ['API'],
      operationId: 'apiGetAgent',
      params: agentParams,
      response: { 200: agentView },
    },
    handler: async (request) => {
      const fromConfig = configAgent(request.params.id);
      if (fromConfig) return toConfigAgentView(fromConfig, config, services.startedAt);
      const agent = await store.agents.get(workspaceOf(request), request.params.id);
      if (!agent) throw new NotFoundError('Agent not found');
      return viewOf(agent);
    },
  });

  app.put('/agents/:id', {
    config: { access: { scope: 'agents:write', scopeParam: 'id' } },
    bodyLimit: bodyLimit,
    schema: {
      summary: 'Update an agent (partial)',
      description:
        'Changes only the fields sent; `configuration` is merged. `status` follows active ↔ idle ↔ failed (an ' +
        'active agent may fail; a failed one goes back to idle first); a deleted agent cannot change: 400 ' +
        '`AOS_AGENT_INVALID_TRANSITION`. Config agents answer 409.',
      tags: ['API'],
      operationId: 'apiUpdateAgent',
      params: agentParams,
      body: updateBody,
      response: { 200: agentView },
    },
    handler: async (request) => {
      const current = await editable(request, request.params.id, { includeDeleted: true });
      return viewOf(
        await updateAgent(store, workspaceOf(request), current, withExtras(request.body, updateBody.shape)),
      );
    },
  });

  app.delete('/agents/:id', {
    config: { access: { scope: 'agents:write', scopeParam: 'id' } },
    schema: {
      summary: 'Delete an agent (soft)',
      description: 'Marks the agent `deleted` (final); it stops answering. 204. Config agents answer 409.',
      tags: ['API'],
      operationId: 'apiDeleteAgent',
      params: agentParams,
      response: { 204: z.null() },
    },
    handler: async (request, reply) => {
      const current = await editable(request, request.params.id);
      await store.agents.update(workspaceOf(request), current.agentId, { status: 'deleted', deletedAt: Date.now() });
      return reply.code(204).send(null);
    },
  });

  app.post('/agents/:id/message', {
    config: { access: { scope: 'agents:run', scopeParam: 'id' }, rateLimitClass: 'message' },
    bodyLimit: bodyLimit,
    schema: {
      summary: 'Send a message to an agent (iii)',
      description:
        'Runs the agent to its end and answers `{content, model, usage{input, output, total}, iterations}` ' +
        '(plus `sessionId` and `runId`). With `sessionId` the session’s history is used. 502 when the model failed.',
      tags: ['API'],
      operationId: 'apiMessageAgent',
      params: agentParams,
      body: messageBody,
      response: { 200: messageResponse },
    },
    handler: async (request) => {
      const pinned = effectiveUserId(request, config);
      const outcome = await runToCompletion(services, {
        workspaceId: workspaceOf(request),
        agentId: request.params.id,
        message: request.body.message,
        sessionId: request.body.sessionId,
        userId: pinned ?? request.body.userId,
        userPinned: pinned !== undefined,
        principal: callerSubjectOf(request.principal),
      });
      const metrics = outcome.run.metrics;
      const input = Number(metrics.input_tokens ?? 0);
      const output = Number(metrics.output_tokens ?? 0);
      return {
        content: outcome.run.content ?? '',
        model: outcome.model,
        usage: { input, output, total: input + output },
        iterations: outcome.steps,
        sessionId: outcome.run.sessionId,
        runId: outcome.run.runId,
      };
    },
  });

  app.get('/agents/:id/sessions', {
    config: { access: { scope: 'agents:read', scopeParam: 'id' } },
    schema: {
      summary: 'List an agent’s sessions (iii)',
      description: 'A JSON array, newest first (at most 1000).',
      tags: ['API'],
      operationId: 'apiListAgentSessions',
      params: agentParams,
      response: { 200: z.array(sessionView) },
    },
    handler: async (request) => {
      const workspaceId = workspaceOf(request);
      await services.runs.resolveAgent(workspaceId, request.params.id);
      const pinned = effectiveUserId(request, config);
      const page = await store.sessions.list({
        workspaceId,
        sessionType: 'agent',
        componentId: request.params.id,
        limit: 1000,
        ...(pinned === undefined ? {} : { userId: pinned }),
      });
      return page.items.map((session) => ({
        id: session.sessionId,
        sessionId: session.sessionId,
        agentId: session.componentId,
        userId: session.userId,
        name: session.sessionName,
        createdAt: session.createdAt,
        updatedAt: session.updatedAt,
      }));
    },
  });

  app.get('/agents/:id/assembled-context', {
    config: { access: { scope: 'agents:read', scopeParam: 'id' } },
    schema: {
      summary: 'The exact context the agent’s next run receives (Automatos)',
      description:
        'System prompt, model, temperature, persona, plugins/skills, tools and a token estimate (characters / 4), ' +
        'built by the function the runtime uses, so `system_prompt` is byte for byte what the model receives ' +
        '(before any per-request system messages). `sections` says which parts went in and why others did not.',
      tags: ['API'],
      operationId: 'apiAgentAssembledContext',
      params: agentParams,
      response: { 200: contextResponse },
    },
    handler: async (request) => {
      const workspaceId = workspaceOf(request);
      const agent = await services.runs.resolveAgent(workspaceId, request.params.id);
      const context = assembleContext(agent, config);
      const stored = agent.source === 'db' ? await store.agents.get(workspaceId, agent.id) : null;
      const [persona, plugins] = await Promise.all([
        stored?.personaId ? store.agents.getPersona(workspaceId, stored.personaId) : Promise.resolve(null),
        stored ? store.agents.listAgentPlugins(workspaceId, stored.agentId) : Promise.resolve([]),
      ]);
      request.log.debug({ agent: agent.id, sections: context.sections }, 'assembled agent context');
      return {
        agent_id: context.agentId,
        model: context.model,
        temperature: context.temperature,
        system_prompt: context.systemPrompt,
        persona: persona && !stored?.useCustomPersona ? toPersonaView(persona) : null,
        plugins_loaded: plugins.map(toAssignedPluginView),
        skills: plugins.map(({ plugin }) => ({ id: plugin.pluginId, slug: plugin.slug, name: plugin.name })),
        tools: context.tools,
        token_estimate: context.tokenEstimate,
        sections: context.sections,
      };
    },
  });

  app.get('/agents/:id/plugins', {
    config: { access: { scope: 'agents:read', scopeParam: 'id' } },
    schema: {
      summary: 'An agent’s plugins by priority (Automatos)',
      tags: ['API'],
      operationId: 'apiListAgentPlugins',
      params: agentParams,
      response: { 200: z.object({ items: z.array(assignedPluginView) }) },
    },
    handler: async (request) => {
      // Config agents have no plugins (they are assigned in the database).
      if (configAgent(request.params.id)) return { items: [] };
      const agent = await editable(request, request.params.id);
      const plugins = await store.agents.listAgentPlugins(agent.workspaceId, agent.agentId);
      return { items: plugins.map(toAssignedPluginView) };
    },
  });

  app.put('/agents/:id/plugins', {
    config: { access: { scope: 'agents:write', scopeParam: 'id' } },
    bodyLimit: bodyLimit,
    schema: {
      summary: 'Replace an agent’s plugins (Automatos)',
      description:
        'Replace-set: duplicates are dropped keeping the first, the list order is the priority, every plugin must ' +
        'be enabled for the workspace (else 400 `AOS_PLUGINS_NOT_ENABLED` naming the others). All assigned ' +
        'plugins go into the prompt; `token_estimate` and `warning` tell the cost now rather than at run time.',
      tags: ['API'],
      operationId: 'apiSetAgentPlugins',
      params: agentParams,
      body: pluginsBody,
      response: {
        200: z.object({
          success: z.literal(true),
          message: z.string(),
          agent_id: z.string(),
          plugin_ids: z.array(z.string()),
          token_estimate: z.number().int(),
          warning: z.string().optional(),
        }),
      },
    },
    handler: async (request) => {
      const agent = await editable(request, request.params.id);
      const pluginIds = await setAgentPlugins(store, agent.workspaceId, agent.agentId, request.body.plugin_ids);
      const assigned = await store.agents.listAgentPlugins(agent.workspaceId, agent.agentId);
      const tokens = assigned.reduce((sum, entry) => sum + Math.ceil(entry.plugin.content.length / 4), 0);
      return {
        success: true as const,
        message: `${pluginIds.length} plugin(s) assigned`,
        agent_id: agent.agentId,
        plugin_ids: pluginIds,
        token_estimate: tokens,
        // Automatos warns around 15K tokens at assignment time instead of dropping skills at run time.
        ...(tokens > 15_000 ? { warning: `The assigned plugins add about ${tokens} tokens to every run` } : {}),
      };
    },
  });

  app.get('/agents/:id/persona', {
    config: { access: { scope: 'agents:read', scopeParam: 'id' } },
    schema: {
      summary: 'An agent’s persona settings (Automatos)',
      tags: ['API'],
      operationId: 'apiGetAgentPersona',
      params: agentParams,
      response: {
        200: z.object({
          persona_id: z.string().nullable(),
          persona: personaView.nullable(),
          custom_prompt: z.string().nullable(),
          use_custom: z.boolean(),
        }),
      },
    },
    handler: async (request) => {
      if (configAgent(request.params.id))
        return { persona_id: null, persona: null, custom_prompt: null, use_custom: false };
      const agent = await editable(request, request.params.id);
      const persona = agent.personaId ? await store.agents.getPersona(agent.workspaceId, agent.personaId) : null;
      return {
        persona_id: agent.personaId,
        persona: persona ? toPersonaView(persona) : null,
        custom_prompt: agent.customPersonaPrompt,
        use_custom: agent.useCustomPersona,
      };
    },
  });

  app.put('/agents/:id/persona', {
    config: { access: { scope: 'agents:write', scopeParam: 'id' } },
    bodyLimit: bodyLimit,
    schema: {
      summary: 'Set an agent’s persona or custom prompt (Automatos)',
      tags: ['API'],
      operationId: 'apiSetAgentPersona',
      params: agentParams,
      body: personaAssignBody,
      response: { 200: agentView },
    },
    handler: async (request) => {
      const agent = await editable(request, request.params.id);
      const body = request.body;
      if (body.use_custom && !(body.custom_prompt ?? agent.customPersonaPrompt)) {
        throw new AgentOsError('AOS_BAD_REQUEST', 'use_custom needs a custom_prompt');
      }
      return viewOf(
        await updateAgent(store, agent.workspaceId, agent, {
          ...(body.persona_id === undefined ? {} : { persona_id: body.persona_id }),
          ...(body.custom_prompt === undefined ? {} : { custom_persona_prompt: body.custom_prompt }),
          ...(body.use_custom === undefined ? {} : { use_custom_persona: body.use_custom }),
        }),
      );
    },
  });
};
