/**
 * Teams and workflows stored as Agno components (research/agno.md §1.10): their config versions are
 * checked with the very zod schemas of config-file teams and workflows (`config/schema.ts`,
 * `config/workflow-schema.ts`), so one runner runs both. The component id and name fill in `id` and
 * `name`; a config key the file schema does not know is refused as it would be in a config file.
 * @module
 */
import type { z } from 'zod';
import { type AgentOsConfig, configSchema, type TeamConfig, type WorkflowConfig } from '../config/schema.js';
import type { WorkflowStep } from '../config/workflow-schema.js';
import { AgentOsError, NotFoundError } from '../errors/index.js';
import type { ComponentConfigRecord, ComponentRecord, Store } from '../store/types.js';

// The element schemas of the config's `teams` and `workflows` lists: one definition of a valid team.
const teamSchema = configSchema.shape.teams.unwrap().element;
const workflowSchema = configSchema.shape.workflows.unwrap().element;

/** Agents and teams a team or workflow component calls, as a run must be allowed to call them. */
export interface ComponentReferences {
  agents: string[];
  teams: string[];
}

function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = issue?.path.length ? `config.${issue.path.join('.')}` : 'config';
  throw new AgentOsError('AOS_BAD_REQUEST', `${path}: ${issue?.message ?? 'invalid'}`, {
    details: { issues: parsed.error.issues.map((entry) => ({ path: entry.path, message: entry.message })) },
  });
}

function identity(component: Pick<ComponentRecord, 'componentId' | 'name' | 'description'>) {
  return {
    name: component.name,
    ...(component.description === null ? {} : { description: component.description }),
  };
}

/** The team a team component's config describes; `AOS_BAD_REQUEST` naming the first problem. */
export function teamOfComponent(
  component: Pick<ComponentRecord, 'componentId' | 'name' | 'description'>,
  config: Record<string, unknown>,
): TeamConfig {
  return parseOrThrow(teamSchema, { ...identity(component), ...config, id: component.componentId });
}

/** The workflow a workflow component's config describes; `AOS_BAD_REQUEST` naming the first problem. */
export function workflowOfComponent(
  component: Pick<ComponentRecord, 'componentId' | 'name' | 'description'>,
  config: Record<string, unknown>,
): WorkflowConfig {
  return parseOrThrow(workflowSchema, { ...identity(component), ...config, id: component.componentId });
}

/** The agents and teams a list of workflow steps calls (nested steps and agent routers included). */
export function stepReferences(steps: readonly WorkflowStep[], into: ComponentReferences = { agents: [], teams: [] }) {
  for (const step of steps) {
    if (step.agent !== undefined) into.agents.push(step.agent);
    if (step.team !== undefined) into.teams.push(step.team);
    if (step.parallel) stepReferences(step.parallel, into);
    if (step.condition) {
      stepReferences(step.condition.steps, into);
      if (step.condition.else) stepReferences(step.condition.else, into);
    }
    if (step.loop) stepReferences(step.loop.steps, into);
    if (step.router) {
      if ('agent' in step.router.selector) into.agents.push(step.router.selector.agent);
      for (const routeSteps of Object.values(step.router.routes)) stepReferences(routeSteps, into);
    }
  }
  return into;
}

/** The agents and teams among a team's members (each member is one or the other). */
export function memberReferences(team: TeamConfig, config: AgentOsConfig): ComponentReferences {
  const teams = team.members.filter((member) => config.teams.some((candidate) => candidate.id === member));
  return { agents: team.members.filter((member) => !teams.includes(member)), teams };
}

/** A stored component at one config version. */
export interface StoredComponentVersion {
  component: ComponentRecord;
  config: ComponentConfigRecord;
}

/**
 * The component `componentId` of `componentType` at `version` (else its current version); null when the
 * workspace has no such component. No current version, or no such version, is a 404.
 */
export async function loadComponentVersion(
  store: Store,
  workspaceId: string,
  componentType: ComponentRecord['componentType'],
  componentId: string,
  version?: number,
): Promise<StoredComponentVersion | null> {
  const component = await store.agents.getComponent(workspaceId, componentId);
  if (component?.componentType !== componentType) return null;
  const wanted = version ?? component.currentVersion;
  if (wanted === null) throw new NotFoundError(`Component ${componentId} has no current config version`);
  const config = await store.agents.getComponentConfig(workspaceId, componentId, wanted);
  if (!config) throw new NotFoundError(`Component ${componentId} has no config version ${wanted}`);
  return { component, config };
}

/**
 * Refuses a component run that calls an agent or team its caller may not run. `mayRun` comes from the
 * surface that authenticated the caller; without one the run is refused (fail closed): a component is
 * authored in the database, so running it must never reach further than its caller could alone.
 */
export function assertMayRunReferences(
  references: ComponentReferences,
  mayRun: ((resource: 'agents' | 'teams', id: string) => boolean) | undefined,
  what: string,
): void {
  const denied = [
    ...references.agents.filter((id) => !mayRun?.('agents', id)).map((id) => `agents:${id}:run`),
    ...references.teams.filter((id) => !mayRun?.('teams', id)).map((id) => `teams:${id}:run`),
  ];
  if (denied.length === 0) return;
  const unique = [...new Set(denied)];
  throw new AgentOsError(
    'AOS_AUTH_FORBIDDEN',
    `Insufficient permissions: ${what} calls what the caller may not run (required: ${unique.join(', ')})`,
    { details: { required: unique } },
  );
}
