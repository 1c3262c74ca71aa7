/**
 * Contract of the knowledge domain (contents) and of the search index, registered by
 * `runStoreContract` so it runs on every adapter. Vectors here are hand-made unit vectors, so the
 * expected nearest neighbours are known exactly; vector cases run where `search.vectorSearch` holds.
 * @module
 */
import { describe, expect, it } from 'vitest';
import { isAgentOsError } from '../../errors/index.js';
import type { IndexDocument } from '../../search/types.js';
import type { Store } from '../types.js';

function unit(dims: number, axis: number, lean = 0): Float32Array {
  const vector = new Float32Array(dims);
  vector[axis] = 1;
  if (lean !== 0) vector[(axis + 1) % dims] = lean;
  return vector;
}

function doc(
  scope: string,
  sourceId: string,
  chunkIndex: number,
  content: string,
  vector?: Float32Array,
): IndexDocument {
  return {
    scope,
    sourceId,
    chunkIndex,
    content,
    contentHash: `${sourceId}-${chunkIndex}`,
    metadata: { source: sourceId, lang: chunkIndex % 2 === 0 ? 'en' : 'de' },
    embedding: vector ? { embedder: 'test:unit', vector } : undefined,
  };
}

/** Registers the knowledge contract; `store()` returns the suite's store (cleared before each test). */
export function runKnowledgeContract(store: () => Store): void {
  describe('knowledge contents', () => {
    it('creates, reads, lists, updates and deletes content within its workspace only', async () => {
      const { knowledge } = store();
      const created = await knowledge.create({ id: 'c1', knowledgeId: 'docs', name: 'guide.md', type: 'md', size: 10 });
      expect(created).toMatchObject({ workspaceId: 'default', status: 'processing', chunkCount: 0, metadata: {} });
      await knowledge.create({ id: 'c2', workspaceId: 'other', knowledgeId: 'docs', name: 'x', type: 'txt' });
      expect(await knowledge.get('other', 'c1')).toBeNull();
      const page = await knowledge.list({ workspaceId: 'default' });
      expect(page).toMatchObject({ total: 1, items: [{ id: 'c1' }] });
      const updated = await knowledge.update('default', 'c1', {
        status: 'completed',
        chunkCount: 3,
        metadata: { a: 1 },
      });
      expect(updated).toMatchObject({ status: 'completed', chunkCount: 3, metadata: { a: 1 } });
      expect(await knowledge.update('other', 'c1', { name: 'stolen' })).toBeNull();
      expect(Object.fromEntries(await knowledge.countByKnowledge('default'))).toEqual({ docs: 1 });
      expect(await knowledge.delete('other', 'c1')).toBe(false);
      expect(await knowledge.delete('default', 'c1')).toBe(true);
      expect(await knowledge.get('default', 'c1')).toBeNull();
    });

    it('refuses a duplicate id and finds content by source', async () => {
      const { knowledge } = store();
      await knowledge.create({ id: 'c1', knowledgeId: 'docs', name: 'a', type: 'txt', source: 'file:/a.txt' });
      const error = await knowledge.create({ id: 'c1', knowledgeId: 'docs', name: 'a', type: 'txt' }).catch((e) => e);
      expect(isAgentOsError(error) && error.code).toBe('AOS_CONFLICT');
      expect(await knowledge.findBySource('default', 'docs', 'file:/a.txt')).toMatchObject({ id: 'c1' });
      expect(await knowledge.findBySource('default', 'other-kb', 'file:/a.txt')).toBeNull();
    });

    it('fails contents left processing (their ingestion died with the process)', async () => {
      const { knowledge } = store();
      await knowledge.create({ id: 'c1', knowledgeId: 'docs', name: 'a', type: 'txt' });
      await knowledge.create({ id: 'c2', knowledgeId: 'docs', name: 'b', type: 'txt', status: 'completed' });
      const failed = await knowledge.failProcessing('interrupted');
      expect(failed.map((record) => record.id)).toEqual(['c1']);
      expect(await knowledge.get('default', 'c1')).toMatchObject({ status: 'failed', statusMessage: 'interrupted' });
    });
  });

  describe('search index', () => {
    it('finds chunks by keyword within one scope', async () => {
      const { search } = store();
      await search.add([
        doc('s1', 'a', 0, 'The quarterly invoice is due in March.'),
        doc('s1', 'a', 1, 'Holiday schedule for the office.'),
        doc('s2', 'b', 0, 'Another invoice in another scope.'),
      ]);
      const hits = await search.search({ scope: 's1', text: 'invoice', mode: 'keyword', limit: 5 });
      expect(hits.map((hit) => [hit.sourceId, hit.chunkIndex, hit.matchType])).toEqual([['a', 0, 'keyword']]);
      expect(hits[0]?.score).toBeGreaterThan(0);
      expect(await search.search({ scope: 's1', text: '"; drop table -- *', mode: 'keyword', limit: 5 })).toEqual([]);
    });

    it('applies metadata filters', async () => {
      const { search } = store();
      await search.add([doc('s1', 'a', 0, 'alpha report'), doc('s1', 'a', 1, 'alpha summary')]);
      const hits = await search.search({
        scope: 's1',
        text: 'alpha',
        mode: 'keyword',
        limit: 5,
        filters: { lang: 'de' },
      });
      expect(hits.map((hit) => hit.chunkIndex)).toEqual([1]);
    });

    it('restamps the metadata of every chunk of one source, so filters see the new values', async () => {
      const { search } = store();
      await search.add([
        doc('s1', 'a', 0, 'granite slab', unit(4, 0)),
        doc('s1', 'a', 1, 'granite tile', unit(4, 1)),
        doc('s1', 'b', 0, 'granite block'),
        doc('s2', 'a', 0, 'granite elsewhere'),
      ]);
      const restamped = await search.updateSourceMetadata('s1', 'a', (chunkIndex) => ({
        team: 'blue',
        chunk: chunkIndex,
      }));
      expect(restamped).toBe(2);
      const blue = await search.search({
        scope: 's1',
        text: 'granite',
        mode: 'keyword',
        limit: 5,
        filters: { team: 'blue' },
      });
      expect(blue.map((hit) => [hit.sourceId, hit.chunkIndex, hit.metadata]).sort()).toEqual([
        ['a', 0, { team: 'blue', chunk: 0 }],
        ['a', 1, { team: 'blue', chunk: 1 }],
      ]);
      // The old values are gone; other sources and scopes keep theirs.
      const old = await search.search({
        scope: 's1',
        text: 'granite',
        mode: 'keyword',
        limit: 5,
        filters: { source: 'a' },
      });
      expect(old).toEqual([]);
      const elsewhere = await search.search({ scope: 's2', text: 'granite', mode: 'keyword', limit: 5 });
      expect(elsewhere[0]?.metadata).toEqual({ source: 'a', lang: 'en' });
      if (search.vectorSearch) {
        const vector = await search.search({
          scope: 's1',
          text: 'granite',
          mode: 'vector',
          embedding: { embedder: 'test:unit', vector: unit(4, 0) },
          limit: 1,
          filters: { team: 'blue' },
        });
        expect(vector.map((hit) => [hit.sourceId, hit.chunkIndex])).toEqual([['a', 0]]);
      }
      expect(await search.updateSourceMetadata('s1', 'missing', () => ({}))).toBe(0);
    });

    it('deletes a source from the keyword and vector sides', async () => {
      const { search } = store();
      await search.add([doc('s1', 'a', 0, 'zebra facts', unit(4, 0)), doc('s1', 'b', 0, 'zebra stripes', unit(4, 1))]);
      expect(await search.stats('s1')).toEqual({ chunks: 2, sources: 2 });
      expect(await search.deleteSource('s1', 'a')).toBe(1);
      const keyword = await search.search({ scope: 's1', text: 'zebra', mode: 'keyword', limit: 5 });
      expect(keyword.map((hit) => hit.sourceId)).toEqual(['b']);
      const vector = await search.search({
        scope: 's1',
        text: 'zebra',
        mode: 'vector',
        embedding: { embedder: 'test:unit', vector: unit(4, 0) },
        limit: 5,
      });
      expect(vector.map((hit) => hit.sourceId)).toEqual(['b']);
      expect(await search.deleteScope('s1')).toBe(1);
      expect(await search.stats('s1')).toEqual({ chunks: 0, sources: 0 });
    });

    it('returns stored vectors by content hash (the embedding cache)', async () => {
      const { search } = store();
      await search.add([doc('s1', 'a', 0, 'x', unit(3, 2)), doc('s1', 'a', 1, 'y')]);
      const found = await search.findEmbeddings('test:unit', ['a-0', 'a-1', 'missing']);
      expect([...found.keys()]).toEqual(['a-0']);
      expect([...(found.get('a-0') ?? [])]).toEqual([0, 0, 1]);
      expect((await search.findEmbeddings('other:embedder', ['a-0'])).size).toBe(0);
    });

    it('ranks by cosine similarity and fuses both sides in hybrid mode', async (context) => {
      const { search } = store();
      if (!search.vectorSearch) return context.skip('no vector search on this adapter');
      await search.add([
        // Keyword-best but pointing away from the query vector: last on the vector side.
        doc(
          's1',
          'kw',
          0,
          'orchid orchid orchid care',
          unit(8, 0).map((value) => -value),
        ),
        doc('s1', 'vec', 0, 'unrelated words entirely', unit(8, 0)),
        doc('s1', 'both', 0, 'orchid watering', unit(8, 0, 0.5)),
        doc('s1', 'other', 0, 'nothing here', unit(8, 3)),
      ]);
      const embedding = { embedder: 'test:unit', vector: unit(8, 0) };
      const vector = await search.search({ scope: 's1', text: 'orchid', mode: 'vector', embedding, limit: 2 });
      expect(vector.map((hit) => hit.sourceId)).toEqual(['vec', 'both']);
      expect(vector[0]?.score).toBeCloseTo(1, 5);
      const hybrid = await search.search({ scope: 's1', text: 'orchid', mode: 'hybrid', embedding, limit: 3 });
      expect(hybrid[0]).toMatchObject({ sourceId: 'both', matchType: 'hybrid' });
      // Second on both sides beats first on one side: that is what fusion adds over either ranking alone.
      expect(hybrid.find((hit) => hit.sourceId === 'vec')?.matchType).toBe('vector');
      // Another embedder's vectors never answer this one's queries.
      const foreign = { embedder: 'test:other', vector: unit(8, 0) };
      expect(await search.search({ scope: 's1', text: 'zzz', mode: 'vector', embedding: foreign, limit: 5 })).toEqual(
        [],
      );
    });
  });
}
