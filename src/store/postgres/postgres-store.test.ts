import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildTestApp, memoryLogger } from '../../../test/helpers.js';
import { createTestDatabase, PG_ENABLED, type TestDatabase } from '../../../test/pg-cluster.js';
import { runStoreContract } from '../contract/store.contract.js';
import { createPostgresStore } from './postgres-store.js';

let database: TestDatabase | undefined;

async function url(): Promise<string> {
  database ??= await createTestDatabase(inject('pgAdminUrl'));
  return database.url;
}

describe.skipIf(!PG_ENABLED)('postgres', () => {
  afterAll(async () => {
    await database?.drop();
  });

  runStoreContract({
    name: 'postgres',
    createStore: async () => {
      const store = createPostgresStore({ url: await url() });
      await store.migrate();
      return store;
    },
  });

  describe('postgres adapter', () => {
    let store: ReturnType<typeof createPostgresStore>;
    beforeAll(async () => {
      store = createPostgresStore({ url: await url() });
      await store.migrate();
    });
    afterAll(async () => {
      await store?.close();
    });

    it('reports a multi-writer dialect and whether pgvector exists', () => {
      expect(store.capabilities).toMatchObject({ dialect: 'postgres', multiWriter: true });
      // Debian's PostgreSQL ships without pgvector; the probe must say so rather than guess.
      expect(typeof store.capabilities.vectorSearch).toBe('boolean');
    });

    it('reads epoch milliseconds back as numbers', async () => {
      await store.sessions.create({ sessionId: 'pg-s1', sessionType: 'agent', componentId: 'a' });
      const session = await store.sessions.get('default', 'pg-s1');
      expect(typeof session?.createdAt).toBe('number');
      expect(session?.createdAt).toBeGreaterThan(1_600_000_000_000);
    });

    it('signals stored events, status changes and cancels to another process, and survives a lost connection', async () => {
      // A second store is what another replica holds: its writes reach this one only through Postgres.
      const other = createPostgresStore({ url: await url() });
      const changed: string[] = [];
      const cancels: string[] = [];
      let resyncs = 0;
      const next = (predicate: () => boolean) =>
        new Promise<void>((resolve, reject) => {
          const deadline = Date.now() + 5_000;
          const check = () => {
            if (predicate()) resolve();
            else if (Date.now() > deadline) reject(new Error('no signal within 5 s'));
            else setTimeout(check, 5);
          };
          check();
        });
      const stops = [
        store.runSignals.onRunChanged((runId) => changed.push(runId)),
        store.runSignals.onCancelRequested((runId) => cancels.push(runId)),
        store.runSignals.onResync(() => {
          resyncs += 1;
        }),
      ];
      try {
        await next(() => resyncs === 1);
        await other.sessions.create({ sessionId: 'sig-s', sessionType: 'agent', componentId: 'a' });
        await other.runs.create({ runId: 'sig-r', sessionId: 'sig-s', componentType: 'agent', componentId: 'a' });
        await other.runEvents.append('sig-r', [
          { eventIndex: 0, event: 'RunStarted', payload: {} },
          { eventIndex: 1, event: 'RunContent', payload: {} },
        ]);
        await next(() => changed.length >= 1);
        // One insert of two events is one transaction: Postgres folds its notifications into one.
        expect(changed).toEqual(['sig-r']);
        await other.runs.requestCancel('default', 'sig-r', Date.now());
        await next(() => cancels.length === 1);
        expect(cancels).toEqual(['sig-r']);
        await other.runs.transition('default', 'sig-r', ['pending'], { status: 'cancelled' });
        await next(() => changed.length === 2);

        // The server drops the LISTEN connection: the store reconnects, says so, and signals flow again.
        await sql`select pg_terminate_backend(pid) from pg_stat_activity
          where query like 'listen %' and pid <> pg_backend_pid()`.execute(other.kysely);
        await next(() => resyncs === 2);
        await other.runEvents.append('sig-r', [{ eventIndex: 2, event: 'RunCompleted', payload: {} }]);
        await next(() => changed.length === 3);
      } finally {
        for (const stop of stops) stop();
        await other.close();
      }
    });

    it('starts the services on Postgres and warns that vector search falls back to keywords', async () => {
      const { logger, lines } = memoryLogger('warn');
      const app = await buildTestApp({ database: { url: await url() } }, {}, logger);
      try {
        expect(app.services.store.capabilities.dialect).toBe('postgres');
        const health = await app.app.inject({ method: 'GET', url: '/health' });
        expect(health.statusCode).toBe(200);
        expect(lines().some((line) => String(line.msg).includes('knowledge search falls back to keyword search'))).toBe(
          !app.services.store.search.vectorSearch,
        );
      } finally {
        await app.close();
      }
    });

    it('rejects a non-postgres URL', () => {
      expect(() => createPostgresStore({ url: 'sqlite::memory:' })).toThrow(/postgres/);
    });
  });
});

describe('postgres adapter without a server', () => {
  it('reports an unreachable database as AOS_STORE_UNAVAILABLE, without the password', async () => {
    const store = createPostgresStore({ url: 'postgres://agentos:s3cret@127.0.0.1:1/agentos' });
    const error = await store.migrate().then(
      () => undefined,
      (caught: unknown) => caught as { code?: string; message: string },
    );
    await store.close();
    expect(error?.code).toBe('AOS_STORE_UNAVAILABLE');
    expect(error?.message).toMatch(/Cannot reach the Postgres database/);
    expect(error?.message).not.toContain('s3cret');
  });
});
