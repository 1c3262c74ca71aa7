/**
 * Migration 017 on a database that already holds spans: they survive the re-keying to (trace_id, span_id),
 * after which a span id may repeat in another trace and a span stored twice is still stored once.
 */
import type { Kysely } from 'kysely';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { createTestDatabase, PG_ENABLED, type TestDatabase } from '../../../test/pg-cluster.js';
import { createSqliteStore, type KyselyStore } from '../index.js';
import { runMigrations } from '../kysely/migrate.js';
import type { SpanRecord } from '../observability-types.js';
import { createPostgresStore } from '../postgres/postgres-store.js';
import { migrations } from './index.js';

let database: TestDatabase | undefined;
afterAll(async () => {
  await database?.drop();
});

const span = (traceId: string, spanId: string, parentSpanId: string | null = null): SpanRecord => ({
  spanId,
  traceId,
  parentSpanId,
  workspaceId: 'w1',
  name: `span ${spanId}`,
  spanType: 'AGENT',
  status: 'OK',
  statusMessage: null,
  startTime: 1_000,
  endTime: 1_005,
  durationMs: 5.25,
  attributes: { 'gen_ai.operation.name': 'invoke_agent' },
});

describe.each([
  { dialect: 'sqlite', enabled: true },
  { dialect: 'postgres', enabled: PG_ENABLED },
])('migration 017 on $dialect: spans keyed by (trace_id, span_id)', ({ dialect, enabled }) => {
  let store: KyselyStore | undefined;
  afterEach(async () => {
    await store?.close();
  });

  it.skipIf(!enabled)('keeps stored spans and lets a span id repeat across traces', async () => {
    if (dialect === 'sqlite') {
      store = createSqliteStore({ url: 'sqlite::memory:' });
    } else {
      database ??= await createTestDatabase(inject('pgAdminUrl'));
      store = createPostgresStore({ url: database.url });
    }
    const before = Object.fromEntries(Object.entries(migrations).filter(([name]) => name < '017-trace-span-keys'));
    await runMigrations(store.kysely as Kysely<unknown>, before);
    // Old rows, written raw: the store's insert already names the new key, which does not exist yet.
    // biome-ignore lint/suspicious/noExplicitAny: a raw row of the table before this migration
    await (store.kysely as Kysely<any>)
      .insertInto('trace_spans')
      .values({
        span_id: 'root',
        trace_id: 't1',
        parent_span_id: null,
        workspace_id: 'w1',
        name: 'invoke_agent old',
        span_type: 'AGENT',
        status: 'OK',
        status_message: null,
        start_time: 10,
        end_time: 20,
        duration_ms: 10.5,
        attributes: JSON.stringify({ kept: true }),
      })
      .execute();

    const result = await store.migrate();
    expect(result.applied[0]).toBe('017-trace-span-keys');

    expect(await store.observability.listSpans('w1', 't1')).toEqual([
      expect.objectContaining({ spanId: 'root', traceId: 't1', durationMs: 10.5, attributes: { kept: true } }),
    ]);
    // The same span id in another trace is another span; the same (trace, span) pair again is ignored.
    await store.observability.saveSpans([span('t2', 'root'), span('t2', 'child', 'root')]);
    await store.observability.saveSpans([span('t2', 'root')]);
    expect((await store.observability.listSpans('w1', 't2')).map((s) => s.spanId).sort()).toEqual(['child', 'root']);
    expect(await store.observability.listSpans('w1', 't1')).toHaveLength(1);
    expect((await store.observability.getTrace('w1', 't2'))?.totalSpans).toBe(2);
  });
});
