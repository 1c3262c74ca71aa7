/**
 * Tracing over a store with a span stream (the SQLite file store): spans go to the store as they end, and the
 * store is asked to write after `tracing.max_batch_size` spans or `tracing.batch_delay_ms`; a store that falls
 * behind drops spans with a warning instead of holding them. Real tracer, real file store and trace worker;
 * the stream is the store's own, counted on the way.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { context, trace } from '@opentelemetry/api';
import { afterAll, describe, expect, it } from 'vitest';
import { memoryLogger } from '../../test/helpers.js';
import { tracingSchema } from '../config/observability-schema.js';
import type { ObservabilityStore, SpanStream } from '../store/observability-types.js';
import { createSqliteStore } from '../store/sqlite/sqlite-store.js';
import { createTracing } from './tracing.js';

const dir = mkdtempSync(join(tmpdir(), 'agentos-stream-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The file store's observability with its own stream, counting the writes asked of it. */
async function fileStore(name: string, ringBytes?: number) {
  const store = createSqliteStore({
    url: `sqlite:${join(dir, `${name}.db`)}`,
    ...(ringBytes ? { traceRingBytes: ringBytes } : {}),
  });
  await store.migrate();
  const own = store.observability.spanStream;
  if (!own) throw new Error('a file store has a span stream');
  const counts = { written: 0, refused: 0, flushes: 0 };
  const spanStream: SpanStream = {
    write: (span) => {
      const taken = own.write(span);
      if (taken) counts.written++;
      else counts.refused++;
      return taken;
    },
    flush: () => {
      counts.flushes++;
      return own.flush();
    },
  };
  const observability: ObservabilityStore = Object.create(store.observability, { spanStream: { value: spanStream } });
  return { store, observability, counts };
}

const until = async (done: () => boolean) => {
  for (let waited = 0; !done(); waited += 5) {
    if (waited > 2_000) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

describe('tracing into a store with a span stream', () => {
  it('asks the store to write every max_batch_size spans and after batch_delay_ms, and the spans are stored', async () => {
    const { store, observability, counts } = await fileStore('batches');
    const config = tracingSchema.parse({ max_batch_size: 3, batch_delay_ms: 50 });
    const tracing = await createTracing({ config, store: observability, logger: memoryLogger().logger });
    try {
      const root = tracing.tracer.startSpan('invoke_agent a', {
        attributes: { 'gen_ai.operation.name': 'invoke_agent' },
      });
      const traceId = root.spanContext().traceId;
      const parent = trace.setSpan(context.active(), root);
      tracing.tracer.startSpan('chat m', { attributes: { 'gen_ai.operation.name': 'chat' } }, parent).end();
      root.end();
      expect(counts).toMatchObject({ written: 2, flushes: 0 });
      tracing.tracer.startSpan('other').end();
      expect(counts).toMatchObject({ written: 3, flushes: 1 });
      tracing.tracer.startSpan('late').end();
      await until(() => counts.flushes === 2);
      expect(await observability.getTrace('default', traceId)).toMatchObject({ name: 'invoke_agent a', totalSpans: 2 });
      expect((await observability.listTraces({ workspaceId: 'default' })).total).toBe(3);
    } finally {
      await tracing.shutdown();
      await store.close();
    }
  });

  it('drops spans with a warning while the store is behind, and stores the rest', async () => {
    const { store, observability, counts } = await fileStore('behind', 4096);
    const log = memoryLogger();
    const config = tracingSchema.parse({ max_batch_size: 10_000, batch_delay_ms: 60_000 });
    const tracing = await createTracing({ config, store: observability, logger: log.logger });
    try {
      // The worker reads the ring only when asked, so with no write asked for it fills up.
      while (counts.refused === 0) tracing.tracer.startSpan('span').end();
      expect(log.lines().filter((line) => line.msg === 'trace spans dropped: the trace store is behind')).toHaveLength(
        1,
      );
      await tracing.flush();
      expect((await observability.listTraces({ workspaceId: 'default' })).total).toBe(counts.written);
      expect(log.lines().find((line) => line.msg === 'trace spans were dropped')).toMatchObject({
        spans: counts.refused,
      });
    } finally {
      await tracing.shutdown();
      await store.close();
    }
  });
});
