import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/cli.js';
import { createSqliteStore } from '../store/index.js';

const dir = mkdtempSync(join(tmpdir(), 'agentos-keys-ws-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('agentos keys --workspace', () => {
  it('stores the key in the named workspace and lists it', async () => {
    const path = join(dir, 'keys.db');
    const db = `sqlite:${path}`;
    const created = await runCli(
      ['keys', 'create', '--name', 'tenant', '--scopes', 'sessions:read', '--workspace', 'w2', '--db', db],
      dir,
    );
    expect(created.code, created.stderr).toBe(0);
    expect(created.stderr).toContain('in workspace w2');
    const list = await runCli(['keys', 'list', '--db', db], dir);
    const row = list.stdout.trim().split('\n').at(-1)?.split('\t') ?? [];
    expect(row.slice(1, 5)).toEqual(['tenant', expect.stringMatching(/^aos_/), 'sessions:read', 'w2']);
    const store = createSqliteStore({ url: db });
    try {
      expect((await store.apiKeys.get(row[0] ?? ''))?.workspaceId).toBe('w2');
    } finally {
      await store.close();
    }
  });

  it('refuses a malformed workspace id', async () => {
    const result = await runCli(
      ['keys', 'create', '--name', 'x', '--workspace', '../w', '--db', `sqlite:${join(dir, 'bad.db')}`],
      dir,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('invalid workspace');
  });
});
