/**
 * Contract of database agents, personas and plugins (migration 012), registered by `runStoreContract`
 * so it runs on every adapter (SQLite always, Postgres with `AGENTOS_TEST_PG=1`).
 * @module
 */
import { describe, expect, it } from 'vitest';
import { ConflictError } from '../../errors/index.js';
import type { Store } from '../types.js';

/** Registers the agents contract; `store()` returns the suite's store (cleared before each test). */
export function runAgentsContract(store: () => Store): void {
  describe('database agents', () => {
    it('creates, reads back with JSON fields and booleans, and scopes by workspace', async () => {
      const created = await store().agents.create({
        workspaceId: 'ws-a',
        agentId: 'writer',
        name: 'Writer',
        agentType: 'content',
        modelConfig: { model_id: 'local:default', temperature: 0.3 },
        useCustomPersona: true,
        customPersonaPrompt: 'Be terse.',
        tools: ['calculator'],
        tags: ['x'],
      });
      expect(created).toMatchObject({ status: 'active', useCustomPersona: true, deletedAt: null });
      const read = await store().agents.get('ws-a', 'writer');
      expect(read).toEqual(created);
      expect(await store().agents.get('ws-b', 'writer')).toBeNull();
      await expect(store().agents.create({ workspaceId: 'ws-a', agentId: 'writer', name: 'Again' })).rejects.toThrow(
        ConflictError,
      );
      // The same id in another workspace is another agent.
      await store().agents.create({ workspaceId: 'ws-b', agentId: 'writer', name: 'Other' });
    });

    it('filters by status, type and case-insensitive search; hides soft-deleted agents', async () => {
      const agents = store().agents;
      await agents.create({ workspaceId: 'w', agentId: 'a1', name: 'Alpha Bot', agentType: 'support' });
      await agents.create({ workspaceId: 'w', agentId: 'a2', name: 'Beta', description: 'ALPHA helper' });
      await agents.create({ workspaceId: 'w', agentId: 'a3', name: 'Gamma', status: 'idle' });
      expect((await agents.list({ workspaceId: 'w', search: 'alpha' })).items.map((a) => a.agentId).sort()).toEqual([
        'a1',
        'a2',
      ]);
      expect((await agents.list({ workspaceId: 'w', status: 'idle' })).items.map((a) => a.agentId)).toEqual(['a3']);
      expect((await agents.list({ workspaceId: 'w', agentType: 'support' })).total).toBe(1);
      // `%` and `_` in a search are literal characters, not wildcards.
      await agents.create({ workspaceId: 'w-search', agentId: 'a4', name: 'Sale 50% off_now' });
      expect((await agents.list({ workspaceId: 'w-search', search: '50%' })).items.map((a) => a.agentId)).toEqual([
        'a4',
      ]);
      expect((await agents.list({ workspaceId: 'w-search', search: 'f_n' })).items.map((a) => a.agentId)).toEqual([
        'a4',
      ]);
      expect((await agents.list({ workspaceId: 'w-search', search: 'a_p' })).total).toBe(0);
      expect((await agents.list({ workspaceId: 'w-search', search: '%' })).total).toBe(1);
      const deleted = await agents.update('w', 'a3', { status: 'deleted', deletedAt: 5 });
      expect(deleted).toMatchObject({ status: 'deleted', deletedAt: 5 });
      expect(await agents.get('w', 'a3')).toBeNull();
      expect(await agents.get('w', 'a3', { includeDeleted: true })).not.toBeNull();
      const page = await agents.list({ workspaceId: 'w' });
      expect(page.total).toBe(2);
      expect((await agents.list({ workspaceId: 'w', status: 'deleted' })).total).toBe(1);
      expect(await agents.update('other', 'a1', { name: 'x' })).toBeNull();
    });

    it('keeps global and workspace personas apart and clears a deleted persona from agents', async () => {
      const agents = store().agents;
      await agents.createPersona({ personaId: 'p-g', workspaceId: null, slug: 'g', name: 'Global', systemPrompt: 'G' });
      await agents.createPersona({
        personaId: 'p-w',
        workspaceId: 'w',
        slug: 'w',
        name: 'Mine',
        systemPrompt: 'W',
        suggestedTemperature: 0.7,
      });
      expect((await agents.listPersonas({ workspaceId: 'w' })).map((p) => p.personaId)).toEqual(['p-g', 'p-w']);
      expect((await agents.listPersonas({ workspaceId: 'other' })).map((p) => p.personaId)).toEqual(['p-g']);
      expect(await agents.getPersona('other', 'p-w')).toBeNull();
      expect((await agents.getPersona('w', 'p-w'))?.suggestedTemperature).toBe(0.7);
      expect(await agents.updatePersona('other', 'p-w', { name: 'x' })).toBeNull();
      expect(await agents.updatePersona('w', 'p-w', { systemPrompt: 'W2' })).toMatchObject({ systemPrompt: 'W2' });
      await agents.create({ workspaceId: 'w', agentId: 'a', name: 'A', personaId: 'p-w' });
      expect(await agents.deletePersona('w', 'p-w')).toBe(true);
      expect((await agents.get('w', 'a'))?.personaId).toBeNull();
      expect(await agents.deletePersona('w', 'p-w')).toBe(false);
    });

    it('enables plugins per workspace and assigns them per agent in priority order', async () => {
      const agents = store().agents;
      for (const id of ['p1', 'p2', 'p3']) {
        await agents.createPlugin({ pluginId: id, slug: `slug-${id}`, name: id.toUpperCase(), content: `# ${id}` });
      }
      await expect(agents.createPlugin({ pluginId: 'p4', slug: 'slug-p1', name: 'dup', content: '' })).rejects.toThrow(
        ConflictError,
      );
      expect(await agents.enablePlugin('w', 'p1')).toBe(true);
      expect(await agents.enablePlugin('w', 'p1')).toBe(false);
      await agents.enablePlugin('w', 'p2');
      expect((await agents.listEnabledPlugins('w')).map((p) => p.pluginId)).toEqual(['p1', 'p2']);
      expect(await agents.listEnabledPlugins('other')).toEqual([]);
      await agents.setAgentPlugins('w', 'a', ['p2', 'p1']);
      expect((await agents.listAgentPlugins('w', 'a')).map((p) => [p.plugin.pluginId, p.priority])).toEqual([
        ['p2', 0],
        ['p1', 1],
      ]);
      await agents.setAgentPlugins('w', 'a', ['p1']);
      expect((await agents.listAgentPlugins('w', 'a')).map((p) => p.plugin.pluginId)).toEqual(['p1']);
      expect(await agents.disablePlugin('w', 'p1')).toBe(true);
      expect(await agents.listAgentPlugins('w', 'a')).toEqual([]);
    });
    it('versions components: next numbers, draft edits, current version, soft delete', async () => {
      const agents = store().agents;
      await agents.createComponent({ workspaceId: 'w', componentId: 'c', componentType: 'agent', name: 'C' });
      await expect(
        agents.createComponent({ workspaceId: 'w', componentId: 'c', componentType: 'team', name: 'again' }),
      ).rejects.toThrow(ConflictError);
      const v1 = await agents.createComponentConfig({
        workspaceId: 'w',
        componentId: 'c',
        config: { model: 'local:default' },
        stage: 'published',
      });
      const v2 = await agents.createComponentConfig({ workspaceId: 'w', componentId: 'c', config: {}, stage: 'draft' });
      expect([v1.version, v2.version]).toEqual([1, 2]);
      await expect(
        agents.createComponentConfig({ workspaceId: 'w', componentId: 'c', config: {}, stage: 'draft', version: 2 }),
      ).rejects.toThrow(ConflictError);
      expect(await agents.updateComponentConfig('w', 'c', 2, { config: { a: [1] }, stage: 'published' })).toMatchObject(
        {
          config: { a: [1] },
          stage: 'published',
        },
      );
      expect(await agents.updateComponent('w', 'c', { currentVersion: 2 })).toMatchObject({ currentVersion: 2 });
      expect((await agents.listComponentConfigs('w', 'c')).map((config) => config.version)).toEqual([1, 2]);
      expect(await agents.getComponent('other', 'c')).toBeNull();
      expect((await agents.listComponents({ workspaceId: 'w', componentType: 'agent' })).total).toBe(1);
      expect(await agents.deleteComponentConfig('w', 'c', 1)).toBe(true);
      await agents.updateComponent('w', 'c', { deletedAt: 1 });
      expect(await agents.getComponent('w', 'c')).toBeNull();
      expect((await agents.listComponents({ workspaceId: 'w' })).total).toBe(0);
    });
  });
}
