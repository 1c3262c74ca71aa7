/**
 * The Kysely implementation of {@link AgentsStore}, dialect-neutral (SQLite and Postgres): JSON through
 * the json codec, numbers through `Number()` (Postgres returns bigint as text), booleans as 0/1.
 * @module
 */
import { type Kysely, type Selectable, sql } from 'kysely';
import { ConflictError } from '../../errors/index.js';
import type {
  AgentPluginRecord,
  AgentsStore,
  ComponentConfigCreate,
  ComponentConfigRecord,
  ComponentConfigUpdate,
  ComponentCreate,
  ComponentKind,
  ComponentRecord,
  ComponentUpdate,
  PersonaCreate,
  PersonaRecord,
  PersonaUpdate,
  PluginCreate,
  PluginRecord,
  StoredAgent,
  StoredAgentCreate,
  StoredAgentFilter,
  StoredAgentStatus,
  StoredAgentUpdate,
} from '../agents-types.js';
import type { Page } from '../types.js';
import { isUniqueViolation } from './constraint-errors.js';
import { decodeJson, encodeJson } from './json-codec.js';

/** Row types of migration 012. */
export interface AgentsTables {
  db_agents: {
    workspace_id: string;
    agent_id: string;
    name: string;
    agent_type: string;
    description: string | null;
    status: string;
    model_config: unknown;
    persona_id: string | null;
    use_custom_persona: number;
    custom_persona_prompt: string | null;
    instructions: string | null;
    tools: unknown;
    tags: unknown;
    configuration: unknown;
    created_at: number;
    updated_at: number;
    deleted_at: number | null;
  };
  personas: {
    persona_id: string;
    workspace_id: string | null;
    slug: string;
    name: string;
    description: string | null;
    system_prompt: string;
    suggested_temperature: number | null;
    category: string | null;
    tags: unknown;
    created_at: number;
    updated_at: number;
  };
  plugins: {
    plugin_id: string;
    slug: string;
    name: string;
    version: string;
    description: string | null;
    content: string;
    tags: unknown;
    created_at: number;
  };
  workspace_plugins: { workspace_id: string; plugin_id: string; enabled_at: number };
  agent_plugins: { workspace_id: string; agent_id: string; plugin_id: string; priority: number; assigned_at: number };
  components: {
    workspace_id: string;
    component_id: string;
    component_type: string;
    name: string;
    description: string | null;
    current_version: number | null;
    metadata: unknown;
    created_at: number;
    updated_at: number;
    deleted_at: number | null;
  };
  component_configs: {
    workspace_id: string;
    component_id: string;
    version: number;
    label: string | null;
    stage: string;
    config: unknown;
    notes: string | null;
    created_at: number;
    updated_at: number;
  };
}

type AgentRow = Selectable<AgentsTables['db_agents']>;
type PersonaRow = Selectable<AgentsTables['personas']>;
type PluginRow = Selectable<AgentsTables['plugins']>;
type ComponentRow = Selectable<AgentsTables['components']>;
type ConfigRow = Selectable<AgentsTables['component_configs']>;

function toComponent(row: ComponentRow): ComponentRecord {
  return {
    workspaceId: row.workspace_id,
    componentId: row.component_id,
    componentType: row.component_type as ComponentKind,
    name: row.name,
    description: row.description,
    currentVersion: numberOrNull(row.current_version),
    metadata: decodeJson(row.metadata, {}),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    deletedAt: numberOrNull(row.deleted_at),
  };
}

function toConfig(row: ConfigRow): ComponentConfigRecord {
  return {
    workspaceId: row.workspace_id,
    componentId: row.component_id,
    version: Number(row.version),
    label: row.label,
    stage: row.stage as ComponentConfigRecord['stage'],
    config: decodeJson(row.config, {}),
    notes: row.notes,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

const numberOrNull = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));

function toAgent(row: AgentRow): StoredAgent {
  return {
    workspaceId: row.workspace_id,
    agentId: row.agent_id,
    name: row.name,
    agentType: row.agent_type,
    description: row.description,
    status: row.status as StoredAgentStatus,
    modelConfig: decodeJson(row.model_config, {}),
    personaId: row.persona_id,
    useCustomPersona: Number(row.use_custom_persona) === 1,
    customPersonaPrompt: row.custom_persona_prompt,
    instructions: row.instructions,
    tools: decodeJson(row.tools, []),
    tags: decodeJson(row.tags, []),
    configuration: decodeJson(row.configuration, {}),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    deletedAt: numberOrNull(row.deleted_at),
  };
}

function toPersona(row: PersonaRow): PersonaRecord {
  return {
    personaId: row.persona_id,
    workspaceId: row.workspace_id,
    slug: row.slug,
    name: row.name,
    description: row.description,
    systemPrompt: row.system_prompt,
    suggestedTemperature: numberOrNull(row.suggested_temperature),
    category: row.category,
    tags: decodeJson(row.tags, []),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

function toPlugin(row: PluginRow): PluginRecord {
  return {
    pluginId: row.plugin_id,
    slug: row.slug,
    name: row.name,
    version: row.version,
    description: row.description,
    content: row.content,
    tags: decodeJson(row.tags, []),
    createdAt: Number(row.created_at),
  };
}

/** Agents, personas and plugins over Kysely. */
export class KyselyAgentsStore implements AgentsStore {
  private readonly db: Kysely<AgentsTables>;

  constructor(
    db: Kysely<unknown>,
    private readonly now: () => number,
  ) {
    // The tables of migration 012 only; the shared `Database` type need not know them.
    this.db = db as Kysely<AgentsTables>;
  }

  async create(input: StoredAgentCreate): Promise<StoredAgent> {
    const at = this.now();
    const row: AgentRow = {
      workspace_id: input.workspaceId,
      agent_id: input.agentId,
      name: input.name,
      agent_type: input.agentType ?? 'custom',
      description: input.description ?? null,
      status: input.status ?? 'active',
      model_config: encodeJson(input.modelConfig ?? {}),
      persona_id: input.personaId ?? null,
      use_custom_persona: input.useCustomPersona ? 1 : 0,
      custom_persona_prompt: input.customPersonaPrompt ?? null,
      instructions: input.instructions ?? null,
      tools: encodeJson(input.tools ?? []),
      tags: encodeJson(input.tags ?? []),
      configuration: encodeJson(input.configuration ?? {}),
      created_at: at,
      updated_at: at,
      deleted_at: null,
    };
    try {
      await this.db.insertInto('db_agents').values(row).execute();
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictError(`Agent ${input.agentId} already exists`);
      throw error;
    }
    return toAgent(row);
  }

  async get(workspaceId: string, agentId: string, options: { includeDeleted?: boolean } = {}) {
    let query = this.db
      .selectFrom('db_agents')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('agent_id', '=', agentId);
    if (!options.includeDeleted) query = query.where('deleted_at', 'is', null);
    const row = await query.executeTakeFirst();
    return row ? toAgent(row) : null;
  }

  async list(filter: StoredAgentFilter): Promise<Page<StoredAgent>> {
    let query = this.db.selectFrom('db_agents').where('workspace_id', '=', filter.workspaceId);
    if (filter.status !== undefined) query = query.where('status', '=', filter.status);
    else if (!filter.includeDeleted) query = query.where('deleted_at', 'is', null);
    if (filter.agentType !== undefined) query = query.where('agent_type', '=', filter.agentType);
    if (filter.search !== undefined && filter.search !== '') {
      // lower() on both sides: LIKE is case-insensitive on SQLite but not on Postgres. The explicit ESCAPE
      // makes `%` and `_` in the search literal on both (SQLite has no default escape character).
      const pattern = `%${filter.search.toLowerCase().replace(/[\\%_]/g, (char) => `\\${char}`)}%`;
      query = query.where(
        sql<boolean>`(lower(name) like ${pattern} escape '\\' or lower(coalesce(description, '')) like ${pattern} escape '\\')`,
      );
    }
    const limit = Math.min(Math.max(filter.limit ?? 100, 1), 1000);
    const offset = Math.max(filter.offset ?? 0, 0);
    const [rows, count] = await Promise.all([
      query.selectAll().orderBy('created_at', 'desc').orderBy('agent_id').limit(limit).offset(offset).execute(),
      query.select((builder) => builder.fn.countAll().as('total')).executeTakeFirst(),
    ]);
    return { items: rows.map(toAgent), total: Number(count?.total ?? 0) };
  }

  async update(workspaceId: string, agentId: string, patch: StoredAgentUpdate): Promise<StoredAgent | null> {
    const values: Partial<AgentRow> = { updated_at: this.now() };
    if (patch.name !== undefined) values.name = patch.name;
    if (patch.agentType !== undefined) values.agent_type = patch.agentType;
    if (patch.description !== undefined) values.description = patch.description;
    if (patch.status !== undefined) values.status = patch.status;
    if (patch.modelConfig !== undefined) values.model_config = encodeJson(patch.modelConfig);
    if (patch.personaId !== undefined) values.persona_id = patch.personaId;
    if (patch.useCustomPersona !== undefined) values.use_custom_persona = patch.useCustomPersona ? 1 : 0;
    if (patch.customPersonaPrompt !== undefined) values.custom_persona_prompt = patch.customPersonaPrompt;
    if (patch.instructions !== undefined) values.instructions = patch.instructions;
    if (patch.tools !== undefined) values.tools = encodeJson(patch.tools);
    if (patch.tags !== undefined) values.tags = encodeJson(patch.tags);
    if (patch.configuration !== undefined) values.configuration = encodeJson(patch.configuration);
    if (patch.deletedAt !== undefined) values.deleted_at = patch.deletedAt;
    const result = await this.db
      .updateTable('db_agents')
      .set(values)
      .where('workspace_id', '=', workspaceId)
      .where('agent_id', '=', agentId)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) return null;
    return this.get(workspaceId, agentId, { includeDeleted: true });
  }

  async createPersona(input: PersonaCreate): Promise<PersonaRecord> {
    const at = this.now();
    const row: PersonaRow = {
      persona_id: input.personaId,
      workspace_id: input.workspaceId,
      slug: input.slug,
      name: input.name,
      description: input.description ?? null,
      system_prompt: input.systemPrompt,
      suggested_temperature: input.suggestedTemperature ?? null,
      category: input.category ?? null,
      tags: encodeJson(input.tags ?? []),
      created_at: at,
      updated_at: at,
    };
    try {
      await this.db.insertInto('personas').values(row).execute();
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictError(`Persona ${input.personaId} already exists`);
      throw error;
    }
    return toPersona(row);
  }

  async getPersona(workspaceId: string, personaId: string): Promise<PersonaRecord | null> {
    const row = await this.db
      .selectFrom('personas')
      .selectAll()
      .where('persona_id', '=', personaId)
      .where((eb) => eb.or([eb('workspace_id', 'is', null), eb('workspace_id', '=', workspaceId)]))
      .executeTakeFirst();
    return row ? toPersona(row) : null;
  }

  async listPersonas(filter: { workspaceId: string; scope?: 'global' | 'workspace'; category?: string }) {
    let query = this.db.selectFrom('personas').selectAll();
    if (filter.scope === 'global') query = query.where('workspace_id', 'is', null);
    else if (filter.scope === 'workspace') query = query.where('workspace_id', '=', filter.workspaceId);
    else {
      query = query.where((eb) => eb.or([eb('workspace_id', 'is', null), eb('workspace_id', '=', filter.workspaceId)]));
    }
    if (filter.category !== undefined) query = query.where('category', '=', filter.category);
    const rows = await query.orderBy('name').orderBy('persona_id').execute();
    return rows.map(toPersona);
  }

  async updatePersona(workspaceId: string | null, personaId: string, patch: PersonaUpdate) {
    const values: Partial<PersonaRow> = { updated_at: this.now() };
    if (patch.slug !== undefined) values.slug = patch.slug;
    if (patch.name !== undefined) values.name = patch.name;
    if (patch.description !== undefined) values.description = patch.description;
    if (patch.systemPrompt !== undefined) values.system_prompt = patch.systemPrompt;
    if (patch.suggestedTemperature !== undefined) values.suggested_temperature = patch.suggestedTemperature;
    if (patch.category !== undefined) values.category = patch.category;
    if (patch.tags !== undefined) values.tags = encodeJson(patch.tags);
    const result = await this.db
      .updateTable('personas')
      .set(values)
      .where('persona_id', '=', personaId)
      .where('workspace_id', workspaceId === null ? 'is' : '=', workspaceId)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) return null;
    const row = await this.db.selectFrom('personas').selectAll().where('persona_id', '=', personaId).executeTakeFirst();
    return row ? toPersona(row) : null;
  }

  async deletePersona(workspaceId: string | null, personaId: string): Promise<boolean> {
    return this.db.transaction().execute(async (transaction) => {
      const result = await transaction
        .deleteFrom('personas')
        .where('persona_id', '=', personaId)
        .where('workspace_id', workspaceId === null ? 'is' : '=', workspaceId)
        .executeTakeFirst();
      if (Number(result.numDeletedRows) === 0) return false;
      // Automatos: deleting a persona clears it from the agents that used it (all of them for a global one).
      let clear = transaction
        .updateTable('db_agents')
        .set({ persona_id: null, updated_at: this.now() })
        .where('persona_id', '=', personaId);
      if (workspaceId !== null) clear = clear.where('workspace_id', '=', workspaceId);
      await clear.execute();
      return true;
    });
  }

  async createPlugin(input: PluginCreate): Promise<PluginRecord> {
    const row: PluginRow = {
      plugin_id: input.pluginId,
      slug: input.slug,
      name: input.name,
      version: input.version ?? '1.0.0',
      description: input.description ?? null,
      content: input.content,
      tags: encodeJson(input.tags ?? []),
      created_at: this.now(),
    };
    try {
      await this.db.insertInto('plugins').values(row).execute();
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictError(`Plugin ${input.pluginId} (${input.slug}) already exists`);
      throw error;
    }
    return toPlugin(row);
  }

  async getPlugin(pluginId: string): Promise<PluginRecord | null> {
    const row = await this.db.selectFrom('plugins').selectAll().where('plugin_id', '=', pluginId).executeTakeFirst();
    return row ? toPlugin(row) : null;
  }

  async listPlugins(): Promise<PluginRecord[]> {
    const rows = await this.db.selectFrom('plugins').selectAll().orderBy('name').orderBy('plugin_id').execute();
    return rows.map(toPlugin);
  }

  async enablePlugin(workspaceId: string, pluginId: string): Promise<boolean> {
    const result = await this.db
      .insertInto('workspace_plugins')
      .values({ workspace_id: workspaceId, plugin_id: pluginId, enabled_at: this.now() })
      .onConflict((conflict) => conflict.columns(['workspace_id', 'plugin_id']).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async disablePlugin(workspaceId: string, pluginId: string): Promise<boolean> {
    return this.db.transaction().execute(async (transaction) => {
      const result = await transaction
        .deleteFrom('workspace_plugins')
        .where('workspace_id', '=', workspaceId)
        .where('plugin_id', '=', pluginId)
        .executeTakeFirst();
      await transaction
        .deleteFrom('agent_plugins')
        .where('workspace_id', '=', workspaceId)
        .where('plugin_id', '=', pluginId)
        .execute();
      return Number(result.numDeletedRows) > 0;
    });
  }

  async listEnabledPlugins(workspaceId: string): Promise<PluginRecord[]> {
    const rows = await this.db
      .selectFrom('workspace_plugins')
      .innerJoin('plugins', 'plugins.plugin_id', 'workspace_plugins.plugin_id')
      .selectAll('plugins')
      .where('workspace_plugins.workspace_id', '=', workspaceId)
      .orderBy('workspace_plugins.enabled_at')
      .orderBy('plugins.plugin_id')
      .execute();
    return rows.map(toPlugin);
  }

  async setAgentPlugins(workspaceId: string, agentId: string, pluginIds: readonly string[]): Promise<void> {
    const at = this.now();
    await this.db.transaction().execute(async (transaction) => {
      await transaction
        .deleteFrom('agent_plugins')
        .where('workspace_id', '=', workspaceId)
        .where('agent_id', '=', agentId)
        .execute();
      if (pluginIds.length === 0) return;
      await transaction
        .insertInto('agent_plugins')
        .values(
          pluginIds.map((pluginId, priority) => ({
            workspace_id: workspaceId,
            agent_id: agentId,
            plugin_id: pluginId,
            priority,
            assigned_at: at,
          })),
        )
        .execute();
    });
  }

  async listAgentPlugins(workspaceId: string, agentId: string): Promise<AgentPluginRecord[]> {
    const rows = await this.db
      .selectFrom('agent_plugins')
      .innerJoin('plugins', 'plugins.plugin_id', 'agent_plugins.plugin_id')
      .selectAll('plugins')
      .select(['agent_plugins.priority', 'agent_plugins.assigned_at'])
      .where('agent_plugins.workspace_id', '=', workspaceId)
      .where('agent_plugins.agent_id', '=', agentId)
      .orderBy('agent_plugins.priority')
      .execute();
    return rows.map((row) => ({
      plugin: toPlugin(row),
      priority: Number(row.priority),
      assignedAt: Number(row.assigned_at),
    }));
  }

  async createComponent(input: ComponentCreate): Promise<ComponentRecord> {
    const at = this.now();
    const row: ComponentRow = {
      workspace_id: input.workspaceId,
      component_id: input.componentId,
      component_type: input.componentType,
      name: input.name,
      description: input.description ?? null,
      current_version: null,
      metadata: encodeJson(input.metadata ?? {}),
      created_at: at,
      updated_at: at,
      deleted_at: null,
    };
    try {
      await this.db.insertInto('components').values(row).execute();
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictError(`Component ${input.componentId} already exists`);
      throw error;
    }
    return toComponent(row);
  }

  async getComponent(workspaceId: string, componentId: string): Promise<ComponentRecord | null> {
    const row = await this.db
      .selectFrom('components')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('component_id', '=', componentId)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    return row ? toComponent(row) : null;
  }

  async listComponents(filter: {
    workspaceId: string;
    componentType?: ComponentKind;
    offset?: number;
    limit?: number;
  }): Promise<Page<ComponentRecord>> {
    let query = this.db
      .selectFrom('components')
      .where('workspace_id', '=', filter.workspaceId)
      .where('deleted_at', 'is', null);
    if (filter.componentType !== undefined) query = query.where('component_type', '=', filter.componentType);
    const limit = Math.min(Math.max(filter.limit ?? 100, 1), 1000);
    const offset = Math.max(filter.offset ?? 0, 0);
    const [rows, count] = await Promise.all([
      query.selectAll().orderBy('created_at', 'desc').orderBy('component_id').limit(limit).offset(offset).execute(),
      query.select((builder) => builder.fn.countAll().as('total')).executeTakeFirst(),
    ]);
    return { items: rows.map(toComponent), total: Number(count?.total ?? 0) };
  }

  async updateComponent(workspaceId: string, componentId: string, patch: ComponentUpdate) {
    const values: Partial<ComponentRow> = { updated_at: this.now() };
    if (patch.name !== undefined) values.name = patch.name;
    if (patch.description !== undefined) values.description = patch.description;
    if (patch.componentType !== undefined) values.component_type = patch.componentType;
    if (patch.metadata !== undefined) values.metadata = encodeJson(patch.metadata);
    if (patch.currentVersion !== undefined) values.current_version = patch.currentVersion;
    if (patch.deletedAt !== undefined) values.deleted_at = patch.deletedAt;
    const result = await this.db
      .updateTable('components')
      .set(values)
      .where('workspace_id', '=', workspaceId)
      .where('component_id', '=', componentId)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) return null;
    const row = await this.db
      .selectFrom('components')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('component_id', '=', componentId)
      .executeTakeFirst();
    return row ? toComponent(row) : null;
  }

  async createComponentConfig(input: ComponentConfigCreate): Promise<ComponentConfigRecord> {
    const at = this.now();
    const last = await this.db
      .selectFrom('component_configs')
      .select((builder) => builder.fn.max('version').as('version'))
      .where('workspace_id', '=', input.workspaceId)
      .where('component_id', '=', input.componentId)
      .executeTakeFirst();
    const row: ConfigRow = {
      workspace_id: input.workspaceId,
      component_id: input.componentId,
      version: input.version ?? Number(last?.version ?? 0) + 1,
      label: input.label ?? null,
      stage: input.stage,
      config: encodeJson(input.config),
      notes: input.notes ?? null,
      created_at: at,
      updated_at: at,
    };
    try {
      await this.db.insertInto('component_configs').values(row).execute();
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictError(`Version ${row.version} already exists`);
      throw error;
    }
    return toConfig(row);
  }

  async getComponentConfig(workspaceId: string, componentId: string, version: number) {
    const row = await this.db
      .selectFrom('component_configs')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('component_id', '=', componentId)
      .where('version', '=', version)
      .executeTakeFirst();
    return row ? toConfig(row) : null;
  }

  async listComponentConfigs(workspaceId: string, componentId: string): Promise<ComponentConfigRecord[]> {
    const rows = await this.db
      .selectFrom('component_configs')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('component_id', '=', componentId)
      .orderBy('version')
      .execute();
    return rows.map(toConfig);
  }

  async updateComponentConfig(
    workspaceId: string,
    componentId: string,
    version: number,
    patch: ComponentConfigUpdate,
  ): Promise<ComponentConfigRecord | null> {
    const values: Partial<ConfigRow> = { updated_at: this.now() };
    if (patch.config !== undefined) values.config = encodeJson(patch.config);
    if (patch.label !== undefined) values.label = patch.label;
    if (patch.stage !== undefined) values.stage = patch.stage;
    if (patch.notes !== undefined) values.notes = patch.notes;
    const result = await this.db
      .updateTable('component_configs')
      .set(values)
      .where('workspace_id', '=', workspaceId)
      .where('component_id', '=', componentId)
      .where('version', '=', version)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) return null;
    return this.getComponentConfig(workspaceId, componentId, version);
  }

  async deleteComponentConfig(workspaceId: string, componentId: string, version: number): Promise<boolean> {
    const result = await this.db
      .deleteFrom('component_configs')
      .where('workspace_id', '=', workspaceId)
      .where('component_id', '=', componentId)
      .where('version', '=', version)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /** Deletes every row of the tables of this store (tests). */
  async clear(): Promise<void> {
    await this.db.transaction().execute(async (transaction) => {
      for (const table of [
        'component_configs',
        'components',
        'agent_plugins',
        'workspace_plugins',
        'plugins',
        'personas',
        'db_agents',
      ] as const) {
        await transaction.deleteFrom(table).execute();
      }
    });
  }
}
