/**
 * The store exporter's hand-over: with a store that queues its writes in order, the batch processor gets
 * its answer as soon as a batch is handed over, up to a number of writes under way; the next waits for its
 * write. A failed write is logged either way and reported where the processor still waits.
 */
import { resourceFromAttributes } from '@opentelemetry/resources';
import { describe, expect, it } from 'vitest';
import { memoryLogger } from '../../test/helpers.js';
import type { ObservabilityStore, SpanRecord } from '../store/observability-types.js';
import { RecordingTracer } from './recording-tracer.js';
import { StoreSpanExporter } from './store-exporter.js';
import { TimeOrderedIdGenerator } from './tracing.js';

/** A store whose span writes finish when the test says (only `saveSpans` is called by the exporter). */
function heldStore() {
  const writes: { spans: SpanRecord[]; finish: () => void; fail: (error: Error) => void }[] = [];
  const store = {
    saveSpans: (spans: SpanRecord[]) =>
      new Promise<void>((finish, fail) => {
        writes.push({ spans, finish, fail });
      }),
  } as unknown as ObservabilityStore;
  return { store, writes };
}

/** Finished spans of the real tracer, as the batch processor passes them to the exporter. */
function endedSpans(count: number) {
  const ended: Parameters<StoreSpanExporter['export']>[0] = [];
  const tracer = new RecordingTracer({
    processors: [
      {
        onStart: () => {},
        onEnd: (span) => ended.push(span),
        forceFlush: async () => {},
        shutdown: async () => {},
      },
    ],
    idGenerator: new TimeOrderedIdGenerator(),
    rootSampler: undefined,
    resource: resourceFromAttributes({ 'service.name': 'agentos-test' }),
    instrumentationScope: { name: 'agentos' },
    inherited: [],
  });
  for (let index = 0; index < count; index++) tracer.startSpan(`span ${index}`).end();
  return ended;
}

describe('StoreSpanExporter', () => {
  it('answers at once for hand-overs under the limit and waits for the write of the one at it', async () => {
    const { store, writes } = heldStore();
    const { logger } = memoryLogger();
    const exporter = new StoreSpanExporter(store, logger, 3);
    const answers: number[][] = [[], [], []];
    for (const index of [0, 1, 2]) exporter.export(endedSpans(2), (result) => answers[index]?.push(result.code));
    expect(writes).toHaveLength(3);
    expect(writes[0]?.spans.map((span) => span.name)).toEqual(['span 0', 'span 1']);
    // The first two are handed over; the third is the third write under way and waits.
    expect(answers).toEqual([[0], [0], []]);
    writes[2]?.finish();
    await new Promise((resolve) => setImmediate(resolve));
    expect(answers[2]).toEqual([0]);

    let flushed = false;
    const flush = exporter.forceFlush().then(() => {
      flushed = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(flushed).toBe(false);
    writes[0]?.finish();
    writes[1]?.finish();
    await flush;
    expect(flushed).toBe(true);
  });

  it('logs a failed write it did not wait for, and reports one it waited for', async () => {
    const { store, writes } = heldStore();
    const { logger, lines } = memoryLogger();
    const exporter = new StoreSpanExporter(store, logger, 2);
    const answers: { code: number; error?: Error }[] = [];
    exporter.export(endedSpans(1), (result) => answers.push(result));
    exporter.export(endedSpans(3), (result) => answers.push(result));
    expect(answers).toEqual([{ code: 0 }]);
    writes[0]?.fail(new Error('disk full'));
    writes[1]?.fail(new Error('disk still full'));
    await exporter.forceFlush();
    expect(answers[1]).toMatchObject({ code: 1, error: { message: 'disk still full' } });
    expect(lines().map((line) => [line.msg, line.spans])).toEqual([
      ['storing trace spans failed', 1],
      ['storing trace spans failed', 3],
    ]);
  });

  it('waits for every write with the default of one write under way', async () => {
    const { store, writes } = heldStore();
    const exporter = new StoreSpanExporter(store, memoryLogger().logger);
    const answers: number[] = [];
    exporter.export(endedSpans(1), (result) => answers.push(result.code));
    expect(answers).toEqual([]);
    writes[0]?.finish();
    await exporter.forceFlush();
    await new Promise((resolve) => setImmediate(resolve));
    expect(answers).toEqual([0]);
  });
});
