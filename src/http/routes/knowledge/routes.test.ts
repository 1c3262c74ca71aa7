import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer } from '../../../../test/helpers.js';
import { makePdf } from '../../../knowledge/__fixtures__/pdf.js';
import type { RunningServer } from '../../../main.js';

// biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field
const json = async (response: Response): Promise<any> => response.json();

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('knowledge routes', () => {
  let server: RunningServer;
  const url = (path: string) => `${server.url}${path}`;
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(url(path), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });

  async function upload(filename: string, data: Buffer | string, fields: Record<string, string> = {}) {
    const form = new FormData();
    form.append('file', new Blob([data]), filename);
    for (const [key, value] of Object.entries(fields)) form.append(key, value);
    return fetch(url('/knowledge/content?knowledge_id=docs'), { method: 'POST', body: form });
  }

  /** Polls the status route until ingestion ends; returns the final status body. */
  async function settled(id: string, headers: Record<string, string> = {}) {
    return waitFor(async () => {
      const body = await json(await fetch(url(`/knowledge/content/${id}/status`), { headers }));
      return body.status === 'processing' ? undefined : body;
    });
  }

  async function search(query: string, searchType: string, extra: Record<string, unknown> = {}) {
    const response = await post('/knowledge/search', {
      query,
      search_type: searchType,
      knowledge_id: 'docs',
      max_results: 5,
      ...extra,
    });
    expect(response.status).toBe(200);
    return (await json(response)).data as { content_id: string; content: string; match_type: string; score: number }[];
  }

  beforeAll(async () => {
    server = await startTestServer({
      config: {
        knowledge: [
          { id: 'docs', name: 'Docs', description: 'Product docs', embedder: 'local:default' },
          { id: 'notes', name: 'Notes' },
        ],
      },
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('ingests each file type to completed and finds its text', async () => {
    const files: [string, Buffer | string, string][] = [
      ['guide.txt', 'The aurora kettle boils water in ninety seconds.', 'aurora'],
      ['readme.md', '# Setup\n\nInstall the **borealis** plugin before the first start.', 'borealis'],
      [
        'page.html',
        '<html><head><script>var x = "hidden";</script></head><body><p>Cobalt &amp; copper wiring.</p></body></html>',
        'cobalt',
      ],
      ['data.json', JSON.stringify({ product: { name: 'Dynamo press', weight_kg: 12 } }), 'dynamo'],
      ['table.csv', 'sku,description\nE-1,"Emerald lamp, brass"\nE-2,Ember heater', 'emerald'],
      ['manual.pdf', makePdf(['The fjord valve opens clockwise.', 'Page two of the manual.']), 'fjord'],
    ];
    for (const [filename, data, word] of files) {
      const response = await upload(filename, data, { metadata: JSON.stringify({ team: 'hardware' }) });
      expect(response.status, filename).toBe(202);
      const accepted = await json(response);
      expect(accepted).toMatchObject({ name: filename, status: 'processing', knowledge_id: 'docs' });
      const status = await settled(accepted.id);
      expect(status, filename).toEqual({ id: accepted.id, status: 'completed', status_message: null });
      const hits = await search(word, 'keyword');
      expect(hits[0]?.content_id, filename).toBe(accepted.id);
      expect(hits[0]?.content.toLowerCase()).toContain(word);
    }
    const page = await json(await fetch(url('/knowledge/content?knowledge_id=docs&limit=2')));
    expect(page.meta).toMatchObject({ page: 1, limit: 2, total_count: 6, total_pages: 3 });
    // Scripts never reach the index; CSV rows keep their column names.
    expect(await search('hidden', 'keyword')).toEqual([]);
    expect((await search('emerald', 'keyword'))[0]?.content).toContain('description: Emerald lamp, brass');
  });

  it('fails a malformed PDF with a message and indexes nothing of it', async () => {
    const broken = Buffer.concat([makePdf(['Glacier turbine notes.']).subarray(0, 120), Buffer.from('garbage')]);
    const accepted = await json(await upload('broken.pdf', broken));
    const status = await settled(accepted.id);
    expect(status.status).toBe('failed');
    expect(status.status_message).toMatch(/pdf/i);
    const content = await json(await fetch(url(`/knowledge/content/${accepted.id}`)));
    expect(content).toMatchObject({ status: 'failed', chunk_count: 0, type: 'pdf' });
    expect(await search('glacier turbine', 'keyword')).toEqual([]);
  });

  it('ingests text content with chunk_size and chunk_overlap', async () => {
    const text = Array.from({ length: 40 }, (_, index) => `Sentence number ${index} mentions harbor logistics.`).join(
      ' ',
    );
    const response = await post('/knowledge/content?knowledge_id=notes', {
      text_content: text,
      name: 'harbor',
      chunk_size: 200,
      chunk_overlap: 20,
    });
    expect(response.status).toBe(202);
    const accepted = await json(response);
    expect((await settled(accepted.id)).status).toBe('completed');
    const content = await json(await fetch(url(`/knowledge/content/${accepted.id}`)));
    expect(content.chunk_count).toBeGreaterThanOrEqual(Math.floor(text.length / 200));
    const hits = await json(
      await post('/knowledge/search', {
        query: 'harbor',
        knowledge_id: 'notes',
        search_type: 'keyword',
        max_results: 3,
      }),
    );
    expect(hits.data).toHaveLength(3);
    expect(hits.data.every((hit: { content: string }) => hit.content.length <= 200)).toBe(true);
  });

  it('keyword, vector and hybrid each find the chunk the others miss (fixture corpus)', async () => {
    const corpus: Record<string, string> = {
      ticketed: 'QX-7731: vehicle trouble reported on icy days.',
      decoy: 'QX-7731 ticket QX-7731 ticket: the start of the cafeteria queue.',
      battery: 'If your automobile will not start in freezing weather, the battery is usually to blame.',
      drinks: 'Cold drinks are sold at the ticket desk in the lobby.',
      storage: 'The cold storage room holds the ticket archive.',
      lunch: 'The cafeteria serves lunch between noon and two in the afternoon.',
      filter: 'Replace filter 88412 every spring.',
      serials: 'Serial numbers are printed on the back label of each device.',
      billing: 'Cancel your subscription plan from the billing page.',
      parking: 'The car park closes at midnight; morning tickets are sold at the gate.',
    };
    const ids: Record<string, string> = {};
    for (const [name, text] of Object.entries(corpus)) {
      const accepted = await json(await post('/knowledge/content?knowledge_id=notes', { text_content: text, name }));
      ids[accepted.id] = name;
    }
    for (const id of Object.keys(ids)) expect((await settled(id)).status).toBe('completed');
    const top = async (query: string, searchType: string) => {
      const body = await json(
        await post('/knowledge/search', { query, knowledge_id: 'notes', search_type: searchType, max_results: 3 }),
      );
      return { name: ids[body.data[0]?.content_id], matchType: body.data[0]?.match_type as string };
    };
    // An exact part number: only keywords find it (the embedding prefers the chunk about serial numbers).
    expect(await top('where is serial 88412', 'keyword')).toEqual({ name: 'filter', matchType: 'keyword' });
    expect((await top('where is serial 88412', 'vector')).name).not.toBe('filter');
    // A paraphrase with no shared word: only the embedding finds it (keywords pick the car park).
    expect(await top("car won't turn over on frosty mornings", 'vector')).toEqual({
      name: 'battery',
      matchType: 'vector',
    });
    expect((await top("car won't turn over on frosty mornings", 'keyword')).name).not.toBe('battery');
    // Both signals: keywords alone rank the repeated ticket number first; fusion puts the right chunk on top.
    const mixed = "car won't start in the cold, ticket QX-7731";
    expect((await top(mixed, 'keyword')).name).toBe('decoy');
    expect(await top(mixed, 'hybrid')).toEqual({ name: 'ticketed', matchType: 'hybrid' });
  }, 60_000);

  it('deletes content with its chunks from the keyword and the vector index', async () => {
    const accepted = await json(
      await post('/knowledge/content?knowledge_id=docs', {
        text_content: 'Obsidian gears need weekly grease.',
        name: 'gears',
      }),
    );
    await settled(accepted.id);
    expect((await search('obsidian gears', 'keyword'))[0]?.content_id).toBe(accepted.id);
    expect((await search('obsidian gears', 'vector')).map((hit) => hit.content_id)).toContain(accepted.id);
    const deleted = await fetch(url(`/knowledge/content/${accepted.id}`), { method: 'DELETE' });
    expect(deleted.status).toBe(200);
    expect((await search('obsidian gears', 'keyword')).map((hit) => hit.content_id)).not.toContain(accepted.id);
    expect(
      (await search('obsidian gears', 'vector', { max_results: 1000 })).map((hit) => hit.content_id),
    ).not.toContain(accepted.id);
    expect((await fetch(url(`/knowledge/content/${accepted.id}`))).status).toBe(404);
  });

  it('filters search results by metadata', async () => {
    for (const team of ['red', 'blue']) {
      const accepted = await json(
        await post('/knowledge/content?knowledge_id=notes', {
          text_content: `Quartz calibration steps for the ${team} team.`,
          metadata: { team },
        }),
      );
      await settled(accepted.id);
    }
    const body = await json(
      await post('/knowledge/search', {
        query: 'quartz calibration',
        knowledge_id: 'notes',
        search_type: 'hybrid',
        filters: { team: 'blue' },
      }),
    );
    expect(body.data.length).toBeGreaterThan(0);
    expect(body.data.every((hit: { meta_data: { team: string } }) => hit.meta_data.team === 'blue')).toBe(true);
  });

  it('restamps the indexed chunks when content metadata is patched, so search filters find them', async () => {
    const accepted = await json(
      await post('/knowledge/content?knowledge_id=notes', {
        text_content: 'Basalt column survey notes.',
        metadata: { team: 'red' },
      }),
    );
    await settled(accepted.id);
    const find = async (filters: Record<string, string>) =>
      (
        await json(
          await post('/knowledge/search', {
            query: 'basalt survey',
            knowledge_id: 'notes',
            search_type: 'keyword',
            filters,
          }),
        )
      ).data as { content_id: string; meta_data: Record<string, unknown> }[];
    expect((await find({ team: 'green' })).map((hit) => hit.content_id)).toEqual([]);
    const patched = await fetch(url(`/knowledge/content/${accepted.id}`), {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'basalt', metadata: { team: 'green' } }),
    });
    expect(patched.status).toBe(200);
    const hits = await find({ team: 'green' });
    expect(hits.map((hit) => hit.content_id)).toEqual([accepted.id]);
    expect(hits[0]?.meta_data).toMatchObject({ team: 'green', name: 'basalt', content_id: accepted.id });
    expect(await find({ team: 'red' })).toEqual([]);
  });

  it('keeps each workspace’s content to itself', async () => {
    const headers = { 'x-workspace-id': 'tenant-a' };
    const accepted = await json(
      await post('/knowledge/content?knowledge_id=docs', { text_content: 'Saffron vault codes.' }, headers),
    );
    expect((await settled(accepted.id, headers)).status).toBe('completed');
    expect((await fetch(url(`/knowledge/content/${accepted.id}`))).status).toBe(404);
    // The vector side always returns the nearest chunks; none of them may be the other workspace's.
    expect((await search('saffron vault', 'hybrid')).map((hit) => hit.content_id)).not.toContain(accepted.id);
    expect(await search('saffron vault', 'keyword')).toEqual([]);
    const own = await json(
      await post(
        '/knowledge/search',
        { query: 'saffron vault', knowledge_id: 'docs', search_type: 'keyword' },
        headers,
      ),
    );
    expect(own.data[0]?.content_id).toBe(accepted.id);
    const listed = await json(await fetch(url('/knowledge'), { headers }));
    expect(listed.knowledge_instances).toEqual([
      {
        id: 'docs',
        name: 'Docs',
        description: 'Product docs',
        db_id: 'default',
        table: 'knowledge_contents',
        document_count: 1,
      },
      {
        id: 'notes',
        name: 'Notes',
        description: null,
        db_id: 'default',
        table: 'knowledge_contents',
        document_count: 0,
      },
    ]);
  });

  it('updates content and reports the reader config', async () => {
    const accepted = await json(await post('/knowledge/content?knowledge_id=docs', { text_content: 'Onyx.' }));
    const patched = await fetch(url(`/knowledge/content/${accepted.id}`), {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'onyx', description: 'a stone', metadata: { kind: 'stone' } }),
    });
    expect(await json(patched)).toMatchObject({ name: 'onyx', description: 'a stone', metadata: { kind: 'stone' } });
    const config = await json(await fetch(url('/knowledge/config')));
    expect(Object.keys(config.readers)).toEqual(['txt', 'md', 'html', 'json', 'csv', 'pdf']);
    expect(config.search_types).toEqual(['vector', 'keyword', 'hybrid']);
    expect(config.embedders).toEqual({ docs: 'local:default', notes: 'local:default' });
  });

  it('answers bad requests with 4xx in the root shape', async () => {
    const none = await post('/knowledge/content?knowledge_id=docs', { name: 'empty' });
    expect(none.status).toBe(422);
    expect(Array.isArray((await json(none)).detail)).toBe(true);
    const two = await post('/knowledge/content?knowledge_id=docs', { text_content: 'a', url: 'https://example.com/' });
    expect(two.status).toBe(422);
    const ambiguous = await post('/knowledge/content', { text_content: 'a' });
    expect(ambiguous.status).toBe(400);
    const unknownBase = await post('/knowledge/content?knowledge_id=nope', { text_content: 'a' });
    expect(unknownBase.status).toBe(404);
    expect((await json(unknownBase)).code).toBe('AOS_KNOWLEDGE_NOT_FOUND');
    const missing = await fetch(url('/knowledge/content/does-not-exist/status'));
    expect(missing.status).toBe(404);
    expect((await json(missing)).code).toBe('AOS_KNOWLEDGE_CONTENT_NOT_FOUND');
    const badSearch = await post('/knowledge/search', { query: '', search_type: 'fuzzy' });
    expect(badSearch.status).toBe(422);
  });
});
