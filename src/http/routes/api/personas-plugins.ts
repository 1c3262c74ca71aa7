/**
 * Automatos personas and the plugin/skill governance of research/agtos-automatos.md §2.4: a catalog
 * (`/api/plugins`, admin adds), enabled per workspace (`/api/workspaces/{ws}/plugins`), then assigned per
 * agent (`PUT /api/agents/{id}/plugins`, in `agents.ts`). Personas are global (admin) or per workspace.
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ADMIN_SCOPE } from '../../../auth/index.js';
import { idSchema } from '../../../config/index.js';
import { AgentOsError, ConflictError, NotFoundError } from '../../../errors/index.js';
import type { Services } from '../../../services.js';
import { workspaceOf } from '../../plugins/access-control.js';
import { personaView, pluginView, toPersonaView, toPluginView } from './agent-views.js';

/** agtOS caps bodies at 1 MB; a smaller server `body_limit` still wins. */
const API_BODY_LIMIT = 1024 * 1024;
const slugSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, { error: 'expected a slug: a-z, 0-9 and -' });

const personaBody = z.object({
  id: idSchema.optional(),
  scope: z.enum(['global', 'workspace']).default('workspace'),
  slug: slugSchema,
  name: z.string().trim().min(1).max(255),
  description: z.string().max(10_000).nullish(),
  system_prompt: z.string().min(1).max(200_000),
  suggested_temperature: z.number().min(0).max(2).nullish(),
  category: z.string().max(64).nullish(),
  tags: z.array(z.string().max(64)).max(64).optional(),
});
const personaPatch = personaBody.omit({ id: true, scope: true }).partial();

const pluginBody = z.object({
  id: idSchema.optional(),
  slug: slugSchema,
  name: z.string().trim().min(1).max(255),
  version: z.string().min(1).max(64).optional(),
  description: z.string().max(10_000).nullish(),
  content: z.string().min(1).max(500_000).describe('The SKILL.md text the agent receives'),
  tags: z.array(z.string().max(64)).max(64).optional(),
});

const isAdmin = (request: FastifyRequest) => request.principal?.scopes.includes(ADMIN_SCOPE) === true;

/**
 * The workspace a `/api/workspaces/{ws}/…` path names: the caller's own, or any for an admin. Another
 * workspace reads as missing (404), so its existence does not leak.
 */
function pathWorkspace(request: FastifyRequest, workspaceId: string): string {
  if (workspaceId !== workspaceOf(request) && !isAdmin(request)) {
    throw new NotFoundError(`Workspace ${workspaceId} not found`);
  }
  return workspaceId;
}

function requireAdminFor(request: FastifyRequest, what: string): void {
  if (!isAdmin(request)) {
    throw new AgentOsError('AOS_AUTH_FORBIDDEN', `Insufficient permissions. Required scope: admin (${what})`, {
      details: { required: ADMIN_SCOPE },
    });
  }
}

/** Route table of `/api/personas`, `/api/plugins` and `/api/workspaces/{ws}/plugins`. */
export const apiPersonaPluginRoutes: FastifyPluginAsync<{ services: Services }> = async (fastify, { services }) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const bodyLimit = Math.min(services.config.server.body_limit, API_BODY_LIMIT);
  const agents = services.store.agents;

  app.get('/personas', {
    config: { access: { scope: 'agents:read', anyId: true } },
    schema: {
      summary: 'List personas (global and the workspace’s)',
      tags: ['API'],
      operationId: 'apiListPersonas',
      querystring: z.object({
        scope: z.enum(['global', 'workspace']).optional(),
        category: z.string().max(64).optional(),
      }),
      response: { 200: z.array(personaView) },
    },
    handler: async (request) => {
      const { scope, category } = request.query;
      const personas = await agents.listPersonas({
        workspaceId: workspaceOf(request),
        ...(scope === undefined ? {} : { scope }),
        ...(category === undefined ? {} : { category }),
      });
      return personas.map(toPersonaView);
    },
  });

  app.get('/personas/:id', {
    config: { access: { scope: 'agents:read', anyId: true } },
    schema: {
      summary: 'Get one persona',
      tags: ['API'],
      operationId: 'apiGetPersona',
      params: z.object({ id: idSchema }),
      response: { 200: personaView },
    },
    handler: async (request) => {
      const persona = await agents.getPersona(workspaceOf(request), request.params.id);
      if (!persona) throw new NotFoundError('Persona not found');
      return toPersonaView(persona);
    },
  });

  app.post('/personas', {
    config: { access: { scope: 'agents:write' } },
    bodyLimit: bodyLimit,
    schema: {
      summary: 'Create a persona',
      description: '`scope: "global"` (every workspace sees it) needs admin; the default is the caller’s workspace.',
      tags: ['API'],
      operationId: 'apiCreatePersona',
      body: personaBody,
      response: { 201: personaView },
    },
    handler: async (request, reply) => {
      const body = request.body;
      if (body.scope === 'global') requireAdminFor(request, 'global personas');
      const persona = await agents.createPersona({
        personaId: body.id ?? randomUUID(),
        workspaceId: body.scope === 'global' ? null : workspaceOf(request),
        slug: body.slug,
        name: body.name,
        systemPrompt: body.system_prompt,
        description: body.description ?? null,
        suggestedTemperature: body.suggested_temperature ?? null,
        category: body.category ?? null,
        tags: body.tags ?? [],
      });
      return reply.code(201).send(toPersonaView(persona));
    },
  });

  /** The persona and the scope it lives in; global ones need admin to change. */
  const ownedPersona = async (request: FastifyRequest, id: string) => {
    const persona = await agents.getPersona(workspaceOf(request), id);
    if (!persona) throw new NotFoundError('Persona not found');
    if (persona.workspaceId === null) requireAdminFor(request, 'global personas');
    return persona;
  };

  app.put('/personas/:id', {
    config: { access: { scope: 'agents:write' } },
    bodyLimit: bodyLimit,
    schema: {
      summary: 'Update a persona',
      tags: ['API'],
      operationId: 'apiUpdatePersona',
      params: z.object({ id: idSchema }),
      body: personaPatch,
      response: { 200: personaView },
    },
    handler: async (request) => {
      const persona = await ownedPersona(request, request.params.id);
      const body = request.body;
      const updated = await agents.updatePersona(persona.workspaceId, persona.personaId, {
        ...(body.slug === undefined ? {} : { slug: body.slug }),
        ...(body.name === undefined ? {} : { name: body.name }),
        ...(body.description === undefined ? {} : { description: body.description }),
        ...(body.system_prompt === undefined ? {} : { systemPrompt: body.system_prompt }),
        ...(body.suggested_temperature === undefined ? {} : { suggestedTemperature: body.suggested_temperature }),
        ...(body.category === undefined ? {} : { category: body.category }),
        ...(body.tags === undefined ? {} : { tags: body.tags }),
      });
      if (!updated) throw new NotFoundError('Persona not found');
      return toPersonaView(updated);
    },
  });

  app.delete('/personas/:id', {
    config: { access: { scope: 'agents:write' } },
    schema: {
      summary: 'Delete a persona (agents using it lose it)',
      tags: ['API'],
      operationId: 'apiDeletePersona',
      params: z.object({ id: idSchema }),
      response: { 204: z.null() },
    },
    handler: async (request, reply) => {
      const persona = await ownedPersona(request, request.params.id);
      await agents.deletePersona(persona.workspaceId, persona.personaId);
      return reply.code(204).send(null);
    },
  });

  app.get('/plugins', {
    config: { access: { scope: 'agents:read', anyId: true } },
    schema: {
      summary: 'The plugin (skill) catalog',
      tags: ['API'],
      operationId: 'apiListPlugins',
      response: { 200: z.object({ items: z.array(pluginView), count: z.number().int() }) },
    },
    handler: async () => {
      const plugins = await agents.listPlugins();
      return { items: plugins.map(toPluginView), count: plugins.length };
    },
  });

  app.post('/plugins', {
    config: { access: { scope: 'admin' } },
    bodyLimit: bodyLimit,
    schema: {
      summary: 'Add a plugin (skill) to the catalog',
      description: 'Admin only: the catalog is shared by every workspace, which then enables what it uses.',
      tags: ['API'],
      operationId: 'apiCreatePlugin',
      body: pluginBody,
      response: { 201: pluginView },
    },
    handler: async (request, reply) => {
      const body = request.body;
      const plugin = await agents.createPlugin({
        pluginId: body.id ?? body.slug,
        slug: body.slug,
        name: body.name,
        content: body.content,
        ...(body.version === undefined ? {} : { version: body.version }),
        description: body.description ?? null,
        tags: body.tags ?? [],
      });
      return reply.code(201).send(toPluginView(plugin));
    },
  });

  const workspaceParams = z.object({ workspace_id: idSchema });

  app.get('/workspaces/:workspace_id/plugins', {
    config: { access: { scope: 'agents:read', anyId: true } },
    schema: {
      summary: 'Plugins enabled for a workspace',
      tags: ['API'],
      operationId: 'apiListWorkspacePlugins',
      params: workspaceParams,
      response: { 200: z.object({ items: z.array(pluginView), count: z.number().int() }) },
    },
    handler: async (request) => {
      const plugins = await agents.listEnabledPlugins(pathWorkspace(request, request.params.workspace_id));
      return { items: plugins.map(toPluginView), count: plugins.length };
    },
  });

  app.post('/workspaces/:workspace_id/plugins', {
    config: { access: { scope: 'agents:write' } },
    schema: {
      summary: 'Enable a catalog plugin for a workspace',
      description: '201; 404 for a plugin not in the catalog; 409 when already enabled.',
      tags: ['API'],
      operationId: 'apiEnableWorkspacePlugin',
      params: workspaceParams,
      body: z.object({ plugin_id: z.string().min(1).max(128) }),
      response: { 201: pluginView },
    },
    handler: async (request, reply) => {
      const workspaceId = pathWorkspace(request, request.params.workspace_id);
      const plugin = await agents.getPlugin(request.body.plugin_id);
      if (!plugin) throw new NotFoundError(`Plugin ${request.body.plugin_id} is not in the catalog`);
      if (!(await agents.enablePlugin(workspaceId, plugin.pluginId))) {
        throw new ConflictError(`Plugin ${plugin.pluginId} is already enabled`);
      }
      return reply.code(201).send(toPluginView(plugin));
    },
  });

  app.delete('/workspaces/:workspace_id/plugins/:plugin_id', {
    config: { access: { scope: 'agents:write' } },
    schema: {
      summary: 'Disable a plugin for a workspace (its agents lose it)',
      tags: ['API'],
      operationId: 'apiDisableWorkspacePlugin',
      params: workspaceParams.extend({ plugin_id: z.string().min(1).max(128) }),
      response: { 204: z.null() },
    },
    handler: async (request, reply) => {
      const workspaceId = pathWorkspace(request, request.params.workspace_id);
      if (!(await agents.disablePlugin(workspaceId, request.params.plugin_id))) {
        throw new NotFoundError('Plugin not enabled for this workspace');
      }
      return reply.code(204).send(null);
    },
  });
};
