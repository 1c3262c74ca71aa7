/**
 * Two real `agentos serve` processes on one throwaway Postgres database, both calling the scripted fake
 * upstream: the set-up the replica tests share (issue 12). Call {@link useReplicaPair} inside a
 * `describe.skipIf(!PG_ENABLED)`: it starts the pair before the file's tests and stops it after them.
 * @module
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, inject } from 'vitest';
import { createPostgresStore, type PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { startServe } from '../cli.js';
import { type FakeOpenAI, startFakeOpenAI } from '../fake-openai.js';
import { createTestDatabase, type TestDatabase } from '../pg-cluster.js';

/** One running `agentos serve` process. */
export type Replica = Awaited<ReturnType<typeof startServe>>;

/** The pair and what it runs on; the fields are set once the file's `beforeAll` has run. */
export interface ReplicaPair {
  fake: FakeOpenAI;
  dir: string;
  database: TestDatabase;
  a: Replica;
  b: Replica;
  /** Reads and writes rows directly, past both replicas (and their rate limits). */
  store: PostgresStore;
}

/** Options of {@link useReplicaPair}. */
export interface ReplicaPairOptions {
  /** The `agentos.config.yaml` both replicas read. */
  config: string;
  /** Prefix of the temporary working directory. */
  dirPrefix: string;
}

/**
 * Starts two replicas of `config` on a fresh database before the file's tests, and after them stops both
 * (SIGTERM; a replica a test already killed is left as it is), then drops the database.
 */
export function useReplicaPair({ config, dirPrefix }: ReplicaPairOptions): ReplicaPair {
  const pair = {} as Partial<ReplicaPair>;
  beforeAll(async () => {
    pair.fake = await startFakeOpenAI();
    pair.dir = mkdtempSync(join(tmpdir(), dirPrefix));
    writeFileSync(join(pair.dir, 'agentos.config.yaml'), config);
    pair.database = await createTestDatabase(inject('pgAdminUrl'));
    const env = { OPENAI_BASE_URL: pair.fake.url, OPENAI_API_KEY: 'k' };
    // One after the other: both would migrate, and the migrator's lock makes the second a no-op anyway.
    pair.a = await startServe(pair.dir, ['--db', pair.database.url], env);
    pair.b = await startServe(pair.dir, ['--db', pair.database.url], env);
    pair.store = createPostgresStore({ url: pair.database.url });
  });
  afterAll(async () => {
    await pair.a?.stop();
    await pair.b?.stop();
    await pair.store?.close();
    await pair.fake?.close();
    await pair.database?.drop();
    if (pair.dir !== undefined) rmSync(pair.dir, { recursive: true, force: true });
  });
  return pair as ReplicaPair;
}
