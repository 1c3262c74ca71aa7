/**
 * Core routes of the root surface: health, info, config and database migrations (seed 001, Agno §1.1).
 * @module
 */
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import type { AgentOsConfig } from '../../../config/index.js';
import { NotFoundError } from '../../../errors/index.js';
import type { Services } from '../../../services.js';
import { configResponse, healthResponse, infoResponse, migrateParams, migrateResponse } from './schemas.js';

/** What `/info` says about the built-in model (../shared/MODELS.md: it must be labelled honestly). */
const LOCAL_MODEL_NOTE =
  'local:default is a built-in deterministic model for offline use, not an LLM; configure openai:, anthropic: or ollama: models for real answers.';

/** The one database of this process, as `/config` and `/databases/{db_id}` name it. */
export const OS_DATABASE_ID = 'default';

function availableModels(config: AgentOsConfig): string[] {
  const models = new Set<string>([config.models.default]);
  for (const agent of config.agents) if (agent.model) models.add(agent.model);
  for (const team of config.teams) if (team.model) models.add(team.model);
  return [...models];
}

/** Summaries of `/config`, shared with `/info` counts. */
export function buildConfigView(services: Services): z.infer<typeof configResponse> {
  const { config, version } = services;
  const summary = (
    item: { id: string; name?: string | undefined; description?: string | undefined },
    model?: string,
  ) => ({
    id: item.id,
    name: item.name ?? item.id,
    ...(item.description === undefined ? {} : { description: item.description }),
    ...(model === undefined ? {} : { model }),
    db_id: OS_DATABASE_ID,
  });
  return {
    id: config.os_id,
    os_id: config.os_id,
    name: config.name,
    ...(config.description === undefined ? {} : { description: config.description }),
    version,
    available_models: availableModels(config),
    os_database: OS_DATABASE_ID,
    databases: [OS_DATABASE_ID],
    chat: { quick_prompts: {} },
    session: {
      dbs: [{ db_id: OS_DATABASE_ID, domain_config: { display_name: 'Sessions' }, tables: ['sessions', 'runs'] }],
    },
    knowledge: {
      knowledge_instances: config.knowledge.map((base) => ({
        id: base.id,
        name: base.name ?? base.id,
        db_id: OS_DATABASE_ID,
      })),
    },
    agents: config.agents.map((agent) => summary(agent, agent.model ?? config.models.default)),
    teams: config.teams.map((team) => summary(team, team.model ?? config.models.default)),
    workflows: config.workflows.map((workflow) => summary(workflow)),
    interfaces: [],
  };
}

/** Route table of the core routes. */
export const coreRoutes: FastifyPluginAsync<{ services: Services }> = async (fastify, { services }) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const instantiatedAt = new Date(services.startedAt).toISOString();

  app.get('/health', {
    config: { access: { public: true } },
    schema: {
      summary: 'Liveness and readiness',
      description: 'Answers 200 once the database is migrated and the server accepts requests.',
      tags: ['Core'],
      operationId: 'health',
      response: { 200: healthResponse },
    },
    handler: async () => ({ status: 'ok' as const, instantiated_at: instantiatedAt }),
  });

  app.get('/info', {
    config: { access: { public: true } },
    schema: {
      summary: 'Public metadata about this AgentOS',
      tags: ['Core'],
      operationId: 'info',
      response: { 200: infoResponse },
    },
    handler: async () => ({
      os_id: services.config.os_id,
      name: services.config.name,
      version: services.version,
      agent_count: services.config.agents.length,
      team_count: services.config.teams.length,
      workflow_count: services.config.workflows.length,
      auth_mode: await services.authenticator.mode(),
      default_model: services.config.models.default,
      ...(availableModels(services.config).includes('local:default') ? { local_model_note: LOCAL_MODEL_NOTE } : {}),
    }),
  });

  app.get('/config', {
    config: { access: { scope: 'config:read' } },
    schema: {
      summary: 'Full OS configuration for UIs',
      tags: ['Core'],
      operationId: 'getConfig',
      response: { 200: configResponse },
    },
    handler: async () => buildConfigView(services),
  });

  app.post('/databases/all/migrate', {
    config: { access: { scope: 'admin' } },
    schema: {
      summary: 'Apply pending schema migrations to every database',
      tags: ['Databases'],
      operationId: 'migrateAllDatabases',
      response: { 200: migrateResponse },
    },
    handler: async () => {
      const result = await services.store.migrate();
      return { message: `Migrated ${result.applied.length} migration(s)`, applied: result.applied };
    },
  });

  app.post('/databases/:db_id/migrate', {
    config: { access: { scope: 'admin' } },
    schema: {
      summary: 'Apply pending schema migrations to one database',
      tags: ['Databases'],
      operationId: 'migrateDatabase',
      params: migrateParams,
      response: { 200: migrateResponse },
    },
    handler: async (request) => {
      if (request.params.db_id !== OS_DATABASE_ID)
        throw new NotFoundError(`Database ${request.params.db_id} not found`);
      const result = await services.store.migrate();
      return { message: `Migrated ${result.applied.length} migration(s)`, applied: result.applied };
    },
  });
};
