/**
 * Agno components (research/agno.md §1.10) on the root surface: `/components` CRUD (soft delete),
 * `/components/{id}/configs` versions, editable drafts, publishing (`stage: "published"`), and
 * `set-current` to promote or roll back. Agent components run on every surface at their current
 * version, or at the `version` a run names. Timestamps are ISO-8601 here (root surface).
 * @module
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { assertDraft, checkConfigFor } from '../../../agents/components.js';
import { idSchema } from '../../../config/index.js';
import { ConflictError, NotFoundError } from '../../../errors/index.js';
import type { Services } from '../../../services.js';
import type { ComponentConfigRecord, ComponentRecord } from '../../../store/types.js';
import { workspaceOf } from '../../plugins/access-control.js';
import { pageMeta, pageMetaOf } from '../pagination.js';

const componentType = z.enum(['agent', 'team', 'workflow']);
const stage = z.enum(['draft', 'published']);
const iso = (ms: number) => new Date(ms).toISOString();

const componentView = z.object({
  component_id: z.string(),
  component_type: componentType,
  name: z.string(),
  description: z.string().nullable(),
  current_version: z.number().int().nullable(),
  metadata: z.record(z.string(), z.unknown()),
  created_at: z.string(),
  updated_at: z.string(),
});

const configView = z.object({
  component_id: z.string(),
  version: z.number().int(),
  label: z.string().nullable(),
  stage,
  config: z.record(z.string(), z.unknown()).optional(),
  notes: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});

function toComponentView(component: ComponentRecord): z.infer<typeof componentView> {
  return {
    component_id: component.componentId,
    component_type: component.componentType,
    name: component.name,
    description: component.description,
    current_version: component.currentVersion,
    metadata: component.metadata,
    created_at: iso(component.createdAt),
    updated_at: iso(component.updatedAt),
  };
}

function toConfigView(config: ComponentConfigRecord, includeConfig = true): z.infer<typeof configView> {
  return {
    component_id: config.componentId,
    version: config.version,
    label: config.label,
    stage: config.stage,
    ...(includeConfig ? { config: config.config } : {}),
    notes: config.notes,
    created_at: iso(config.createdAt),
    updated_at: iso(config.updatedAt),
  };
}

const idParams = z.object({ component_id: idSchema });
const versionParams = idParams.extend({ version: z.coerce.number().int().min(1) });
const configBody = z.record(z.string(), z.unknown());

/** Route table of `/components`. */
export const componentRoutes: FastifyPluginAsync<{ services: Services }> = async (fastify, { services }) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const store = services.store.agents;
  const { config } = services;

  const componentOf = async (request: FastifyRequest, id: string) => {
    const component = await store.getComponent(workspaceOf(request), id);
    if (!component) throw new NotFoundError('Component not found');
    return component;
  };
  const versionOf = async (request: FastifyRequest, id: string, version: number) => {
    const found = await store.getComponentConfig(workspaceOf(request), id, version);
    if (!found) throw new NotFoundError(`Config version ${version} not found`);
    return found;
  };
  const makeCurrent = async (component: ComponentRecord, version: ComponentConfigRecord) => {
    if (version.stage !== 'published') {
      throw new ConflictError(`Version ${version.version} is a draft; publish it before making it current`);
    }
    const updated = await store.updateComponent(component.workspaceId, component.componentId, {
      currentVersion: version.version,
    });
    if (!updated) throw new NotFoundError('Component not found');
    return updated;
  };

  app.get('/components', {
    config: { access: { scope: 'components:read' } },
    schema: {
      summary: 'List components',
      tags: ['Components'],
      operationId: 'listComponents',
      querystring: z.object({
        component_type: componentType.optional(),
        page: z.coerce.number().int().min(1).default(1),
        limit: z.coerce.number().int().min(1).max(100).default(20),
      }),
      response: { 200: z.object({ components: z.array(componentView), meta: pageMeta }) },
    },
    handler: async (request) => {
      const { component_type: type, page, limit } = request.query;
      const result = await store.listComponents({
        workspaceId: workspaceOf(request),
        ...(type === undefined ? {} : { componentType: type }),
        offset: (page - 1) * limit,
        limit,
      });
      return { components: result.items.map(toComponentView), meta: pageMetaOf(result.total, { page, limit }) };
    },
  });

  app.post('/components', {
    config: { access: { scope: 'components:write' } },
    schema: {
      summary: 'Create a component, optionally with its first config version',
      description:
        'With `config`, version 1 is created at `stage` (default draft); with `set_current` (default true) a ' +
        'published first version becomes current. Ids of config agents, teams and workflows are refused (409).',
      tags: ['Components'],
      operationId: 'createComponent',
      body: z.object({
        name: z.string().trim().min(1).max(255),
        component_id: idSchema.optional(),
        component_type: componentType,
        description: z.string().max(10_000).nullish(),
        metadata: z.record(z.string(), z.unknown()).optional(),
        config: configBody.optional(),
        label: z.string().max(255).nullish(),
        stage: stage.default('draft'),
        notes: z.string().max(10_000).nullish(),
        set_current: z.boolean().default(true),
      }),
      response: { 201: componentView },
    },
    handler: async (request, reply) => {
      const body = request.body;
      const workspaceId = workspaceOf(request);
      const componentId = body.component_id ?? crypto.randomUUID();
      if ([...config.agents, ...config.teams, ...config.workflows].some((entry) => entry.id === componentId)) {
        throw new ConflictError(`The id ${componentId} is already used by the config`);
      }
      if (await store.get(workspaceId, componentId)) {
        throw new ConflictError(`The id ${componentId} is already used by an /api agent`);
      }
      const identity = {
        componentId,
        componentType: body.component_type,
        name: body.name,
        description: body.description ?? null,
      };
      if (body.config) await checkConfigFor(services.store, config, workspaceId, identity, body.config);
      let component = await store.createComponent({
        workspaceId,
        componentId,
        componentType: body.component_type,
        name: body.name,
        description: body.description ?? null,
        metadata: body.metadata ?? {},
      });
      if (body.config) {
        const first = await store.createComponentConfig({
          workspaceId,
          componentId,
          config: body.config,
          stage: body.stage,
          label: body.label ?? null,
          notes: body.notes ?? null,
        });
        if (body.set_current && first.stage === 'published') component = await makeCurrent(component, first);
      }
      return reply.code(201).send(toComponentView(component));
    },
  });

  app.get('/components/:component_id', {
    config: { access: { scope: 'components:read' } },
    schema: {
      summary: 'Get a component',
      tags: ['Components'],
      operationId: 'getComponent',
      params: idParams,
      response: { 200: componentView },
    },
    handler: async (request) => toComponentView(await componentOf(request, request.params.component_id)),
  });

  app.patch('/components/:component_id', {
    config: { access: { scope: 'components:write' } },
    schema: {
      summary: 'Update a component',
      description:
        '`current_version` must name a published version; `component_type` may change only while there are no ' +
        'config versions (409).',
      tags: ['Components'],
      operationId: 'updateComponent',
      params: idParams,
      body: z.object({
        name: z.string().trim().min(1).max(255).optional(),
        description: z.string().max(10_000).nullish(),
        component_type: componentType.optional(),
        metadata: z.record(z.string(), z.unknown()).optional(),
        current_version: z.number().int().min(1).optional(),
      }),
      response: { 200: componentView },
    },
    handler: async (request) => {
      let component = await componentOf(request, request.params.component_id);
      const body = request.body;
      if (body.component_type !== undefined && body.component_type !== component.componentType) {
        // Its versions were checked against the schema of its type; they would not run as another one.
        const versions = await store.listComponentConfigs(component.workspaceId, component.componentId);
        if (versions.length > 0) {
          throw new ConflictError('component_type cannot change once the component has config versions');
        }
      }
      if (body.current_version !== undefined) {
        component = await makeCurrent(component, await versionOf(request, component.componentId, body.current_version));
      }
      const updated = await store.updateComponent(component.workspaceId, component.componentId, {
        ...(body.name === undefined ? {} : { name: body.name }),
        ...(body.description === undefined ? {} : { description: body.description }),
        ...(body.component_type === undefined ? {} : { componentType: body.component_type }),
        ...(body.metadata === undefined ? {} : { metadata: body.metadata }),
      });
      if (!updated) throw new NotFoundError('Component not found');
      return toComponentView(updated);
    },
  });

  app.delete('/components/:component_id', {
    config: { access: { scope: 'components:delete' } },
    schema: {
      summary: 'Delete a component (soft)',
      tags: ['Components'],
      operationId: 'deleteComponent',
      params: idParams,
      response: { 204: z.null() },
    },
    handler: async (request, reply) => {
      const component = await componentOf(request, request.params.component_id);
      await store.updateComponent(component.workspaceId, component.componentId, { deletedAt: Date.now() });
      return reply.code(204).send(null);
    },
  });

  app.get('/components/:component_id/configs', {
    config: { access: { scope: 'components:read' } },
    schema: {
      summary: 'List a component’s config versions',
      tags: ['Components'],
      operationId: 'listComponentConfigs',
      params: idParams,
      querystring: z.object({ include_config: z.enum(['true', 'false']).default('true') }),
      response: { 200: z.array(configView) },
    },
    handler: async (request) => {
      const component = await componentOf(request, request.params.component_id);
      const versions = await store.listComponentConfigs(component.workspaceId, component.componentId);
      return versions.map((version) => toConfigView(version, request.query.include_config === 'true'));
    },
  });

  app.post('/components/:component_id/configs', {
    config: { access: { scope: 'components:write' } },
    schema: {
      summary: 'Add a config version',
      description: 'The next number unless `version` is given; a published version with `set_current` becomes current.',
      tags: ['Components'],
      operationId: 'createComponentConfig',
      params: idParams,
      body: z.object({
        config: configBody,
        version: z.number().int().min(1).optional(),
        label: z.string().max(255).nullish(),
        stage: stage.default('draft'),
        notes: z.string().max(10_000).nullish(),
        set_current: z.boolean().default(true),
      }),
      response: { 201: configView },
    },
    handler: async (request, reply) => {
      const component = await componentOf(request, request.params.component_id);
      const body = request.body;
      await checkConfigFor(services.store, config, component.workspaceId, component, body.config);
      const created = await store.createComponentConfig({
        workspaceId: component.workspaceId,
        componentId: component.componentId,
        config: body.config,
        stage: body.stage,
        ...(body.version === undefined ? {} : { version: body.version }),
        label: body.label ?? null,
        notes: body.notes ?? null,
      });
      if (body.set_current && created.stage === 'published') await makeCurrent(component, created);
      return reply.code(201).send(toConfigView(created));
    },
  });

  app.get('/components/:component_id/configs/current', {
    config: { access: { scope: 'components:read' } },
    schema: {
      summary: 'The current config version',
      tags: ['Components'],
      operationId: 'getCurrentComponentConfig',
      params: idParams,
      response: { 200: configView },
    },
    handler: async (request) => {
      const component = await componentOf(request, request.params.component_id);
      if (component.currentVersion === null) throw new NotFoundError('The component has no current version');
      return toConfigView(await versionOf(request, component.componentId, component.currentVersion));
    },
  });

  app.get('/components/:component_id/configs/:version', {
    config: { access: { scope: 'components:read' } },
    schema: {
      summary: 'One config version',
      tags: ['Components'],
      operationId: 'getComponentConfig',
      params: versionParams,
      response: { 200: configView },
    },
    handler: async (request) => {
      const component = await componentOf(request, request.params.component_id);
      return toConfigView(await versionOf(request, component.componentId, request.params.version));
    },
  });

  app.patch('/components/:component_id/configs/:version', {
    config: { access: { scope: 'components:write' } },
    schema: {
      summary: 'Edit a draft version (or publish it with stage: published)',
      description: 'Published versions are frozen: 409.',
      tags: ['Components'],
      operationId: 'updateComponentConfig',
      params: versionParams,
      body: z.object({
        config: configBody.optional(),
        label: z.string().max(255).nullish(),
        stage: stage.optional(),
        notes: z.string().max(10_000).nullish(),
      }),
      response: { 200: configView },
    },
    handler: async (request) => {
      const component = await componentOf(request, request.params.component_id);
      const current = await versionOf(request, component.componentId, request.params.version);
      assertDraft(current);
      const body = request.body;
      if (body.config) await checkConfigFor(services.store, config, component.workspaceId, component, body.config);
      const updated = await store.updateComponentConfig(component.workspaceId, component.componentId, current.version, {
        ...(body.config === undefined ? {} : { config: body.config }),
        ...(body.label === undefined ? {} : { label: body.label }),
        ...(body.stage === undefined ? {} : { stage: body.stage }),
        ...(body.notes === undefined ? {} : { notes: body.notes }),
      });
      if (!updated) throw new NotFoundError(`Config version ${current.version} not found`);
      return toConfigView(updated);
    },
  });

  app.delete('/components/:component_id/configs/:version', {
    config: { access: { scope: 'components:delete' } },
    schema: {
      summary: 'Delete a draft version',
      description: 'Published and current versions stay: 409.',
      tags: ['Components'],
      operationId: 'deleteComponentConfig',
      params: versionParams,
      response: { 204: z.null() },
    },
    handler: async (request, reply) => {
      const component = await componentOf(request, request.params.component_id);
      const current = await versionOf(request, component.componentId, request.params.version);
      assertDraft(current);
      await store.deleteComponentConfig(component.workspaceId, component.componentId, current.version);
      return reply.code(204).send(null);
    },
  });

  app.post('/components/:component_id/configs/:version/set-current', {
    config: { access: { scope: 'components:write' } },
    schema: {
      summary: 'Make a published version current (promote or roll back)',
      tags: ['Components'],
      operationId: 'setCurrentComponentConfig',
      params: versionParams,
      response: { 200: componentView },
    },
    handler: async (request) => {
      const component = await componentOf(request, request.params.component_id);
      const version = await versionOf(request, component.componentId, request.params.version);
      return toComponentView(await makeCurrent(component, version));
    },
  });
};
