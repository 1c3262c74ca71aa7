/**
 * The database-defined agents of a workspace as the root catalog (`GET /agents`) lists them: agents
 * created over `/api/agents` and agent components at their current version, marked `is_component`
 * (research/agno.md §1.10).
 * @module
 */
import type { AgentOsConfig } from '../config/index.js';
import type { Store } from '../store/types.js';
import { componentAgent } from './components.js';
import { modelIdOf } from './runtime-agent.js';

/** One catalog entry (the root agent view plus `is_component`). */
export interface StoredAgentEntry {
  id: string;
  name: string;
  description?: string;
  model: string;
  tools: string[];
  has_knowledge: boolean;
  has_memory: boolean;
  is_component: true;
}

/** Every database-defined agent of the workspace (at most 1000 of each kind). */
export async function storedAgentEntries(
  store: Store,
  config: AgentOsConfig,
  workspaceId: string,
): Promise<StoredAgentEntry[]> {
  const [agents, components] = await Promise.all([
    store.agents.list({ workspaceId, limit: 1000 }),
    store.agents.listComponents({ workspaceId, componentType: 'agent', limit: 1000 }),
  ]);
  const entries: StoredAgentEntry[] = agents.items.map((agent) => ({
    id: agent.agentId,
    name: agent.name,
    ...(agent.description === null ? {} : { description: agent.description }),
    model: modelIdOf(agent.modelConfig) ?? config.models.default,
    tools: agent.tools,
    has_knowledge: false,
    has_memory: false,
    is_component: true,
  }));
  for (const component of components.items) {
    if (component.currentVersion === null) continue;
    const version = await store.agents.getComponentConfig(workspaceId, component.componentId, component.currentVersion);
    if (!version) continue;
    const agent = componentAgent(component, version, config);
    entries.push({
      id: agent.id,
      name: agent.name ?? agent.id,
      ...(agent.description === undefined ? {} : { description: agent.description }),
      model: agent.model ?? config.models.default,
      tools: agent.tools.map((entry) => entry.name),
      has_knowledge: false,
      has_memory: false,
      is_component: true,
    });
  }
  return entries;
}
