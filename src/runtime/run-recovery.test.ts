import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServe } from '../../test/cli.js';
import { type FakeOpenAI, startFakeOpenAI } from '../../test/fake-openai.js';
import { memoryLogger } from '../../test/helpers.js';
import { SseReader } from '../../test/sse.js';
import { startServer } from '../main.js';

// biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field
const json = async (response: Response): Promise<any> => response.json();

const CONFIG = ['agents:', '  - id: echo', '    model: openai:gpt-4o-mini', ''].join('\n');

describe('runs survive restarts and crashes', () => {
  let fake: FakeOpenAI;
  let dir: string;
  beforeAll(async () => {
    fake = await startFakeOpenAI();
    dir = mkdtempSync(join(tmpdir(), 'agentos-recovery-'));
    writeFileSync(join(dir, 'agentos.config.yaml'), CONFIG);
  });
  afterAll(async () => {
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = (db: string) =>
    startServer({
      cwd: dir,
      port: 0,
      dbUrl: `sqlite:${join(dir, db)}`,
      env: { OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'k' },
      logger: memoryLogger().logger,
    });

  it('replays a finished run from the events table after a restart', async () => {
    fake.script({ text: 'stored for later replay', chunkDelayMs: 5 });
    const first = await start('replay.db');
    const response = await fetch(`${first.url}/agents/echo/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'keep this', stream: true }),
    });
    const frames = await new SseReader(response).all();
    await first.close();

    const second = await start('replay.db');
    const runId = frames[0]?.data.run_id;
    const resumed = await fetch(`${second.url}/agents/echo/runs/${runId}/resume`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ last_event_index: 2 }),
    });
    const replayed = await new SseReader(resumed).all();
    expect(replayed.map((frame) => frame.data)).toEqual(frames.slice(3).map((frame) => frame.data));
    expect(replayed.map((frame) => frame.id)).toEqual(frames.slice(3).map((frame) => frame.id));
    await second.close();
  });

  it('shuts down within the timeout, ending in-flight runs as error with a RunError', async () => {
    fake.script({ text: 'never done', hang: true });
    const server = await startServer({
      cwd: dir,
      port: 0,
      dbUrl: `sqlite:${join(dir, 'shutdown.db')}`,
      env: { OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'k' },
      logger: memoryLogger().logger,
      config: { agents: [{ id: 'echo', model: 'openai:gpt-4o-mini' }], server: { shutdown_timeout_ms: 500 } },
    });
    const response = await fetch(`${server.url}/agents/echo/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'hold on', stream: true }),
    });
    const reader = new SseReader(response);
    const head = await reader.until((frame) => frame.event === 'RunContent');
    const runId = head[0]?.data.run_id;
    const started = Date.now();
    const closing = server.close();
    const rest = await reader.all();
    await closing;
    expect(Date.now() - started).toBeLessThan(2500);
    expect(rest.at(-1)?.event).toBe('RunError');
    const reopened = await start('shutdown.db');
    const run = await json(await fetch(`${reopened.url}/agents/echo/runs/${runId}`));
    expect(run).toMatchObject({ status: 'error', error: expect.stringMatching(/shut down/) });
    await reopened.close();
  });

  it('leaves nothing running after kill -9: the next start marks the run as error', async () => {
    fake.script({ text: 'interrupted', hang: true });
    const db = `sqlite:${join(dir, 'crash.db')}`;
    const child = await startServe(dir, ['--db', db], { OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'k' });
    const accepted = await json(
      await fetch(`${child.url}/agents/echo/runs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ message: 'crash me', background: true }),
      }),
    );
    for (let tries = 0; tries < 200; tries++) {
      const run = await json(await fetch(`${child.url}/agents/echo/runs/${accepted.run_id}`));
      if (run.status === 'running' && fake.modelRequests.length > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await child.kill();

    const next = await start('crash.db');
    const run = await json(await fetch(`${next.url}/agents/echo/runs/${accepted.run_id}`));
    expect(run.status).toBe('error');
    expect(run.error).toMatch(/interrupted/i);
    const resumed = await fetch(`${next.url}/agents/echo/runs/${accepted.run_id}/resume`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ last_event_index: -1 }),
    });
    const frames = await new SseReader(resumed).all();
    expect(frames.at(-1)?.event).toBe('RunError');
    expect(frames.map((frame) => frame.data.event_index)).toEqual(frames.map((_, index) => index));
    const unfinished = await next.services.store.runs.listUnfinished();
    expect(unfinished).toEqual([]);
    await next.close();
  });
});
