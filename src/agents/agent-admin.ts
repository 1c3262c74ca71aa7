/**
 * What `/api/agents` does to database agents, free of HTTP: normalising the iii and Automatos request
 * shapes into one record, validating models, tools and personas, the plugin replace-set, and the
 * assembled context (built by the runtime's own prompt assembler).
 * @module
 */
import { randomUUID } from 'node:crypto';
import { type AgentOsConfig, parseModelId } from '../config/index.js';
import { AgentOsError, ConflictError, NotFoundError } from '../errors/index.js';
import { assembleSystemPrompt, estimateTokens, type RuntimeAgent } from '../runtime/agent/context.js';
import type { Store, StoredAgent, StoredAgentCreate, StoredAgentUpdate } from '../store/types.js';
import { assertAgentTransition } from './status.js';
import { isDbAgentTool } from './tools.js';

/** The fields both seeds send, after zod validation (every one optional except `name` on create). */
export interface AgentInput {
  id?: string | undefined;
  name?: string | undefined;
  description?: string | null | undefined;
  type?: string | undefined;
  agent_type?: string | undefined;
  model_config?: Record<string, unknown> | undefined;
  /** iii: `{provider, model, maxTokens}`; also accepted as a `provider:model` string. */
  model?: string | { provider: string; model: string; maxTokens?: number | undefined } | undefined;
  persona_id?: string | null | undefined;
  use_custom_persona?: boolean | undefined;
  custom_persona_prompt?: string | null | undefined;
  systemPrompt?: string | undefined;
  instructions?: string | undefined;
  tools?: string[] | undefined;
  tool_ids?: string[] | undefined;
  tags?: string[] | undefined;
  configuration?: Record<string, unknown> | undefined;
  status?: 'active' | 'idle' | 'failed' | undefined;
}

function modelConfigOf(input: AgentInput, base: Record<string, unknown>): Record<string, unknown> | undefined {
  if (input.model_config === undefined && input.model === undefined) return undefined;
  const next: Record<string, unknown> = { ...base, ...input.model_config };
  if (typeof input.model === 'string') next.model_id = input.model;
  else if (input.model !== undefined) {
    next.model_id = `${input.model.provider}:${input.model.model}`;
    if (input.model.maxTokens !== undefined) next.max_tokens = input.model.maxTokens;
  }
  delete next.provider;
  delete next.model;
  const modelId = next.model_id;
  if (modelId !== undefined && (typeof modelId !== 'string' || parseModelId(modelId) === null)) {
    throw new AgentOsError(
      'AOS_MODEL_UNKNOWN',
      `model_config.model_id: ${JSON.stringify(modelId)} is not a known provider:model`,
    );
  }
  return next;
}

function toolsOf(input: AgentInput): string[] | undefined {
  const tools = input.tools ?? input.tool_ids;
  if (tools === undefined) return undefined;
  const unknown = tools.filter((name) => !isDbAgentTool(name));
  if (unknown.length > 0) {
    throw new AgentOsError('AOS_BAD_REQUEST', `tools: not built-in tools an API agent may use: ${unknown.join(', ')}`);
  }
  return [...new Set(tools)];
}

async function checkPersona(store: Store, workspaceId: string, personaId: string | null | undefined): Promise<void> {
  if (personaId === undefined || personaId === null) return;
  if (!(await store.agents.getPersona(workspaceId, personaId))) {
    throw new AgentOsError('AOS_BAD_REQUEST', `persona_id: persona ${personaId} does not exist in this workspace`);
  }
}

/** Creates a database agent; ids of config agents, teams and workflows are refused (409). */
export async function createAgent(
  store: Store,
  config: AgentOsConfig,
  workspaceId: string,
  input: AgentInput & { name: string },
): Promise<StoredAgent> {
  const agentId = input.id ?? randomUUID();
  const taken = [...config.agents, ...config.teams, ...config.workflows].some((entry) => entry.id === agentId);
  if (taken) throw new ConflictError(`The id ${agentId} is already used by the config`);
  if (await store.agents.getComponent(workspaceId, agentId)) {
    throw new ConflictError(`The id ${agentId} is already used by a component`);
  }
  const name = input.name.trim();
  const sameName = await store.agents.list({ workspaceId, search: name, limit: 1000 });
  if (sameName.items.some((agent) => agent.name.toLowerCase() === name.toLowerCase())) {
    // Automatos: agent names are unique per workspace.
    throw new ConflictError(`An agent named "${name}" already exists in this workspace`);
  }
  await checkPersona(store, workspaceId, input.persona_id);
  const create: StoredAgentCreate = {
    workspaceId,
    agentId,
    name,
    agentType: input.agent_type ?? input.type ?? 'custom',
    description: input.description ?? null,
    status: input.status === 'idle' ? 'idle' : 'active',
    modelConfig: modelConfigOf(input, {}) ?? {},
    personaId: input.persona_id ?? null,
    useCustomPersona: input.use_custom_persona ?? false,
    customPersonaPrompt: input.custom_persona_prompt ?? null,
    instructions: input.systemPrompt ?? input.instructions ?? null,
    tools: toolsOf(input) ?? [],
    tags: input.tags ?? [],
    configuration: input.configuration ?? {},
  };
  return store.agents.create(create);
}

/** Applies a partial update (configuration merged, status through the state machine). */
export async function updateAgent(
  store: Store,
  workspaceId: string,
  current: StoredAgent,
  input: AgentInput,
): Promise<StoredAgent> {
  if (current.status === 'deleted') assertAgentTransition(current.agentId, 'deleted', input.status ?? 'active');
  if (input.status !== undefined) assertAgentTransition(current.agentId, current.status, input.status);
  await checkPersona(store, workspaceId, input.persona_id);
  const patch: StoredAgentUpdate = {};
  if (input.name !== undefined) patch.name = input.name.trim();
  if (input.description !== undefined) patch.description = input.description;
  const agentType = input.agent_type ?? input.type;
  if (agentType !== undefined) patch.agentType = agentType;
  if (input.status !== undefined) patch.status = input.status;
  const modelConfig = modelConfigOf(input, current.modelConfig);
  if (modelConfig !== undefined) patch.modelConfig = modelConfig;
  if (input.persona_id !== undefined) patch.personaId = input.persona_id;
  if (input.use_custom_persona !== undefined) patch.useCustomPersona = input.use_custom_persona;
  if (input.custom_persona_prompt !== undefined) patch.customPersonaPrompt = input.custom_persona_prompt;
  const instructions = input.systemPrompt ?? input.instructions;
  if (instructions !== undefined) patch.instructions = instructions;
  const tools = toolsOf(input);
  if (tools !== undefined) patch.tools = tools;
  if (input.tags !== undefined) patch.tags = input.tags;
  if (input.configuration !== undefined) patch.configuration = { ...current.configuration, ...input.configuration };
  const updated = await store.agents.update(workspaceId, current.agentId, patch);
  if (!updated) throw new NotFoundError('Agent not found');
  return updated;
}

/**
 * Replaces an agent's plugins: duplicates dropped keeping the first, every id must be enabled for the
 * workspace (400 naming the others), priority = position.
 */
export async function setAgentPlugins(
  store: Store,
  workspaceId: string,
  agentId: string,
  requested: readonly string[],
): Promise<string[]> {
  const pluginIds = [...new Set(requested)];
  const enabled = new Set((await store.agents.listEnabledPlugins(workspaceId)).map((plugin) => plugin.pluginId));
  const missing = pluginIds.filter((id) => !enabled.has(id));
  if (missing.length > 0) {
    throw new AgentOsError('AOS_PLUGINS_NOT_ENABLED', `Plugins not enabled for workspace: ${missing.join(', ')}`, {
      details: { plugin_ids: missing },
    });
  }
  await store.agents.setAgentPlugins(workspaceId, agentId, pluginIds);
  return pluginIds;
}

/** What `GET /api/agents/{id}/assembled-context` returns, in the runtime's terms. */
export interface AssembledContext {
  agentId: string;
  model: string;
  temperature: number | null;
  systemPrompt: string;
  sections: ReturnType<typeof assembleSystemPrompt>['sections'];
  tools: string[];
  tokenEstimate: number;
}

/** Assembles an agent's context exactly as the next run will (same agent lookup, same prompt function). */
export function assembleContext(agent: RuntimeAgent, config: AgentOsConfig): AssembledContext {
  const prompt = assembleSystemPrompt({
    agentName: agent.name ?? agent.id,
    instructions: agent.instructions,
    promptSections: agent.promptSections,
  });
  return {
    agentId: agent.id,
    model: agent.model ?? config.models.default,
    temperature: agent.temperature ?? null,
    systemPrompt: prompt.systemPrompt,
    sections: prompt.sections,
    tools: agent.tools.map((entry) => entry.name),
    tokenEstimate: estimateTokens(prompt.systemPrompt),
  };
}
