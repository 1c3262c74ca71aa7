/**
 * Agno components (research/agno.md §1.10): agents, teams and workflows defined in the database with
 * numbered config versions. Drafts may change; a published version is frozen and may become current
 * (`set-current`, also for rollback). Agent components run through the one runtime at their current
 * version, or at the version a run names.
 * @module
 */
import { z } from 'zod';
import { type AgentOsConfig, modelIdSchema } from '../config/index.js';
import { checkWorkflowSteps } from '../config/workflow-schema.js';
import { AgentOsError, ConflictError, NotFoundError } from '../errors/index.js';
import type { RuntimeAgent } from '../runtime/agent/context.js';
import { stepReferences, teamOfComponent, workflowOfComponent } from '../runtime/component-definitions.js';
import type { ComponentConfigRecord, ComponentRecord, Store } from '../store/types.js';
import { isDbAgentTool } from './tools.js';

/** What the config of an agent component may hold (a subset of a config-file agent). */
export const agentComponentConfig = z
  .object({
    name: z.string().min(1).max(255).optional(),
    description: z.string().max(10_000).optional(),
    model: modelIdSchema.optional(),
    instructions: z.union([z.string(), z.array(z.string())]).optional(),
    tools: z
      .array(z.string().refine(isDbAgentTool, { error: 'not a built-in tool an API agent may use' }))
      .max(64)
      .optional(),
    temperature: z.number().min(0).max(2).optional(),
    history_runs: z.number().int().min(0).max(100).optional(),
    max_steps: z.number().int().min(1).max(50).optional(),
  })
  .loose();

/** Checks an agent component's config; 400 naming the first problem. */
export function checkAgentConfig(config: Record<string, unknown>): z.infer<typeof agentComponentConfig> {
  const parsed = agentComponentConfig.safeParse(config);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AgentOsError('AOS_BAD_REQUEST', `config.${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

/** The version a run body names (`version`, a number or a numeric form field), else undefined. */
export function parseVersion(value: unknown): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const version = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(version) || version < 1) {
    throw new AgentOsError('AOS_BAD_REQUEST', 'version: expected a positive integer (a component config version)');
  }
  return version;
}

/** The runtime agent of an agent component at a config version. */
export function componentAgent(component: ComponentRecord, config: ComponentConfigRecord, os: AgentOsConfig) {
  const settings = checkAgentConfig(config.config);
  const agent: RuntimeAgent = {
    id: component.componentId,
    name: settings.name ?? component.name,
    ...(component.description === null ? {} : { description: component.description }),
    model: settings.model ?? os.models.default,
    ...(settings.instructions === undefined ? {} : { instructions: settings.instructions }),
    tools: (settings.tools ?? []).map((name) => ({ name })),
    memory: false,
    history_runs: settings.history_runs ?? 3,
    max_steps: settings.max_steps ?? 10,
    ...(settings.temperature === undefined ? {} : { temperature: settings.temperature }),
    source: 'db',
  };
  return agent;
}

/**
 * The agent component `componentId` at `version` (else its current version); null when there is no such
 * agent component. A component without a current version, or a missing version, is a 404.
 */
export async function resolveComponentAgent(
  store: Store,
  os: AgentOsConfig,
  workspaceId: string,
  componentId: string,
  version?: number,
): Promise<RuntimeAgent | null> {
  const component = await store.agents.getComponent(workspaceId, componentId);
  if (component?.componentType !== 'agent') return null;
  const wanted = version ?? component.currentVersion;
  if (wanted === null) throw new NotFoundError(`Component ${componentId} has no current config version`);
  const config = await store.agents.getComponentConfig(workspaceId, componentId, wanted);
  if (!config) throw new NotFoundError(`Component ${componentId} has no config version ${wanted}`);
  return componentAgent(component, config, os);
}

/**
 * The display name of a team or workflow component (the component's own name, whatever version runs);
 * null when the workspace has none of that type.
 */
export async function componentName(
  store: Store,
  workspaceId: string,
  componentType: 'team' | 'workflow',
  componentId: string,
): Promise<string | null> {
  const component = await store.agents.getComponent(workspaceId, componentId);
  return component?.componentType === componentType ? component.name : null;
}

/** Refuses changes to a published version: only drafts are editable (Agno). */
export function assertDraft(config: ComponentConfigRecord): void {
  if (config.stage !== 'draft') {
    throw new ConflictError(`Version ${config.version} is published and cannot change; create a new version`);
  }
}

/** Whether `agentId` is a database agent of the workspace (an `/api` agent or an agent component). */
async function isStoredAgent(store: Store, workspaceId: string, agentId: string): Promise<boolean> {
  if (await store.agents.get(workspaceId, agentId)) return true;
  return (await store.agents.getComponent(workspaceId, agentId))?.componentType === 'agent';
}

/** The ids among `ids` that are agents of the config or of the workspace's database. */
async function knownAgents(store: Store, os: AgentOsConfig, workspaceId: string, ids: readonly string[]) {
  const known = new Set<string>();
  for (const id of new Set(ids)) {
    if (os.agents.some((agent) => agent.id === id) || (await isStoredAgent(store, workspaceId, id))) known.add(id);
  }
  return known;
}

function badConfig(path: string, message: string): AgentOsError {
  return new AgentOsError('AOS_BAD_REQUEST', `config.${path}: ${message}`);
}

/** The component a config is checked for: its id, type, name and description. */
export type ComponentIdentity = Pick<ComponentRecord, 'componentId' | 'componentType' | 'name' | 'description'>;

/**
 * Validates a config version for its component type, 400 naming the first problem. Agents: the agent
 * component schema. Teams and workflows: the config file's own team and workflow schemas, and every
 * member or step must name an agent (of the config or the workspace's database), a config team, or (for
 * workflow steps) a config function.
 */
export async function checkConfigFor(
  store: Store,
  os: AgentOsConfig,
  workspaceId: string,
  component: ComponentIdentity,
  config: Record<string, unknown>,
): Promise<void> {
  if (component.componentType === 'agent') {
    checkAgentConfig(config);
    return;
  }
  const configTeams = new Set(os.teams.map((team) => team.id));
  if (component.componentType === 'team') {
    const team = teamOfComponent(component, config);
    const agents = await knownAgents(store, os, workspaceId, team.members);
    const seen = new Set<string>();
    team.members.forEach((member, index) => {
      if (member === team.id) throw badConfig(`members.${index}`, `team "${member}" lists itself as a member`);
      if (!agents.has(member) && !configTeams.has(member)) {
        throw badConfig(`members.${index}`, `unknown member "${member}" (expected an agent id or a config team id)`);
      }
      if (seen.has(member)) throw badConfig(`members.${index}`, `member "${member}" is listed twice`);
      seen.add(member);
    });
    return;
  }
  const workflow = workflowOfComponent(component, config);
  const references = {
    agents: await knownAgents(store, os, workspaceId, stepReferences(workflow.steps).agents),
    teams: configTeams,
    functions: new Set(Object.keys(os.functions)),
  };
  checkWorkflowSteps(workflow.steps, ['steps'], references, (path, message) => {
    throw badConfig(path.join('.'), message);
  });
}
