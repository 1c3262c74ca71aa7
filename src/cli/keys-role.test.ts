import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/cli.js';
import { createSqliteStore } from '../store/index.js';

const dir = mkdtempSync(join(tmpdir(), 'agentos-keys-role-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('agentos keys --role', () => {
  it('stores the role (and no admin scope) and lists it', async () => {
    const db = `sqlite:${join(dir, 'keys.db')}`;
    const created = await runCli(['keys', 'create', '--name', 'reader', '--role', 'viewer', '--db', db], dir);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stderr).toContain('role viewer');
    const list = await runCli(['keys', 'list', '--db', db], dir);
    const row = list.stdout.trim().split('\n').at(-1)?.split('\t') ?? [];
    expect(row[3]).toBe('role:viewer');
    const store = createSqliteStore({ url: db });
    try {
      expect(await store.apiKeys.get(row[0] ?? '')).toMatchObject({ role: 'viewer', scopes: [] });
    } finally {
      await store.close();
    }
  });

  it('refuses an unknown role', async () => {
    const result = await runCli(
      ['keys', 'create', '--name', 'x', '--role', 'root', '--db', `sqlite:${join(dir, 'bad.db')}`],
      dir,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('invalid role');
  });
});
