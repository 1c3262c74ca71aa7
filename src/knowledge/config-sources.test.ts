import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestServer } from '../../test/helpers.js';
import type { RunningServer } from '../main.js';

// biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field
const json = async (response: Response): Promise<any> => response.json();

const dir = mkdtempSync(join(tmpdir(), 'agentos-kb-sources-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Item = { name: string; status: string; id: string };

/** Polls the contents (sorted by name) until `done` holds for them. */
async function contentsWhen(server: RunningServer, done: (items: Item[]) => boolean): Promise<Item[]> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const body = await json(await fetch(`${server.url}/knowledge/content?knowledge_id=docs&limit=100`));
    const items = (body.data as Item[]).sort((a, b) => a.name.localeCompare(b.name));
    if (done(items)) return items;
    if (Date.now() > deadline) throw new Error(`contents never settled: ${JSON.stringify(items)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('knowledge sources from the config', () => {
  it('are ingested at start-up, skipped when unchanged and replaced when changed', async () => {
    const docs = join(dir, 'docs');
    mkdirSync(docs);
    writeFileSync(join(docs, 'one.md'), 'Indigo pumps run on 24 volts.');
    writeFileSync(join(docs, 'two.txt'), 'Jade filters last six months.');
    const config = {
      database: { url: `sqlite:${join(dir, 'kb.db')}` },
      knowledge: [{ id: 'docs', name: 'Docs', sources: [{ path: docs }] }],
    };

    let server = await startTestServer({ config });
    const first = await contentsWhen(
      server,
      (items) => items.length === 2 && items.every((i) => i.status !== 'processing'),
    );
    expect(first.map((item) => [item.name, item.status])).toEqual([
      ['one.md', 'completed'],
      ['two.txt', 'completed'],
    ]);
    await server.close();

    writeFileSync(join(docs, 'two.txt'), 'Jade filters now last twelve months.');
    server = await startTestServer({ config });
    try {
      // The changed file is ingested anew; its previous version is removed once the successor completed.
      const second = await contentsWhen(
        server,
        (items) =>
          items.length === 2 &&
          items.every((i) => i.status === 'completed') &&
          items.some((i) => i.name === 'two.txt' && i.id !== first[1]?.id),
      );
      expect(second.find((item) => item.name === 'one.md')?.id).toBe(first[0]?.id);
      expect(second.find((item) => item.name === 'two.txt')?.id).not.toBe(first[1]?.id);
      expect(second).toHaveLength(2);
      const hits = await json(
        await fetch(`${server.url}/knowledge/search`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: 'jade filters', search_type: 'keyword' }),
        }),
      );
      expect(hits.data.map((hit: { content: string }) => hit.content)).toEqual([
        'Jade filters now last twelve months.',
      ]);
    } finally {
      await server.close();
    }
  }, 60_000);
});
