/**
 * The store exporter behind the batch processor: with a store that queues its writes (the SQLite file store's
 * trace worker) a batch counts as exported once handed over, so the processor drops it at once, up to a limit of
 * spans not yet written; with any other store, once written. A failed write is logged either way.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace-node';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../logging/logger.js';
import type { KyselyStore } from '../store/kysely/kysely-store.js';
import { createSqliteStore } from '../store/sqlite/sqlite-store.js';
import { RecordingTracer } from './recording-tracer.js';
import { StoreSpanExporter } from './store-exporter.js';
import { TimeOrderedIdGenerator } from './tracing.js';

const dir = mkdtempSync(join(tmpdir(), 'agentos-store-exporter-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `count` ended root spans, one trace each. */
function endedSpans(count: number): ReadableSpan[] {
  const ended: ReadableSpan[] = [];
  const collect: SpanProcessor = {
    onStart: () => {},
    onEnd: (span) => ended.push(span),
    forceFlush: async () => {},
    shutdown: async () => {},
  };
  const tracer = new RecordingTracer({
    processors: [collect],
    idGenerator: new TimeOrderedIdGenerator(),
    resource: resourceFromAttributes({ 'service.name': 'test' }),
    instrumentationScope: { name: 'test' },
  });
  for (let index = 0; index < count; index++) tracer.startSpan(`span ${index}`).end();
  return ended;
}

function logLines() {
  const lines: Array<{ level: number; msg: string; spans?: number }> = [];
  const destination = new PassThrough();
  destination.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
  });
  return { logger: createLogger({ level: 'warn', destination }), lines };
}

async function openStore(url: string): Promise<KyselyStore> {
  const store = createSqliteStore({ url });
  await store.migrate();
  return store;
}

describe('StoreSpanExporter', () => {
  it('reports a batch exported once handed to a store that queues writes, up to its limit of unwritten spans', async () => {
    const store = await openStore(`sqlite:${join(dir, 'queued.db')}`);
    try {
      expect(store.observability.queuesSpanWrites).toBe(true);
      const { logger } = logLines();
      const exporter = new StoreSpanExporter(store.observability, logger, { maxUnwrittenSpans: 3 });
      const results: number[] = [];
      exporter.export(endedSpans(2), (result) => results.push(result.code));
      // Answered before the write: the processor may drop these spans now.
      expect(results).toEqual([0]);
      // Two more would make four unwritten: this batch waits for its write, as with any other store.
      exporter.export(endedSpans(2), (result) => results.push(result.code));
      expect(results).toEqual([0]);
      await exporter.forceFlush();
      expect(results).toEqual([0, 0]);
      expect((await store.observability.listTraces({ workspaceId: 'default' })).total).toBe(4);
      // Both writes are done: the limit is free again.
      exporter.export(endedSpans(3), (result) => results.push(result.code));
      expect(results).toEqual([0, 0, 0]);
      await exporter.forceFlush();
      expect((await store.observability.listTraces({ workspaceId: 'default' })).total).toBe(7);
    } finally {
      await store.close();
    }
  });

  it('waits for the write with a store that does not queue, and logs a failed write in both cases', async () => {
    const memory = await openStore('sqlite::memory:');
    const file = await openStore(`sqlite:${join(dir, 'closed.db')}`);
    try {
      expect(memory.observability.queuesSpanWrites).toBeUndefined();
      const { logger, lines } = logLines();
      const results: number[] = [];
      const direct = new StoreSpanExporter(memory.observability, logger);
      direct.export(endedSpans(2), (result) => results.push(result.code));
      expect(results).toEqual([]);
      await direct.forceFlush();
      expect(results).toEqual([0]);
      expect((await memory.observability.listTraces({ workspaceId: 'default' })).total).toBe(2);

      // A closed file store refuses the write after the batch was handed over: the failure is logged.
      await file.close();
      const queued = new StoreSpanExporter(file.observability, logger);
      queued.export(endedSpans(1), (result) => results.push(result.code));
      expect(results).toEqual([0, 0]);
      await queued.forceFlush();
      await new Promise((resolve) => setImmediate(resolve));
      expect(lines).toContainEqual(expect.objectContaining({ msg: 'storing trace spans failed', spans: 1 }));
    } finally {
      await memory.close();
    }
  });
});
