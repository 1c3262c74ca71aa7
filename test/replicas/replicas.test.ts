/**
 * Two real `agentos serve` processes on one Postgres database (issue 12): streams, cancels, crashes and
 * rate limits hold across replicas. Skipped unless AGENTOS_TEST_PG=1.
 */
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers.js';
import { PG_ENABLED } from '../pg-cluster.js';
import { SseReader } from '../sse.js';
import { useReplicaPair } from './replica-pair.js';

// biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field
const json = async (response: Response): Promise<any> => response.json();

/** Lease times short enough for a quick takeover test, long enough that a live owner never loses its runs. */
const HEARTBEAT_MS = 2_000;
const LEASE_MS = 3_000;

const CONFIG = [
  'agents:',
  '  - id: echo',
  '    model: openai:gpt-4o-mini',
  'server:',
  `  run_heartbeat_ms: ${HEARTBEAT_MS}`,
  `  run_lease_ms: ${LEASE_MS}`,
  'rate_limits:',
  '  read: 6/h',
  '  write: 1000/h',
  '  message: 1000/h',
  '',
].join('\n');

const words = (count: number) => Array.from({ length: count }, (_, index) => `w${index}`).join(' ');

function post(url: string, body: unknown): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

describe.skipIf(!PG_ENABLED)('two replicas on one Postgres', () => {
  const pair = useReplicaPair({ config: CONFIG, dirPrefix: 'agentos-replicas-' });
  /** Reads run rows directly: GETs through the replicas would spend the `read` budget the rate-limit test counts. */
  const status = async (runId: string) => (await pair.store.runs.get('default', runId))?.status;

  it('rate limits hold across both replicas (one bucket in the shared store)', async () => {
    // `read` is 6/h per client (this test is the only reader): per-replica buckets would admit all 12.
    const statuses: number[] = [];
    for (let index = 0; index < 12; index++) {
      const replica = index % 2 === 0 ? pair.a : pair.b;
      statuses.push((await fetch(`${replica.url}/agents`)).status);
    }
    expect(statuses).toEqual([...Array(6).fill(200), ...Array(6).fill(429)]);
  });

  it('a stream started on A is resumed on B with no gap or duplicate, live to the end', async () => {
    pair.fake.script({ text: words(60), chunkDelayMs: 40 });
    const started = await post(`${pair.a.url}/agents/echo/runs`, {
      message: 'stream me',
      stream: true,
      background: true,
    });
    const reader = new SseReader(started);
    const head = await reader.until((frame) => frame.event === 'RunContent' && frame.data.content === 'w2 ');
    await reader.cancel();
    const runId = head[0]?.data.run_id;
    const lastSeen = Number(head.at(-1)?.id);

    // B joins while A still runs it: what follows reaches B live, not read after the end.
    expect(await status(runId)).toBe('running');
    const resumed = await post(`${pair.b.url}/agents/echo/runs/${runId}/resume`, { last_event_index: lastSeen });
    expect(resumed.status).toBe(200);
    const tail = await new SseReader(resumed).all();
    expect(await status(runId)).toBe('completed');
    const indexes = [...head, ...tail].map((frame) => Number(frame.id));
    expect(indexes).toEqual(indexes.map((_, index) => index));
    expect(tail.at(-1)?.event).toBe('RunCompleted');
    const text = [...head, ...tail]
      .filter((frame) => frame.event === 'RunContent')
      .map((frame) => frame.data.content)
      .join('');
    expect(text).toBe(words(60));
  });

  it('a cancel sent to B stops a run executing on A within 1 s', async () => {
    pair.fake.script({ text: 'never finishes', hang: true });
    const accepted = await json(
      await post(`${pair.a.url}/agents/echo/runs`, { message: 'cancel me', background: true }),
    );
    await waitFor(
      async () => ((await status(accepted.run_id)) === 'running' && pair.fake.queued === 0 ? true : undefined),
      10_000,
    );
    const sent = Date.now();
    const cancelled = await post(`${pair.b.url}/agents/echo/runs/${accepted.run_id}/cancel`, {});
    expect(cancelled.status).toBe(200);
    await waitFor(async () => ((await status(accepted.run_id)) === 'cancelled' ? true : undefined), 5_000);
    // The owner's poll runs every HEARTBEAT_MS (2 s); under 1 s means the NOTIFY did it.
    expect(Date.now() - sent).toBeLessThan(1_000);
    const events = await pair.store.runEvents.list(accepted.run_id);
    expect(events.map((event) => event.event)).toContain('RunCancelled');
  });

  it('a run held by a replica on another host is taken over only once its lease is older than run_lease_ms', async () => {
    // What a replica on another machine leaves behind when it vanishes: its pid means nothing here, so only the
    // heartbeat tells. The row is written as that replica would have written it.
    await pair.store.sessions.create({ sessionId: 'remote-s', sessionType: 'agent', componentId: 'echo' });
    await pair.store.runs.create({
      runId: 'remote-r',
      sessionId: 'remote-s',
      componentType: 'agent',
      componentId: 'echo',
      status: 'running',
      owner: 'another-host:4242:feedbeef',
    });
    await pair.store.runEvents.append('remote-r', [
      { eventIndex: 0, event: 'RunStarted', payload: { event: 'RunStarted' } },
    ]);
    const lastBeat = Date.now();
    // Still within its lease: nobody touches it.
    await new Promise((resolve) => setTimeout(resolve, LEASE_MS - 1_000));
    expect(await status('remote-r')).toBe('running');
    await waitFor(async () => ((await status('remote-r')) === 'error' ? true : undefined), LEASE_MS + 2 * HEARTBEAT_MS);
    expect(Date.now() - lastBeat).toBeGreaterThanOrEqual(LEASE_MS);
    expect(Date.now() - lastBeat).toBeLessThan(LEASE_MS + 2 * HEARTBEAT_MS);
    // The sweep claims the run by its status first, then closes the stream with a RunError.
    const events = await waitFor(async () => {
      const stored = await pair.store.runEvents.list('remote-r');
      return stored.length > 1 ? stored : undefined;
    }, 2_000);
    expect(events.map((event) => event.event)).toEqual(['RunStarted', 'RunError']);
  });

  it('kill -9 of A mid-run: B marks the run error within the lease time, and a replay ends', async () => {
    pair.fake.script({ text: 'interrupted', hang: true });
    const accepted = await json(
      await post(`${pair.a.url}/agents/echo/runs`, { message: 'crash me', background: true }),
    );
    const before = pair.fake.modelRequests.length;
    await waitFor(async () => (pair.fake.modelRequests.length > before ? true : undefined), 10_000);
    await pair.a.kill();
    const killed = Date.now();
    const resumed = await post(`${pair.b.url}/agents/echo/runs/${accepted.run_id}/resume`, { last_event_index: -1 });
    expect(resumed.status).toBe(200);
    const frames = await new SseReader(resumed).all();
    expect(Date.now() - killed).toBeLessThan(LEASE_MS + HEARTBEAT_MS);
    expect(frames.at(-1)?.event).toBe('RunError');
    expect(frames.at(-1)?.data.content).toMatch(/interrupted/i);
    expect(frames.map((frame) => Number(frame.id))).toEqual(frames.map((_, index) => index));
  });
});
