import { z } from 'zod';

export const healthResponse = z.object({
  status: z.literal('ok'),
  instantiated_at: z.string().describe('When this process started, ISO-8601 UTC'),
});

export const infoResponse = z.object({
  os_id: z.string(),
  name: z.string(),
  version: z.string(),
  agent_count: z.number().int(),
  team_count: z.number().int(),
  workflow_count: z.number().int(),
  auth_mode: z.enum(['none', 'api_key', 'jwt']),
  default_model: z.string(),
  /** Present when any agent runs on `local:default`, so nobody mistakes it for an LLM. */
  local_model_note: z.string().optional(),
});

const componentSummary = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string().optional(),
  model: z.string().optional(),
  db_id: z.string(),
});

const domainDbs = z.object({
  dbs: z.array(
    z.object({ db_id: z.string(), domain_config: z.object({ display_name: z.string() }), tables: z.array(z.string()) }),
  ),
});

export const configResponse = z.object({
  id: z.string(),
  os_id: z.string(),
  name: z.string(),
  description: z.string().optional(),
  version: z.string(),
  available_models: z.array(z.string()),
  os_database: z.string(),
  databases: z.array(z.string()),
  chat: z.object({ quick_prompts: z.record(z.string(), z.array(z.string())) }),
  session: domainDbs,
  knowledge: z.object({
    knowledge_instances: z.array(z.object({ id: z.string(), name: z.string(), db_id: z.string() })),
  }),
  agents: z.array(componentSummary),
  teams: z.array(componentSummary),
  workflows: z.array(componentSummary),
  interfaces: z.array(z.object({ type: z.string(), version: z.string(), route: z.string() })),
});

export const migrateParams = z.object({ db_id: z.string() });

export const migrateResponse = z.object({
  message: z.string(),
  applied: z.array(z.string()),
});
