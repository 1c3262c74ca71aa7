import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/cli.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('agentos knowledge add', () => {
  it('ingests a folder with a progress bar and a summary, skips unchanged files, replaces changed ones', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentos-knowledge-'));
    dirs.push(dir);
    writeFileSync(
      join(dir, 'agentos.config.yaml'),
      [
        'database: { url: "sqlite:./kb.db" }',
        'knowledge:',
        '  - { id: docs, name: Docs, embedder: local:default }',
        '',
      ].join('\n'),
    );
    mkdirSync(join(dir, 'docs', 'nested'), { recursive: true });
    writeFileSync(join(dir, 'docs', 'a.md'), '# Alpha\n\nThe alpha relay trips at 40 amps.');
    writeFileSync(join(dir, 'docs', 'nested', 'b.txt'), 'Beta valves are serviced yearly.');
    writeFileSync(join(dir, 'docs', 'broken.pdf'), '%PDF-1.4\nnot really a pdf');
    writeFileSync(join(dir, 'docs', 'image.png'), 'ignored: no reader for png');

    const first = await runCli(['knowledge', 'add', 'docs', 'docs'], dir);
    expect(first.code).toBe(1);
    expect(first.stdout).toMatch(/knowledge docs: 2 added \(2 chunks\), 0 unchanged, 1 failed/);
    expect(first.stderr).toMatch(/\[#+\] 3\/3 files · 2 chunks · [\d.]+ embeddings\/s/);
    expect(first.stderr).toMatch(/failed: broken\.pdf: Cannot read this pdf content/);

    const again = await runCli(['knowledge', 'add', 'docs', 'docs/a.md', 'docs/nested'], dir);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/0 added \(0 chunks\), 2 unchanged, 0 failed/);

    writeFileSync(join(dir, 'docs', 'a.md'), '# Alpha\n\nThe alpha relay now trips at 50 amps.');
    const changed = await runCli(['knowledge', 'add', 'docs', 'docs/a.md'], dir);
    expect(changed.stdout).toMatch(/1 added \(1 chunks\), 0 unchanged, 0 failed/);
    const db = new Database(join(dir, 'kb.db'), { readonly: true });
    try {
      const rows = db
        .prepare("select name, status from knowledge_contents where status = 'completed' order by name")
        .all();
      expect(rows).toEqual([
        { name: 'a.md', status: 'completed' },
        { name: 'b.txt', status: 'completed' },
      ]);
      const chunks = db.prepare("select content from search_docs where content like '%alpha relay%'").all();
      expect(chunks).toEqual([{ content: '# Alpha\n\nThe alpha relay now trips at 50 amps.' }]);
    } finally {
      db.close();
    }

    const unknown = await runCli(['knowledge', 'add', 'nope', 'docs'], dir);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('Unknown knowledge base "nope"');
  }, 120_000);
});
