import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { runCli } from '../../test/cli.js';
import { createTestDatabase, PG_ENABLED, type TestDatabase } from '../../test/pg-cluster.js';
import { createAuditSeal } from '../security/index.js';
import { createSqliteStore, type KyselyStore } from '../store/index.js';
import { copyDatabase } from '../store/postgres/copy-database.js';
import { createPostgresStore } from '../store/postgres/postgres-store.js';

const dirs: string[] = [];
const databases: TestDatabase[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'agentos-copy-'));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  for (const database of databases) await database.drop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const seal = createAuditSeal(Buffer.alloc(32, 7));

/** A source database with rows in the tables every deployment has, JSON and unicode included. */
async function seedSqlite(path: string): Promise<void> {
  const store = createSqliteStore({ url: `sqlite:${path}` });
  await store.migrate();
  for (let index = 0; index < 3; index++) {
    await store.sessions.create({
      sessionId: `s${index}`,
      sessionType: 'agent',
      componentId: 'assistant',
      userId: index === 0 ? null : `u${index}`,
      sessionState: { nested: { list: [1, 2.5, 'x'], flag: true }, text: 'héllo ✓' },
    });
    await store.runs.create({
      runId: `r${index}`,
      sessionId: `s${index}`,
      componentType: 'agent',
      componentId: 'assistant',
      input: { message: `hi ${index}` },
      status: 'completed',
    });
    await store.runEvents.append(
      `r${index}`,
      Array.from({ length: 700 }, (_, eventIndex) => ({
        eventIndex,
        event: eventIndex === 0 ? 'RunStarted' : 'RunContent',
        payload: { event_index: eventIndex, content: `token ${eventIndex}`, b: 1, a: [null] },
      })),
    );
  }
  await store.search.add([
    {
      scope: 'kb',
      sourceId: 'doc1',
      chunkIndex: 0,
      content: 'Otters hold hands while they sleep.',
      metadata: { lang: 'en' },
      contentHash: 'hash-1',
      embedding: { embedder: 'local:default', vector: new Float32Array([0.1, 0.2, 0.3]) },
    },
  ]);
  // Goes to the store's trace file (source.traces.db), not to its tables.
  await store.observability.saveSpans([
    {
      spanId: 'root',
      traceId: 'trace-1',
      parentSpanId: null,
      workspaceId: 'default',
      name: 'invoke_agent assistant',
      spanType: 'AGENT',
      status: 'OK',
      statusMessage: null,
      startTime: 1_000,
      endTime: 1_020,
      durationMs: 20,
      attributes: { 'agentos.run_id': 'r0', 'gen_ai.conversation.id': 's0' },
    },
  ]);
  await store.apiKeys.create({ id: 'k1', name: 'ci', keyHash: 'h1', keyPrefix: 'aos_', scopes: ['agents:read'] });
  await store.rateLimits.consume('ip:1', { limit: 5, windowMs: 60_000 }, Date.now());
  for (let index = 0; index < 4; index++) {
    await store.audit.append({ kind: 'auth.failed', details: { attempt: index, z: 1, a: 2 } }, seal);
  }
  await store.close();
}

async function expectSameData(source: KyselyStore, target: KyselyStore): Promise<void> {
  expect(await target.sessions.get('default', 's1')).toEqual(await source.sessions.get('default', 's1'));
  expect(await target.runs.get('default', 'r2')).toEqual(await source.runs.get('default', 'r2'));
  const events = await target.runEvents.list('r0');
  expect(events).toHaveLength(700);
  expect(events.map((event) => event.payload)).toEqual((await source.runEvents.list('r0')).map((e) => e.payload));
  // Knowledge chunks and their stored vectors come along; the target's keyword index covers them.
  const hits = await target.search.search({ scope: 'kb', text: 'otters', mode: 'keyword', limit: 5 });
  expect(hits.map((hit) => hit.sourceId)).toEqual(['doc1']);
  const vectors = await target.search.findEmbeddings('local:default', ['hash-1']);
  expect(Array.from(vectors.get('hash-1') ?? [])).toEqual(Array.from(new Float32Array([0.1, 0.2, 0.3])));
  expect(await target.apiKeys.getActiveByHash('h1')).toMatchObject({ id: 'k1', scopes: ['agents:read'] });
  expect(await target.observability.getTrace('default', 'trace-1')).toMatchObject({ runId: 'r0', totalSpans: 1 });
  expect(await target.observability.listSpans('default', 'trace-1')).toEqual(
    await source.observability.listSpans('default', 'trace-1'),
  );
  // The audit chain is copied as sealed: it still verifies, and appends continue it.
  expect(await target.audit.verify(seal)).toEqual({ valid: true, entries: 4, violations: [] });
  const next = await target.audit.append({ kind: 'auth.failed', details: {} }, seal);
  expect(next.seq).toBe(5);
  expect((await target.audit.verify(seal)).valid).toBe(true);
}

// Each test runs the real CLI (through tsx) a few times; a loaded machine needs more than the default 20 s.
describe('agentos migrate --from --to', { timeout: 90_000 }, () => {
  it('copies a SQLite database into another, verified by counts and checksums, and refuses a non-empty target', async () => {
    const dir = tempDir();
    await seedSqlite(join(dir, 'source.db'));
    const copied = await runCli(['migrate', '--from', 'sqlite:source.db', '--to', 'sqlite:target.db'], dir);
    expect(copied.code, copied.stderr).toBe(0);
    expect(copied.stdout).toMatch(/^copied run_events: 2100 rows, checksum [0-9a-f]{16}$/m);
    expect(copied.stdout).toMatch(/^copied sessions: 3 rows/m);
    expect(copied.stdout).toMatch(/^copied trace spans: 1$/m);
    expect(copied.stdout).toMatch(/^skipped search_fts: a SQLite virtual table/m);
    expect(copied.stdout).toMatch(/^verified: \d+ tables, \d+ rows, counts and checksums match$/m);

    const source = createSqliteStore({ url: `sqlite:${join(dir, 'source.db')}` });
    const target = createSqliteStore({ url: `sqlite:${join(dir, 'target.db')}` });
    try {
      await expectSameData(source, target);
    } finally {
      await source.close();
      await target.close();
    }

    const again = await runCli(['migrate', '--from', 'sqlite:source.db', '--to', 'sqlite:target.db'], dir);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/not empty/);
    const half = await runCli(['migrate', '--from', 'sqlite:source.db'], dir);
    expect(half.code).toBe(1);
    expect(half.stderr).toMatch(/--from and --to go together/);
  });

  it('fails verification when a copied row differs from its source', async () => {
    const dir = tempDir();
    await seedSqlite(join(dir, 'source.db'));
    const source = createSqliteStore({ url: `sqlite:${join(dir, 'source.db')}` });
    const target = createSqliteStore({ url: `sqlite:${join(dir, 'target.db')}` });
    try {
      await target.migrate();
      // A target that changes what it is given: the checksum must notice even though the count matches.
      await sql`create trigger corrupt after insert on sessions begin
        update sessions set session_name = 'changed' where session_id = new.session_id; end`.execute(target.kysely);
      await expect(copyDatabase(source, target)).rejects.toThrow(/Verification failed for sessions/);
      // Nothing of the failed copy stays behind.
      expect((await target.sessions.list({ workspaceId: 'default' })).total).toBe(0);
    } finally {
      await source.close();
      await target.close();
    }
  });

  it.skipIf(!PG_ENABLED)('copies SQLite into Postgres with every row and the audit chain intact', async () => {
    const dir = tempDir();
    await seedSqlite(join(dir, 'source.db'));
    const database = await createTestDatabase(inject('pgAdminUrl'));
    databases.push(database);
    const dry = await runCli(['migrate', '--dry-run', '--from', 'sqlite:source.db', '--to', database.url], dir);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/^dry run: \d+ tables, \d+ rows; nothing written$/m);
    const pg = createPostgresStore({ url: database.url });
    expect((await pg.migrate({ dryRun: true })).migrations.some((migration) => migration.applied)).toBe(false);
    await pg.close();
    const copied = await runCli(['migrate', '--from', 'sqlite:source.db', '--to', database.url], dir);
    expect(copied.code, copied.stderr).toBe(0);
    expect(copied.stdout).toMatch(/^copied run_events: 2100 rows/m);
    expect(copied.stdout).toMatch(/^verified: /m);
    expect(dry.stdout).toMatch(/^would copy run_events: 2100 rows$/m);

    const source = createSqliteStore({ url: `sqlite:${join(dir, 'source.db')}` });
    const target = createPostgresStore({ url: database.url });
    try {
      await target.migrate();
      await expectSameData(source, target);
    } finally {
      await source.close();
      await target.close();
    }
  });
});
