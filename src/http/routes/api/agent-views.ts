/**
 * The agent object of `/api/agents`: one body carrying the iii fields (`model{provider, model, maxTokens}`,
 * `systemPrompt`, `createdAt`) and the Automatos ones (`agent_type`, `status`, `plugins`, `model_config`,
 * `created_at`, …), CONTRACT.md §3. Config agents appear too, read-only (`source: "config"`).
 * Timestamps are epoch milliseconds, as everywhere on `/api`.
 * @module
 */
import { z } from 'zod';
import { modelIdOf } from '../../../agents/runtime-agent.js';
import type { AgentConfig, AgentOsConfig } from '../../../config/index.js';
import type { AgentPluginRecord, PersonaRecord, PluginRecord, StoredAgent } from '../../../store/types.js';

export const pluginView = z.object({
  plugin_id: z.string(),
  slug: z.string(),
  name: z.string(),
  version: z.string(),
  description: z.string().nullable(),
  tags: z.array(z.string()),
  token_estimate: z.number().int(),
  created_at: z.number().int(),
});

export const assignedPluginView = pluginView.extend({ priority: z.number().int(), assigned_at: z.number().int() });

export const personaView = z.object({
  id: z.string(),
  slug: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  system_prompt: z.string(),
  suggested_temperature: z.number().nullable(),
  category: z.string().nullable(),
  tags: z.array(z.string()),
  scope: z.enum(['global', 'workspace']),
  created_at: z.number().int(),
  updated_at: z.number().int(),
});

export const agentView = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  source: z.enum(['config', 'db']),
  // iii
  model: z.object({ provider: z.string(), model: z.string(), maxTokens: z.number().int().optional() }),
  systemPrompt: z.string().nullable(),
  createdAt: z.number().int(),
  // Automatos
  agent_type: z.string(),
  status: z.enum(['active', 'idle', 'failed', 'deleted']),
  configuration: z.record(z.string(), z.unknown()),
  skills: z.array(z.object({ id: z.string(), slug: z.string(), name: z.string() })),
  tools: z.array(z.string()),
  plugins: z.array(assignedPluginView),
  tags: z.array(z.string()),
  model_config: z.record(z.string(), z.unknown()),
  agent_model_config: z.record(z.string(), z.unknown()),
  persona_id: z.string().nullable(),
  use_custom_persona: z.boolean(),
  custom_persona_prompt: z.string().nullable(),
  priority_level: z.string(),
  max_concurrent_tasks: z.number().int(),
  auto_start: z.boolean(),
  performance_metrics: z.record(z.string(), z.unknown()),
  created_by: z.string().nullable(),
  created_at: z.number().int(),
  updated_at: z.number().int(),
  deleted_at: z.number().int().nullable(),
});
export type AgentView = z.infer<typeof agentView>;

/** Automatos' token estimate: a quarter of the characters. */
const tokensOf = (text: string) => Math.ceil(text.length / 4);

export function toPluginView(plugin: PluginRecord): z.infer<typeof pluginView> {
  return {
    plugin_id: plugin.pluginId,
    slug: plugin.slug,
    name: plugin.name,
    version: plugin.version,
    description: plugin.description,
    tags: plugin.tags,
    token_estimate: tokensOf(plugin.content),
    created_at: plugin.createdAt,
  };
}

export function toAssignedPluginView(entry: AgentPluginRecord): z.infer<typeof assignedPluginView> {
  return { ...toPluginView(entry.plugin), priority: entry.priority, assigned_at: entry.assignedAt };
}

export function toPersonaView(persona: PersonaRecord): z.infer<typeof personaView> {
  return {
    id: persona.personaId,
    slug: persona.slug,
    name: persona.name,
    description: persona.description,
    system_prompt: persona.systemPrompt,
    suggested_temperature: persona.suggestedTemperature,
    category: persona.category,
    tags: persona.tags,
    scope: persona.workspaceId === null ? 'global' : 'workspace',
    created_at: persona.createdAt,
    updated_at: persona.updatedAt,
  };
}

function splitModel(id: string, maxTokens: unknown) {
  const colon = id.indexOf(':');
  return {
    provider: id.slice(0, colon),
    model: id.slice(colon + 1),
    ...(typeof maxTokens === 'number' ? { maxTokens } : {}),
  };
}

/** The view of a database agent with its plugins. */
export function toDbAgentView(agent: StoredAgent, plugins: AgentPluginRecord[], config: AgentOsConfig): AgentView {
  const modelId = modelIdOf(agent.modelConfig) ?? config.models.default;
  const settings = agent.configuration;
  return {
    id: agent.agentId,
    name: agent.name,
    description: agent.description,
    source: 'db',
    model: splitModel(modelId, agent.modelConfig.max_tokens),
    systemPrompt: agent.instructions,
    createdAt: agent.createdAt,
    agent_type: agent.agentType,
    status: agent.status,
    configuration: settings,
    skills: plugins.map(({ plugin }) => ({ id: plugin.pluginId, slug: plugin.slug, name: plugin.name })),
    tools: agent.tools,
    plugins: plugins.map(toAssignedPluginView),
    tags: agent.tags,
    model_config: { ...agent.modelConfig, model_id: modelId },
    agent_model_config: { ...agent.modelConfig, model_id: modelId },
    persona_id: agent.personaId,
    use_custom_persona: agent.useCustomPersona,
    custom_persona_prompt: agent.customPersonaPrompt,
    priority_level: typeof settings.priority_level === 'string' ? settings.priority_level : 'medium',
    max_concurrent_tasks: typeof settings.max_concurrent_tasks === 'number' ? settings.max_concurrent_tasks : 1,
    auto_start: settings.auto_start === true,
    performance_metrics: {},
    created_by: typeof settings.created_by === 'string' ? settings.created_by : null,
    created_at: agent.createdAt,
    updated_at: agent.updatedAt,
    deleted_at: agent.deletedAt,
  };
}

/** The view of a config agent: read-only, always active. */
export function toConfigAgentView(agent: AgentConfig, config: AgentOsConfig, startedAt: number): AgentView {
  const modelId = agent.model ?? config.models.default;
  const instructions = Array.isArray(agent.instructions) ? agent.instructions.join('\n') : agent.instructions;
  return {
    id: agent.id,
    name: agent.name ?? agent.id,
    description: agent.description ?? null,
    source: 'config',
    model: splitModel(modelId, undefined),
    systemPrompt: instructions ?? null,
    createdAt: startedAt,
    agent_type: 'config',
    status: 'active',
    configuration: {},
    skills: [],
    tools: agent.tools.map((entry) => entry.name),
    plugins: [],
    tags: [],
    model_config: { model_id: modelId },
    agent_model_config: { model_id: modelId },
    persona_id: null,
    use_custom_persona: false,
    custom_persona_prompt: null,
    priority_level: 'medium',
    max_concurrent_tasks: 1,
    auto_start: false,
    performance_metrics: {},
    created_by: null,
    created_at: startedAt,
    updated_at: startedAt,
    deleted_at: null,
  };
}
