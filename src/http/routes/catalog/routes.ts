/**
 * Read-only views of the agents, teams and workflows of the config (seed 001 list shape). Lists show
 * only what the caller's per-resource scopes allow; runs and details grow with the runtime issues.
 * @module
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { storedAgentEntries, storedTeamEntries, storedWorkflowEntries } from '../../../agents/catalog.js';
import { hasScope, type Principal } from '../../../auth/index.js';
import { idSchema } from '../../../config/index.js';
import { stepKind } from '../../../config/workflow-schema.js';
import { NotFoundError } from '../../../errors/index.js';
import type { Services } from '../../../services.js';
import { workspaceOf } from '../../plugins/access-control.js';
import type { ZodApp } from '../../route-config.js';
import { pageMeta, pageQuery, paginate } from '../pagination.js';

const agentView = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string().optional(),
  model: z.string(),
  tools: z.array(z.string()),
  has_knowledge: z.boolean(),
  has_memory: z.boolean(),
  /** Defined in the database (`/api/agents`, `/components`), not in the config file. */
  is_component: z.boolean().optional(),
});

const teamView = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string().optional(),
  mode: z.string(),
  model: z.string(),
  /** Seed 001 lists members as `{id, name}`; a member is an agent or another team. */
  members: z.array(z.object({ id: z.string(), name: z.string() })),
  /** Defined in the database (`/components`), not in the config file. */
  is_component: z.boolean().optional(),
});

const workflowView = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string().optional(),
  steps: z.array(
    z.object({
      name: z.string(),
      /** `agent`, `team`, `function`, `parallel`, `condition`, `loop` or `router`. */
      type: z.string(),
      agent: z.string().optional(),
      team: z.string().optional(),
    }),
  ),
  /** Defined in the database (`/components`), not in the config file. */
  is_component: z.boolean().optional(),
});

type Resource = 'agents' | 'teams' | 'workflows';

function readable(principal: Principal | null, resource: Resource, id: string): boolean {
  return principal !== null && hasScope(principal.scopes, { resource, action: 'read', id });
}

interface ResourceSpec {
  resource: Resource;
  param: string;
  /** Plural tag, e.g. `Agents`. */
  tag: string;
  /** Response schema of one item; call sites check `items` against it with `satisfies`. */
  view: z.ZodType<{ id: string }>;
  items: { id: string }[];
  /** Items defined in the database for the caller's workspace, listed after the config's. */
  stored?: (request: FastifyRequest) => Promise<{ id: string }[]>;
}

/** The list and get routes of one resource type. */
function registerResource(app: ZodApp, spec: ResourceSpec): void {
  const { resource, param, tag, view, items } = spec;
  const singular = tag.slice(0, -1);
  app.get(`/${resource}`, {
    // Any read scope on this resource type opens the list (Agno: agents:<id>:read lists that agent);
    // the handler then filters item by item.
    config: { access: { scope: `${resource}:read`, anyId: true } },
    schema: {
      summary: `List ${resource} the caller may read`,
      tags: [tag],
      operationId: `list${tag}`,
      querystring: pageQuery,
      response: { 200: z.object({ [resource]: z.array(view), meta: pageMeta }) },
    },
    handler: async (request) => {
      const all = spec.stored ? [...items, ...(await spec.stored(request))] : items;
      const visible = all.filter((item) => readable(request.principal, resource, item.id));
      const page = paginate(visible, request.query);
      return { [resource]: page.items, meta: page.meta };
    },
  });

  app.get(`/${resource}/:${param}`, {
    config: { access: { scope: `${resource}:read`, scopeParam: param } },
    schema: {
      summary: `Get one ${singular.toLowerCase()}`,
      tags: [tag],
      operationId: `get${singular}`,
      params: z.object({ [param]: idSchema }),
      response: { 200: view },
    },
    handler: async (request) => {
      const id = (request.params as Record<string, string>)[param];
      const found =
        items.find((item) => item.id === id) ?? (await spec.stored?.(request))?.find((item) => item.id === id);
      if (!found) throw new NotFoundError(`${singular} not found`);
      return found;
    },
  });
}

/** Route table of `/agents`, `/teams`, `/workflows` (list and get). */
export const catalogRoutes: FastifyPluginAsync<{ services: Services }> = async (fastify, { services }) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const { config } = services;
  const names = new Map([...config.agents, ...config.teams].map((item) => [item.id, item.name ?? item.id]));
  const description = (item: { description?: string | undefined }) =>
    item.description === undefined ? {} : { description: item.description };

  registerResource(app, {
    resource: 'agents',
    param: 'agent_id',
    tag: 'Agents',
    view: agentView,
    items: config.agents.map((agent) => ({
      id: agent.id,
      name: agent.name ?? agent.id,
      ...description(agent),
      model: agent.model ?? config.models.default,
      tools: (agent.tools ?? []).map((entry) => (typeof entry === 'string' ? entry : entry.name)),
      has_knowledge: agent.knowledge !== undefined,
      has_memory: agent.memory === true,
    })) satisfies z.output<typeof agentView>[],
    stored: (request) => storedAgentEntries(services.store, config, workspaceOf(request)),
  });
  registerResource(app, {
    resource: 'teams',
    param: 'team_id',
    tag: 'Teams',
    view: teamView,
    items: config.teams.map((team) => ({
      id: team.id,
      name: team.name ?? team.id,
      ...description(team),
      mode: team.mode,
      model: team.model ?? config.models.default,
      members: team.members.map((member) => ({ id: member, name: names.get(member) ?? member })),
    })) satisfies z.output<typeof teamView>[],
    stored: (request) => storedTeamEntries(services.store, config, workspaceOf(request)),
  });
  registerResource(app, {
    resource: 'workflows',
    param: 'workflow_id',
    tag: 'Workflows',
    view: workflowView,
    items: config.workflows.map((workflow) => ({
      id: workflow.id,
      name: workflow.name ?? workflow.id,
      ...description(workflow),
      steps: workflow.steps.map((step) => ({
        name: step.name,
        type: stepKind(step),
        ...(step.agent === undefined ? {} : { agent: step.agent }),
        ...(step.team === undefined ? {} : { team: step.team }),
      })),
    })) satisfies z.output<typeof workflowView>[],
    stored: (request) => storedWorkflowEntries(services.store, workspaceOf(request)),
  });
};
