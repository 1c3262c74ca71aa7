/**
 * The Postgres adapter against a Postgres that has pgvector. Debian's PostgreSQL here ships without it, so
 * this suite runs on PGlite (Postgres compiled to WASM) with its pgvector build, served over the Postgres
 * wire protocol by PGlite's socket server: the adapter's own node-postgres pool, migrations and SQL run
 * unchanged, and the store contract's vector cases (cosine KNN, hybrid fusion, deletes) run on real pgvector.
 */
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runStoreContract } from '../contract/store.contract.js';
import { createPostgresStore, type PostgresStore } from './postgres-store.js';

let pglite: PGlite | undefined;
let server: PGLiteSocketServer | undefined;
let url = '';

async function startPglite(): Promise<string> {
  if (url) return url;
  pglite = await PGlite.create({ extensions: { vector } });
  // PGlite is one connection; its server multiplexes a few clients onto it.
  server = new PGLiteSocketServer({ db: pglite, host: '127.0.0.1', port: 0, maxConnections: 8 });
  await server.start();
  // `host:port` with the port the OS gave.
  url = `postgres://postgres@${server.getServerConn()}/postgres`;
  return url;
}

describe('postgres with pgvector (PGlite over the wire)', () => {
  afterAll(async () => {
    await server?.stop();
    await pglite?.close();
  });

  runStoreContract({
    name: 'postgres + pgvector',
    createStore: async () => {
      const store = createPostgresStore({ url: await startPglite(), maxConnections: 2 });
      await store.migrate();
      return store;
    },
  });

  describe('vector side', () => {
    let store: PostgresStore;
    beforeAll(async () => {
      store = createPostgresStore({ url: await startPglite(), maxConnections: 2 });
      await store.migrate();
    });
    afterAll(async () => {
      await store?.close();
    });

    it('enables the extension and searches vectors through an HNSW cosine index', async () => {
      expect(store.capabilities.vectorSearch).toBe(true);
      expect(store.search.vectorSearch).toBe(true);
      const dims = 16;
      const axis = (index: number) => {
        const values = new Float32Array(dims);
        values[index % dims] = 1;
        values[(index + 1) % dims] = 0.25;
        return values;
      };
      await store.search.add(
        Array.from({ length: 40 }, (_, index) => ({
          scope: index % 2 === 0 ? 'even' : 'odd',
          sourceId: `s${index}`,
          chunkIndex: 0,
          content: `chunk number ${index}`,
          contentHash: `h${index}`,
          embedding: { embedder: 'test:axis', vector: axis(index) },
        })),
      );
      const indexes = await sql<{ indexdef: string }>`
        select indexdef from pg_indexes where tablename = ${`search_pgvec_${dims}`}`.execute(store.kysely);
      expect(indexes.rows.some((row) => /using hnsw \(embedding vector_cosine_ops\)/i.test(row.indexdef))).toBe(true);

      const hits = await store.search.search({
        scope: 'even',
        text: 'chunk',
        mode: 'vector',
        embedding: { embedder: 'test:axis', vector: axis(4) },
        limit: 3,
      });
      // Only the scope's own vectors answer, nearest first: s4 itself, then its even neighbours.
      expect(hits[0]).toMatchObject({ sourceId: 's4', matchType: 'vector' });
      expect(hits[0]?.score).toBeCloseTo(1, 5);
      expect(hits.every((hit) => Number(hit.sourceId.slice(1)) % 2 === 0)).toBe(true);

      // Deleting a source removes its vector row too (cascade from search_docs).
      await store.search.deleteSource('even', 's4');
      const count = await sql<{ n: number }>`
        select count(*)::int as n from ${sql.table(`search_pgvec_${dims}`)}`.execute(store.kysely);
      expect(Number(count.rows[0]?.n)).toBe(39);
    });
  });
});
