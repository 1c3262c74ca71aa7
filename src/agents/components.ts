/**
 * Agno components (research/agno.md §1.10): agents, teams and workflows defined in the database with
 * numbered config versions. Drafts may change; a published version is frozen and may become current
 * (`set-current`, also for rollback). Agent components run through the one runtime at their current
 * version, or at the version a run names.
 * @module
 */
import { z } from 'zod';
import { type AgentOsConfig, modelIdSchema } from '../config/index.js';
import { AgentOsError, ConflictError, NotFoundError } from '../errors/index.js';
import type { RuntimeAgent } from '../runtime/agent/context.js';
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

/** Refuses changes to a published version: only drafts are editable (Agno). */
export function assertDraft(config: ComponentConfigRecord): void {
  if (config.stage !== 'draft') {
    throw new ConflictError(`Version ${config.version} is published and cannot change; create a new version`);
  }
}

/** Validates a config for its component type (agents are checked; teams and workflows are stored as given). */
export function checkConfigFor(type: ComponentRecord['componentType'], config: Record<string, unknown>): void {
  if (type === 'agent') checkAgentConfig(config);
}
