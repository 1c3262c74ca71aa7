import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunEvent } from '../events/index.js';
import type { KyselyStore } from '../store/kysely/kysely-store.js';
import { createSqliteStore } from '../store/sqlite/sqlite-store.js';
import { EVENT_BATCH_MS, EventWriter } from './event-writer.js';

const tick = () => new Promise((resolve) => setImmediate(resolve));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function event(index: number): RunEvent {
  return {
    event: 'RunContent',
    event_index: index,
    run_id: 'run-1',
    session_id: 'session-1',
    created_at: new Date(0).toISOString(),
    content: `word ${index}`,
    content_type: 'str',
  } as RunEvent;
}

describe('EventWriter', () => {
  let store: KyselyStore;
  let appends: number[];

  beforeEach(async () => {
    store = createSqliteStore({ url: 'sqlite::memory:' });
    await store.migrate();
    await store.sessions.create({ sessionId: 'session-1', sessionType: 'agent', componentId: 'a', userId: null });
    await store.runs.create({ runId: 'run-1', sessionId: 'session-1', componentType: 'agent', componentId: 'a' });
    appends = [];
    const append = store.runEvents.append.bind(store.runEvents);
    store.runEvents.append = (runId, events) => {
      appends.push(events.length);
      return append(runId, events);
    };
  });

  afterEach(async () => {
    await store.close();
  });

  it('writes events emitted on separate ticks in one insert', async () => {
    const writer = new EventWriter('run-1', store.runEvents, () => {});
    for (let index = 0; index < 12; index++) {
      writer.push(event(index));
      await tick();
    }
    await sleep(EVENT_BATCH_MS * 3);
    expect(appends).toEqual([12]);
    const stored = await store.runEvents.list('run-1');
    expect(stored.map((row) => row.eventIndex)).toEqual([...Array(12).keys()]);
  });

  it('flush stores everything queued at once, in order, and later events in a later batch', async () => {
    const writer = new EventWriter('run-1', store.runEvents, () => {});
    writer.push(event(0));
    writer.push(event(1));
    await writer.flush();
    expect(appends).toEqual([2]);
    writer.push(event(2));
    await writer.flush();
    expect(appends).toEqual([2, 1]);
    const stored = await store.runEvents.list('run-1', { afterIndex: 0 });
    expect(stored.map((row) => [row.eventIndex, (row.payload as { content?: string }).content])).toEqual([
      [1, 'word 1'],
      [2, 'word 2'],
    ]);
  });

  it('take hands over the unwritten events once earlier batches are stored; requeue gives them back to flush', async () => {
    const writer = new EventWriter('run-1', store.runEvents, () => {});
    for (let index = 0; index < 3; index++) {
      writer.push(event(index));
      await tick();
    }
    await sleep(EVENT_BATCH_MS * 3);
    writer.push(event(3));
    writer.push(event(4));
    const rest = await writer.take();
    expect(rest.map((row) => [row.eventIndex, row.event])).toEqual([
      [3, 'RunContent'],
      [4, 'RunContent'],
    ]);
    await sleep(EVENT_BATCH_MS * 3);
    // Taken events are the caller's to write: the writer did not store them.
    expect(appends).toEqual([3]);
    expect(await store.runEvents.lastIndex('run-1')).toBe(2);
    writer.requeue(rest);
    writer.push(event(5));
    await writer.flush();
    expect(appends).toEqual([3, 3]);
    expect((await store.runEvents.list('run-1', { afterIndex: 2 })).map((row) => row.eventIndex)).toEqual([3, 4, 5]);
  });

  it('take rejects after a failed write', async () => {
    const writer = new EventWriter('run-1', store.runEvents, () => {});
    writer.push(event(0));
    await writer.flush();
    writer.push(event(0));
    await expect(writer.flush()).rejects.toThrow();
    writer.push(event(1));
    await expect(writer.take()).rejects.toThrow(/already has one of these event indexes/);
  });

  it('reports a failed write and stops writing after the gap', async () => {
    const errors: unknown[] = [];
    const writer = new EventWriter('run-1', store.runEvents, (error) => errors.push(error));
    writer.push(event(0));
    await writer.flush();
    writer.push(event(0));
    await expect(writer.flush()).rejects.toThrow(/already has one of these event indexes/);
    writer.push(event(1));
    await expect(writer.flush()).rejects.toThrow();
    expect(errors).toHaveLength(1);
    expect((await store.runEvents.list('run-1')).map((row) => row.eventIndex)).toEqual([0]);
  });
});
