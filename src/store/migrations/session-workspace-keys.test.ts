/**
 * Migration 015 on a database that already holds sessions: rows, runs, summaries, episodes and run
 * events survive the re-keying, and afterwards the same session id can live in two workspaces.
 */
import type { Kysely } from 'kysely';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { buildTestApp } from '../../../test/helpers.js';
import { createTestDatabase, PG_ENABLED, type TestDatabase } from '../../../test/pg-cluster.js';
import { createSqliteStore, type KyselyStore } from '../index.js';
import { runMigrations } from '../kysely/migrate.js';
import { createPostgresStore } from '../postgres/postgres-store.js';
import { migrations } from './index.js';

let database: TestDatabase | undefined;
afterAll(async () => {
  await database?.drop();
});

describe.each([
  { dialect: 'sqlite', enabled: true },
  { dialect: 'postgres', enabled: PG_ENABLED },
])('migration 015 on $dialect: sessions keyed by (workspace_id, session_id)', ({ dialect, enabled }) => {
  let store: KyselyStore | undefined;
  afterEach(async () => {
    await store?.close();
  });

  it.skipIf(!enabled)('keeps existing rows and their links, then allows one id per workspace', async () => {
    if (dialect === 'sqlite') {
      store = createSqliteStore({ url: 'sqlite::memory:' });
    } else {
      database ??= await createTestDatabase(inject('pgAdminUrl'));
      store = createPostgresStore({ url: database.url });
    }
    const before = Object.fromEntries(
      Object.entries(migrations).filter(([name]) => name < '015-session-workspace-keys'),
    );
    await runMigrations(store.kysely as Kysely<unknown>, before);
    await store.sessions.create({ sessionId: 's1', sessionType: 'agent', componentId: 'a', workspaceId: 'w1' });
    await store.runs.create({
      runId: 'r1',
      sessionId: 's1',
      workspaceId: 'w1',
      componentType: 'agent',
      componentId: 'a',
    });
    await store.runEvents.append('r1', [{ eventIndex: 0, event: 'RunStarted', payload: { x: 1 } }]);
    // Written as rows: the store's upsert already names the new key, which does not exist yet.
    // biome-ignore lint/suspicious/noExplicitAny: a raw row of a table the typed schema leaves out
    await (store.kysely as Kysely<any>)
      .insertInto('session_summaries')
      .values({
        session_id: 's1',
        workspace_id: 'w1',
        user_key: '',
        user_id: null,
        agent_id: 'a',
        summary: 'kept',
        topics: '["t"]',
        created_at: 1,
        updated_at: 1,
      })
      .execute();
    await expect(
      store.sessions.create({ sessionId: 's1', sessionType: 'agent', componentId: 'a', workspaceId: 'w2' }),
    ).rejects.toMatchObject({ code: 'AOS_CONFLICT' });

    const result = await store.migrate();
    expect(result.applied[0]).toBe('015-session-workspace-keys');

    expect(await store.sessions.get('w1', 's1')).toMatchObject({ sessionId: 's1', workspaceId: 'w1' });
    expect(await store.runs.get('w1', 'r1')).toMatchObject({ sessionId: 's1' });
    expect(await store.runEvents.list('r1')).toHaveLength(1);
    expect((await store.memory.getSessionSummary('w1', 's1'))?.summary).toBe('kept');
    await store.sessions.create({ sessionId: 's1', sessionType: 'agent', componentId: 'a', workspaceId: 'w2' });
    expect(await store.sessions.get('w2', 's1')).not.toBeNull();
    // Foreign keys are back on: deleting the session still cascades to its runs and events.
    expect(await store.sessions.delete('w1', 's1')).toBe(true);
    expect(await store.runs.get('w1', 'r1')).toBeNull();
    expect(await store.runEvents.list('r1')).toEqual([]);
    expect(await store.sessions.get('w2', 's1')).not.toBeNull();
  });
});

describe('session ids over HTTP', () => {
  it('a session id used in another workspace is created, not refused with 409', async () => {
    const test = await buildTestApp({
      agents: [{ id: 'assistant', name: 'Assistant', model: 'local:default' }],
      auth: { api_keys: [{ name: 'admin', key: 'aos_session_keys_admin_0123456789', scopes: ['admin'] }] },
    });
    try {
      const create = (workspace: string) =>
        test.app.inject({
          method: 'POST',
          url: '/sessions',
          headers: { authorization: 'Bearer aos_session_keys_admin_0123456789', 'x-workspace-id': workspace },
          payload: { agent_id: 'assistant', session_id: 'reused', session_name: workspace },
        });
      expect((await create('w1')).statusCode).toBe(201);
      expect((await create('w2')).statusCode).toBe(201);
      expect((await create('w1')).statusCode).toBe(409);
    } finally {
      await test.close();
    }
  });
});
