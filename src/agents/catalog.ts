/**
 * The database-defined agents, teams and workflows of a workspace as the root catalog (`GET /agents`,
 * `/teams`, `/workflows`) lists them: agents created over `/api/agents`, and components at their
 * current version, marked `is_component` (research/agno.md §1.10).
 * @module
 */
import type { AgentOsConfig, TeamConfig, WorkflowConfig } from '../config/index.js';
import { stepKind } from '../config/workflow-schema.js';
import { isAgentOsError } from '../errors/index.js';
import { teamOfComponent, workflowOfComponent } from '../runtime/component-definitions.js';
import type { ComponentRecord, Store } from '../store/types.js';
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

/** One team component as `GET /teams` lists it. */
export interface StoredTeamEntry {
  id: string;
  name: string;
  description?: string;
  mode: string;
  model: string;
  members: { id: string; name: string }[];
  is_component: true;
}

/** One workflow component as `GET /workflows` lists it. */
export interface StoredWorkflowEntry {
  id: string;
  name: string;
  description?: string;
  steps: { name: string; type: string; agent?: string; team?: string }[];
  is_component: true;
}

/**
 * Every component of `componentType` at its current version, parsed by `parse`. A current version
 * that no longer validates (a member removed since) is left out of the listing; its runs answer the 400.
 */
async function currentComponents<T>(
  store: Store,
  workspaceId: string,
  componentType: 'team' | 'workflow',
  parse: (component: ComponentRecord, config: Record<string, unknown>) => T,
): Promise<T[]> {
  const components = await store.agents.listComponents({ workspaceId, componentType, limit: 1000 });
  const parsed: T[] = [];
  for (const component of components.items) {
    if (component.currentVersion === null) continue;
    const version = await store.agents.getComponentConfig(workspaceId, component.componentId, component.currentVersion);
    if (!version) continue;
    try {
      parsed.push(parse(component, version.config));
    } catch (error) {
      if (!isAgentOsError(error)) throw error;
    }
  }
  return parsed;
}

/** Every team component of the workspace at its current version. */
export async function storedTeamEntries(
  store: Store,
  config: AgentOsConfig,
  workspaceId: string,
): Promise<StoredTeamEntry[]> {
  const teams: TeamConfig[] = await currentComponents(store, workspaceId, 'team', teamOfComponent);
  const names = new Map([...config.agents, ...config.teams].map((item) => [item.id, item.name ?? item.id]));
  return teams.map((team) => ({
    id: team.id,
    name: team.name ?? team.id,
    ...(team.description === undefined ? {} : { description: team.description }),
    mode: team.mode,
    model: team.model ?? config.models.default,
    members: team.members.map((member) => ({ id: member, name: names.get(member) ?? member })),
    is_component: true,
  }));
}

/** Every workflow component of the workspace at its current version, as the config would declare it. */
export function currentWorkflowComponents(store: Store, workspaceId: string): Promise<WorkflowConfig[]> {
  return currentComponents(store, workspaceId, 'workflow', workflowOfComponent);
}

/** Every workflow component of the workspace at its current version. */
export async function storedWorkflowEntries(store: Store, workspaceId: string): Promise<StoredWorkflowEntry[]> {
  const workflows = await currentWorkflowComponents(store, workspaceId);
  return workflows.map((workflow) => ({
    id: workflow.id,
    name: workflow.name ?? workflow.id,
    ...(workflow.description === undefined ? {} : { description: workflow.description }),
    steps: workflow.steps.map((step) => ({
      name: step.name,
      type: stepKind(step),
      ...(step.agent === undefined ? {} : { agent: step.agent }),
      ...(step.team === undefined ? {} : { team: step.team }),
    })),
    is_component: true,
  }));
}
