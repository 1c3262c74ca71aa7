/**
 * Turns a database agent (with its persona and assigned plugins) into the {@link RuntimeAgent} the one
 * runtime runs. The persona and skills become prompt sections that `assembleSystemPrompt` joins, the
 * same function the run and `GET /api/agents/{id}/assembled-context` call (PRD-71: one injection point).
 * @module
 */
import type { AgentOsConfig } from '../config/index.js';
import { AgentOsError } from '../errors/index.js';
import type { Logger } from '../logging/logger.js';
import type { PromptSection, RuntimeAgent } from '../runtime/agent/context.js';
import type { AgentPluginRecord, PersonaRecord, Store, StoredAgent } from '../store/types.js';
import { resolveComponentAgent } from './components.js';

/** What went into a database agent besides its own row. */
export interface AgentParts {
  agent: StoredAgent;
  persona: PersonaRecord | null;
  plugins: AgentPluginRecord[];
}

/** The model id of `model_config` (`model_id`, or iii's `{provider, model}`), else undefined. */
export function modelIdOf(modelConfig: Record<string, unknown>): string | undefined {
  if (typeof modelConfig.model_id === 'string' && modelConfig.model_id !== '') return modelConfig.model_id;
  if (typeof modelConfig.provider === 'string' && typeof modelConfig.model === 'string') {
    return `${modelConfig.provider}:${modelConfig.model}`;
  }
  return undefined;
}

function numberOf(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function personaSection(parts: AgentParts): PromptSection {
  const { agent, persona } = parts;
  if (agent.useCustomPersona) {
    return {
      name: 'persona',
      text: agent.customPersonaPrompt ?? undefined,
      reason: 'use_custom_persona is set but custom_persona_prompt is empty',
    };
  }
  if (agent.personaId !== null && persona === null) {
    return { name: 'persona', text: undefined, reason: `persona ${agent.personaId} no longer exists` };
  }
  return { name: 'persona', text: persona?.systemPrompt, reason: 'no persona assigned' };
}

/** Tier 1: one line per assigned plugin, so the model knows every skill it has. */
function skillsSummary(plugins: readonly AgentPluginRecord[]): PromptSection {
  if (plugins.length === 0) return { name: 'skills_summary', text: undefined, reason: 'no plugins assigned' };
  const lines = plugins.map(({ plugin }) => {
    const tags = plugin.tags.length === 0 ? '' : ` [${plugin.tags.join(', ')}]`;
    return `- ${plugin.name} (${plugin.slug} v${plugin.version})${plugin.description ? `: ${plugin.description}` : ''}${tags}`;
  });
  return { name: 'skills_summary', text: ['## Skills', ...lines].join('\n') };
}

/** Tier 2: the full content of every assigned plugin, by priority (all of them: no silent selection). */
function skillsContent(plugins: readonly AgentPluginRecord[]): PromptSection {
  if (plugins.length === 0) return { name: 'skills_content', text: undefined, reason: 'no plugins assigned' };
  return {
    name: 'skills_content',
    text: plugins.map(({ plugin }) => `### ${plugin.name}\n${plugin.content}`).join('\n\n'),
  };
}

/** The runtime agent of a database agent; the config's default model when `model_config` names none. */
export function toRuntimeAgent(parts: AgentParts, config: AgentOsConfig): RuntimeAgent {
  const { agent, persona } = parts;
  // Automatos: the persona's suggested temperature overrides the agent's.
  const temperature = persona?.suggestedTemperature ?? numberOf(agent.modelConfig.temperature);
  return {
    id: agent.agentId,
    name: agent.name,
    ...(agent.description === null ? {} : { description: agent.description }),
    model: modelIdOf(agent.modelConfig) ?? config.models.default,
    ...(agent.instructions === null ? {} : { instructions: agent.instructions }),
    tools: agent.tools.map((name) => ({ name })),
    memory: false,
    history_runs: 3,
    max_steps: 10,
    promptSections: [personaSection(parts), skillsSummary(parts.plugins), skillsContent(parts.plugins)],
    ...(temperature === undefined ? {} : { temperature }),
    source: 'db',
  };
}

/** Loads a database agent with its persona and plugins; `null` when missing or deleted. */
export async function loadAgentParts(store: Store, workspaceId: string, agentId: string): Promise<AgentParts | null> {
  const agent = await store.agents.get(workspaceId, agentId);
  if (!agent) return null;
  const [persona, plugins] = await Promise.all([
    agent.personaId === null ? Promise.resolve(null) : store.agents.getPersona(workspaceId, agent.personaId),
    store.agents.listAgentPlugins(workspaceId, agentId),
  ]);
  return { agent, persona, plugins };
}

/**
 * The database half of the runtime's agent lookup (`RunManager.resolveAgent` asks the config first):
 * API agents, then agent components (at `version`, else their current one).
 * A `failed` agent still runs: the status is bookkeeping for operators (Automatos), not a gate.
 */
export function createDbAgentResolver(options: { store: Store; config: AgentOsConfig; logger: Logger }) {
  return async (workspaceId: string, agentId: string, version?: number): Promise<RuntimeAgent | null> => {
    const parts = await loadAgentParts(options.store, workspaceId, agentId);
    if (!parts) return resolveComponentAgent(options.store, options.config, workspaceId, agentId, version);
    if (version !== undefined) {
      throw new AgentOsError('AOS_BAD_REQUEST', `Agent ${agentId} has no config versions (only components do)`);
    }
    const agent = toRuntimeAgent(parts, options.config);
    options.logger.debug(
      {
        agent: agentId,
        sections: agent.promptSections?.map((section) => ({ name: section.name, included: !!section.text })),
      },
      'assembled database agent',
    );
    return agent;
  };
}
