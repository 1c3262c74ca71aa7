/**
 * Contract of the memory domain (memories, term index, session summaries, episodes), registered by
 * `runStoreContract` inside its store suite so it runs on every adapter.
 * @module
 */
import { describe, expect, it } from 'vitest';
import { isAgentOsError } from '../../errors/index.js';
import type { Store } from '../types.js';

async function session(store: Store, sessionId: string, userId: string | null, workspaceId = 'default') {
  await store.sessions.create({ sessionId, workspaceId, sessionType: 'agent', componentId: 'assistant', userId });
}

/** Registers the memory contract; `store()` returns the suite's store (cleared before each test). */
export function runMemoryContract(store: () => Store): void {
  describe('memory', () => {
    it('creates a memory, reads it back and does not store the same text twice for one user', async () => {
      const first = await store().memory.create({
        workspaceId: 'default',
        userId: 'alice',
        memory: 'User likes green tea.',
        topics: ['preferences', 'drinks'],
        source: 'agent',
        tokens: 5,
      });
      expect(first.created).toBe(true);
      expect(first.record).toMatchObject({ userId: 'alice', topics: ['preferences', 'drinks'], source: 'agent' });
      expect(await store().memory.get('default', first.record.memoryId)).toEqual(first.record);
      const again = await store().memory.create({
        workspaceId: 'default',
        userId: 'alice',
        memory: 'user likes green tea',
      });
      expect(again).toEqual({ record: first.record, created: false });
      const other = await store().memory.create({
        workspaceId: 'default',
        userId: 'bob',
        memory: 'User likes green tea.',
      });
      expect(other.created).toBe(true);
      expect(await store().memory.get('elsewhere', first.record.memoryId)).toBeNull();
    });

    it('lists by user, topic and text, newest first, with totals', async () => {
      const { memory } = store();
      await memory.create({ workspaceId: 'default', userId: 'alice', memory: 'Lives in Lisbon', topics: ['location'] });
      await memory.create({
        workspaceId: 'default',
        userId: 'alice',
        memory: 'Likes 100% dark chocolate',
        topics: ['food'],
      });
      await memory.create({ workspaceId: 'default', userId: 'bob', memory: 'Lives in Oslo', topics: ['location'] });
      await memory.create({ workspaceId: 'default', userId: null, memory: 'Shared note' });
      expect((await memory.list({ workspaceId: 'default', userId: 'alice' })).total).toBe(2);
      expect((await memory.list({ workspaceId: 'default', userId: null })).items.map((m) => m.memory)).toEqual([
        'Shared note',
      ]);
      const located = await memory.list({ workspaceId: 'default', topics: ['location'] });
      expect(located.items.map((m) => m.memory).sort()).toEqual(['Lives in Lisbon', 'Lives in Oslo']);
      // LIKE wildcards in the search text are taken literally.
      expect((await memory.list({ workspaceId: 'default', search: '100%' })).items).toHaveLength(1);
      expect((await memory.list({ workspaceId: 'default', search: '1_0' })).items).toHaveLength(0);
      const paged = await memory.list({ workspaceId: 'default', limit: 2, page: 2 });
      expect(paged).toMatchObject({ total: 4 });
      expect(paged.items).toHaveLength(2);
      expect((await memory.list({ workspaceId: 'other' })).total).toBe(0);
    });

    it('updates text and topics (and the index), and deletes only within the user', async () => {
      const { memory } = store();
      const { record } = await memory.create({ workspaceId: 'default', userId: 'alice', memory: 'Plays the violin' });
      const updated = await memory.update('default', record.memoryId, { memory: 'Plays the cello', topics: ['music'] });
      expect(updated).toMatchObject({ memory: 'Plays the cello', topics: ['music'], userId: 'alice' });
      expect(await memory.search('default', 'alice', 'violin', 5)).toEqual([]);
      expect((await memory.search('default', 'alice', 'cello', 5)).map((hit) => hit.item.memoryId)).toEqual([
        record.memoryId,
      ]);
      expect(await memory.update('default', 'missing', { memory: 'x' })).toBeNull();
      expect(await memory.delete('default', [record.memoryId], 'bob')).toBe(0);
      expect(await memory.delete('default', [record.memoryId, 'missing'], 'alice')).toBe(1);
      expect(await memory.get('default', record.memoryId)).toBeNull();
    });

    it('rejects an update that duplicates another memory of the user with AOS_CONFLICT', async () => {
      const { memory } = store();
      await memory.create({ workspaceId: 'default', userId: 'alice', memory: 'Owns a cat' });
      const { record } = await memory.create({ workspaceId: 'default', userId: 'alice', memory: 'Owns a dog' });
      const error = await memory.update('default', record.memoryId, { memory: 'owns a cat' }).catch((caught) => caught);
      expect(isAgentOsError(error) && error.code).toBe('AOS_CONFLICT');
    });

    it('searches one user through the term index, rarer terms weighing more, never another user', async () => {
      const { memory } = store();
      for (let index = 0; index < 20; index += 1) {
        await memory.create({ workspaceId: 'default', userId: 'alice', memory: `Likes colour number ${index}` });
      }
      const rare = await memory.create({ workspaceId: 'default', userId: 'alice', memory: 'Favourite colour is teal' });
      await memory.create({ workspaceId: 'default', userId: 'bob', memory: 'Favourite colour is teal' });
      const hits = await memory.search('default', 'alice', 'What is my favourite colour?', 5);
      expect(hits[0]?.item.memoryId).toBe(rare.record.memoryId);
      expect(hits[0]?.matched).toEqual(['colour', 'favourite']);
      expect(hits[0]?.score).toBeGreaterThan(hits[1]?.score ?? 0);
      expect(hits.every((hit) => hit.item.userId === 'alice')).toBe(true);
      expect(hits.every((hit) => hit.score > 0 && hit.score <= 1)).toBe(true);
      expect(await memory.search('default', 'carol', 'favourite colour', 5)).toEqual([]);
      expect(await memory.search('default', 'alice', 'the and of', 5)).toEqual([]);
    });

    it('reports topics and per-user stats', async () => {
      const { memory } = store();
      await memory.create({ workspaceId: 'default', userId: 'alice', memory: 'a1', topics: ['work', 'food'] });
      await memory.create({ workspaceId: 'default', userId: 'alice', memory: 'a2', topics: ['food'] });
      await memory.create({ workspaceId: 'default', userId: 'bob', memory: 'b1', topics: ['sport'] });
      expect(await memory.topics('default')).toEqual(['food', 'sport', 'work']);
      expect(await memory.topics('default', 'bob')).toEqual(['sport']);
      const stats = await memory.userStats('default', {});
      expect(stats.total).toBe(2);
      expect(stats.items.map((row) => [row.userId, row.totalMemories]).sort()).toEqual([
        ['alice', 2],
        ['bob', 1],
      ]);
      expect((await memory.userStats('default', { userId: 'bob' })).items).toHaveLength(1);
    });

    it('replaces all of a user memories atomically, leaving other users alone', async () => {
      const { memory } = store();
      await memory.create({ workspaceId: 'default', userId: 'alice', memory: 'a1' });
      await memory.create({ workspaceId: 'default', userId: 'alice', memory: 'a2' });
      await memory.create({ workspaceId: 'default', userId: 'bob', memory: 'b1' });
      const replaced = await memory.replaceForUser('default', 'alice', [
        { workspaceId: 'default', memory: 'merged a' },
        { workspaceId: 'default', memory: 'Merged A.' },
      ]);
      expect(replaced.map((m) => m.memory)).toEqual(['merged a']);
      expect((await memory.list({ workspaceId: 'default', userId: 'alice' })).items.map((m) => m.memory)).toEqual([
        'merged a',
      ]);
      expect((await memory.list({ workspaceId: 'default', userId: 'bob' })).total).toBe(1);
    });

    it('keeps one summary and one episode per session, gone with the session', async () => {
      const { memory, sessions } = store();
      await session(store(), 's1', 'alice');
      await memory.putSessionSummary({
        sessionId: 's1',
        workspaceId: 'default',
        userId: 'alice',
        agentId: 'assistant',
        summary: 'First',
        topics: ['a'],
      });
      const second = await memory.putSessionSummary({
        sessionId: 's1',
        workspaceId: 'default',
        userId: 'alice',
        agentId: 'assistant',
        summary: 'Second',
        topics: ['b'],
      });
      expect(second).toMatchObject({ summary: 'Second', topics: ['b'] });
      expect(await memory.listSessionSummaries('default', 'alice', 10)).toHaveLength(1);
      const episode = {
        sessionId: 's1',
        workspaceId: 'default',
        userId: 'alice',
        agentId: 'assistant',
        summary: 'User planned a trip to Kyoto',
        keywords: ['trip', 'kyoto'],
        topic: 'travel',
        importance: 0.6,
        type: 'conversation',
      };
      const first = await memory.putEpisode(episode);
      const updated = await memory.putEpisode({ ...episode, summary: 'User booked a ryokan in Kyoto' });
      expect(updated.episodeId).toBe(first.episodeId);
      expect(await memory.listEpisodes('default', { limit: 10 })).toHaveLength(1);
      const hits = await memory.searchEpisodes('default', { query: 'ryokan', limit: 5 });
      expect(hits.map((hit) => hit.item.summary)).toEqual(['User booked a ryokan in Kyoto']);
      expect(await memory.searchEpisodes('default', { query: 'ryokan', limit: 5, userId: 'bob' })).toEqual([]);
      await sessions.delete('default', 's1');
      expect(await memory.getSessionSummary('default', 's1')).toBeNull();
      expect(await memory.listEpisodes('default', { limit: 10 })).toEqual([]);
      expect(await memory.searchEpisodes('default', { query: 'ryokan', limit: 5 })).toEqual([]);
    });

    it('refuses a summary for a missing session with AOS_NOT_FOUND', async () => {
      const error = await store()
        .memory.putSessionSummary({
          sessionId: 'nope',
          workspaceId: 'default',
          userId: null,
          agentId: null,
          summary: 'x',
          topics: [],
        })
        .catch((caught) => caught);
      expect(isAgentOsError(error) && error.code).toBe('AOS_NOT_FOUND');
    });
  });
}
