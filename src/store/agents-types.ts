/**
 * Agents stored in the database (Automatos and iii `/api/agents`, research/agtos-automatos.md §2.3–2.4):
 * the agents themselves (soft-deleted), personas (global or per workspace), the plugin/skill catalog,
 * plugins enabled per workspace, and plugins assigned per agent in priority order. Everything but the
 * catalog and global personas belongs to a workspace; another workspace's rows read as missing.
 * @module
 */
import type { Page } from './types.js';

/** Automatos' status machine: active ↔ idle ↔ failed; `deleted` is terminal (soft delete). */
export type StoredAgentStatus = 'active' | 'idle' | 'failed' | 'deleted';

/** An agent defined through the API. */
export interface StoredAgent {
  workspaceId: string;
  agentId: string;
  name: string;
  agentType: string;
  description: string | null;
  status: StoredAgentStatus;
  /** `{model_id?, temperature?, max_tokens?}` and whatever else the client stores there. */
  modelConfig: Record<string, unknown>;
  personaId: string | null;
  useCustomPersona: boolean;
  customPersonaPrompt: string | null;
  instructions: string | null;
  /** Built-in tool names the agent may call. */
  tools: string[];
  tags: string[];
  /** Free-form settings (Automatos `configuration`, iii fields such as `toolProfile`). */
  configuration: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
  deletedAt: number | null;
}

export type StoredAgentCreate = Pick<StoredAgent, 'workspaceId' | 'agentId' | 'name'> &
  Partial<
    Pick<
      StoredAgent,
      | 'agentType'
      | 'description'
      | 'status'
      | 'modelConfig'
      | 'personaId'
      | 'useCustomPersona'
      | 'customPersonaPrompt'
      | 'instructions'
      | 'tools'
      | 'tags'
      | 'configuration'
    >
  >;

export type StoredAgentUpdate = Partial<Omit<StoredAgentCreate, 'workspaceId' | 'agentId'>> & {
  deletedAt?: number | null;
};

export interface StoredAgentFilter {
  workspaceId: string;
  status?: StoredAgentStatus;
  agentType?: string;
  /** Case-insensitive substring of name or description. */
  search?: string;
  /** Deleted agents are left out unless asked for (or `status: 'deleted'`). */
  includeDeleted?: boolean;
  offset?: number;
  limit?: number;
}

/** A persona: a reusable system prompt with a suggested temperature; `workspaceId` null = global. */
export interface PersonaRecord {
  personaId: string;
  workspaceId: string | null;
  slug: string;
  name: string;
  description: string | null;
  systemPrompt: string;
  suggestedTemperature: number | null;
  category: string | null;
  tags: string[];
  createdAt: number;
  updatedAt: number;
}

export type PersonaCreate = Pick<PersonaRecord, 'personaId' | 'workspaceId' | 'slug' | 'name' | 'systemPrompt'> &
  Partial<Pick<PersonaRecord, 'description' | 'suggestedTemperature' | 'category' | 'tags'>>;

export type PersonaUpdate = Partial<
  Pick<PersonaRecord, 'slug' | 'name' | 'description' | 'systemPrompt' | 'suggestedTemperature' | 'category' | 'tags'>
>;

/** A catalog plugin (skill pack): its `content` is the full SKILL.md the agent receives. */
export interface PluginRecord {
  pluginId: string;
  slug: string;
  name: string;
  version: string;
  description: string | null;
  content: string;
  tags: string[];
  createdAt: number;
}

export type PluginCreate = Pick<PluginRecord, 'pluginId' | 'slug' | 'name' | 'content'> &
  Partial<Pick<PluginRecord, 'version' | 'description' | 'tags'>>;

/** A plugin assigned to an agent; `priority` is its index in the assigned list. */
export interface AgentPluginRecord {
  plugin: PluginRecord;
  priority: number;
  assignedAt: number;
}

/** The agents, personas, plugins and components stored in the database. */
export interface AgentsStore extends ComponentStore {
  /** `ConflictError` when the id exists in the workspace (deleted agents included). */
  create(input: StoredAgentCreate): Promise<StoredAgent>;
  /** Deleted agents read as missing unless `includeDeleted`. */
  get(workspaceId: string, agentId: string, options?: { includeDeleted?: boolean }): Promise<StoredAgent | null>;
  /** Newest first. */
  list(filter: StoredAgentFilter): Promise<Page<StoredAgent>>;
  /** Applies the patch and bumps `updatedAt`; `null` when missing (deleted included). */
  update(workspaceId: string, agentId: string, patch: StoredAgentUpdate): Promise<StoredAgent | null>;

  createPersona(input: PersonaCreate): Promise<PersonaRecord>;
  /** A global persona or one of the workspace; `null` otherwise. */
  getPersona(workspaceId: string, personaId: string): Promise<PersonaRecord | null>;
  /** Global and the workspace's personas, by name; `scope` narrows to one of the two. */
  listPersonas(filter: {
    workspaceId: string;
    scope?: 'global' | 'workspace';
    category?: string;
  }): Promise<PersonaRecord[]>;
  /** Updates a persona of exactly this scope (`workspaceId` null = global); `null` when missing. */
  updatePersona(workspaceId: string | null, personaId: string, patch: PersonaUpdate): Promise<PersonaRecord | null>;
  /** Deletes a persona of this scope and clears it from the agents that used it; `false` when missing. */
  deletePersona(workspaceId: string | null, personaId: string): Promise<boolean>;

  /** `ConflictError` on a duplicate id or slug. */
  createPlugin(input: PluginCreate): Promise<PluginRecord>;
  getPlugin(pluginId: string): Promise<PluginRecord | null>;
  /** The catalog, by name. */
  listPlugins(): Promise<PluginRecord[]>;
  /** `false` when already enabled. */
  enablePlugin(workspaceId: string, pluginId: string): Promise<boolean>;
  /** Disables and removes the plugin from every agent of the workspace; `false` when it was not enabled. */
  disablePlugin(workspaceId: string, pluginId: string): Promise<boolean>;
  /** Plugins enabled in the workspace, in the order they were enabled. */
  listEnabledPlugins(workspaceId: string): Promise<PluginRecord[]>;
  /** Replaces the agent's plugins (priority = index), atomically. Callers check enablement first. */
  setAgentPlugins(workspaceId: string, agentId: string, pluginIds: readonly string[]): Promise<void>;
  /** The agent's plugins by priority. */
  listAgentPlugins(workspaceId: string, agentId: string): Promise<AgentPluginRecord[]>;
}

/** What a component is (Agno). */
export type ComponentKind = 'agent' | 'team' | 'workflow';

/** An Agno component: a database-defined agent, team or workflow with versioned configs. */
export interface ComponentRecord {
  workspaceId: string;
  componentId: string;
  componentType: ComponentKind;
  name: string;
  description: string | null;
  /** The version runs use unless they name one; null until a version is published and made current. */
  currentVersion: number | null;
  metadata: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
  deletedAt: number | null;
}

export type ComponentCreate = Pick<ComponentRecord, 'workspaceId' | 'componentId' | 'componentType' | 'name'> &
  Partial<Pick<ComponentRecord, 'description' | 'metadata'>>;

export type ComponentUpdate = Partial<
  Pick<ComponentRecord, 'name' | 'description' | 'componentType' | 'metadata' | 'currentVersion' | 'deletedAt'>
>;

/** One config version of a component; only `draft` versions may change. */
export interface ComponentConfigRecord {
  workspaceId: string;
  componentId: string;
  version: number;
  label: string | null;
  stage: 'draft' | 'published';
  config: Record<string, unknown>;
  notes: string | null;
  createdAt: number;
  updatedAt: number;
}

export type ComponentConfigCreate = Pick<ComponentConfigRecord, 'workspaceId' | 'componentId' | 'config' | 'stage'> &
  Partial<Pick<ComponentConfigRecord, 'version' | 'label' | 'notes'>>;

export type ComponentConfigUpdate = Partial<Pick<ComponentConfigRecord, 'config' | 'label' | 'stage' | 'notes'>>;

/** Components and their config versions (part of {@link AgentsStore}). */
export interface ComponentStore {
  /** `ConflictError` when the id exists in the workspace. */
  createComponent(input: ComponentCreate): Promise<ComponentRecord>;
  /** Deleted components read as missing. */
  getComponent(workspaceId: string, componentId: string): Promise<ComponentRecord | null>;
  /** Newest first, deleted ones left out. */
  listComponents(filter: {
    workspaceId: string;
    componentType?: ComponentKind;
    offset?: number;
    limit?: number;
  }): Promise<Page<ComponentRecord>>;
  updateComponent(workspaceId: string, componentId: string, patch: ComponentUpdate): Promise<ComponentRecord | null>;
  /** Adds a version (the next number unless given); `ConflictError` on a taken number. */
  createComponentConfig(input: ComponentConfigCreate): Promise<ComponentConfigRecord>;
  getComponentConfig(workspaceId: string, componentId: string, version: number): Promise<ComponentConfigRecord | null>;
  /** Oldest version first. */
  listComponentConfigs(workspaceId: string, componentId: string): Promise<ComponentConfigRecord[]>;
  updateComponentConfig(
    workspaceId: string,
    componentId: string,
    version: number,
    patch: ComponentConfigUpdate,
  ): Promise<ComponentConfigRecord | null>;
  deleteComponentConfig(workspaceId: string, componentId: string, version: number): Promise<boolean>;
}
