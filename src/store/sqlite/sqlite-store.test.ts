import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { runStoreContract } from '../contract/store.contract.js';
import { migrations } from '../migrations/index.js';
import { createSqliteStore, sqlitePathFromUrl, WAL_AUTOCHECKPOINT_PAGES } from './sqlite-store.js';

runStoreContract({
  name: 'sqlite :memory:',
  createStore: async () => {
    const store = createSqliteStore({ url: 'sqlite::memory:' });
    await store.migrate();
    return store;
  },
});

describe('sqlite adapter', () => {
  const dirs: string[] = [];
  const tempDb = () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentos-sqlite-'));
    dirs.push(dir);
    return join(dir, 'nested', 'agentos.db');
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('resolves sqlite URLs', () => {
    expect(sqlitePathFromUrl('sqlite::memory:')).toBe(':memory:');
    expect(sqlitePathFromUrl('sqlite:./x.db', '/base')).toBe('/base/x.db');
    expect(sqlitePathFromUrl('sqlite:/abs/x.db', '/base')).toBe('/abs/x.db');
  });

  it('creates the folder, uses WAL, foreign keys and loads sqlite-vec', async () => {
    const path = tempDb();
    const store = createSqliteStore({ url: `sqlite:${path}` });
    await store.migrate();
    await store.close();
    expect(existsSync(path)).toBe(true);
    const raw = new Database(path, { readonly: true });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    raw.close();
    expect(store.capabilities.vectorSearch).toBe(true);
  });

  it('lets the WAL grow past SQLite default of 1,000 pages before a commit checkpoints, and keeps every write', async () => {
    const path = tempDb();
    const store = createSqliteStore({ url: `sqlite:${path}` });
    await store.migrate();
    // About 2,500 pages of 4 KB, one commit each 10 pages: the default would have checkpointed and reused the WAL.
    const metadata = { blob: 'x'.repeat(40_000) };
    for (let index = 0; index < 250; index++) {
      await store.sessions.create({ sessionId: `s${index}`, sessionType: 'agent', componentId: 'a', metadata });
    }
    expect(statSync(`${path}-wal`).size).toBeGreaterThan(2_000 * 4096);
    expect(statSync(`${path}-wal`).size).toBeLessThan(WAL_AUTOCHECKPOINT_PAGES * 4096);
    await store.close();
    const reopened = createSqliteStore({ url: `sqlite:${path}` });
    expect((await reopened.sessions.list({ workspaceId: 'default', limit: 1 })).total).toBe(250);
    await reopened.close();
  });

  it('dry run on a fresh file lists every migration and changes nothing', async () => {
    const path = tempDb();
    const store = createSqliteStore({ url: `sqlite:${path}` });
    const dry = await store.migrate({ dryRun: true });
    expect(dry.applied).toEqual(Object.keys(migrations).sort());
    expect(dry.migrations.every((migration) => !migration.applied)).toBe(true);
    await store.close();
    const raw = new Database(path, { readonly: true });
    const tables = raw.prepare("select name from sqlite_master where type = 'table'").all();
    raw.close();
    expect(tables).toEqual([]);
  });

  it('keeps data across reopen and migrates once', async () => {
    const path = tempDb();
    const first = createSqliteStore({ url: `sqlite:${path}` });
    expect((await first.migrate()).applied).toEqual(Object.keys(migrations).sort());
    await first.sessions.create({ sessionId: 's1', sessionType: 'agent', componentId: 'a' });
    await first.close();
    const second = createSqliteStore({ url: `sqlite:${path}` });
    expect((await second.migrate()).applied).toEqual([]);
    expect(await second.sessions.get('default', 's1')).not.toBeNull();
    await second.close();
  });
});
