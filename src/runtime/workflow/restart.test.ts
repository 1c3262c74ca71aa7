import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServe } from '../../../test/cli.js';
import { type FakeOpenAI, type RecordedRequest, startFakeOpenAI } from '../../../test/fake-openai.js';

function lastUser(request: RecordedRequest): string {
  const users = (request.body.messages ?? []).filter((message) => message.role === 'user');
  return String(users.at(-1)?.content ?? '');
}

async function until<T>(probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('workflow durability across a kill -9', () => {
  let fake: FakeOpenAI;
  let dir: string;
  let hangStep3 = true;

  beforeAll(async () => {
    // Step 3's first model call never answers, so the process can be killed while it runs.
    fake = await startFakeOpenAI({
      defaultReply: (request) => {
        const text = lastUser(request);
        if (text.startsWith('S3') && hangStep3) return { text: 'stuck', hang: true };
        return { text: `done(${text.slice(0, 2)})` };
      },
    });
    dir = mkdtempSync(join(tmpdir(), 'agentos-wf-restart-'));
    writeFileSync(
      join(dir, 'agentos.config.json'),
      JSON.stringify({
        database: { url: 'sqlite:./state.db' },
        rate_limits: false,
        agents: [{ id: 'worker', name: 'Worker', model: 'openai:gpt-4o-mini' }],
        workflows: [
          {
            id: 'four',
            steps: [
              { name: 's1', agent: 'worker', input: 'S1 {{message}}' },
              { name: 's2', agent: 'worker', input: 'S2 {{input}}' },
              { name: 's3', agent: 'worker', input: 'S3 {{input}}' },
              { name: 's4', agent: 'worker', input: 'S4 {{input}}' },
            ],
          },
        ],
      }),
    );
  });
  afterAll(async () => {
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('resumes at step 3 after a restart without running steps 1 and 2 again', async () => {
    const env = { OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'test-key' };
    const first = await startServe(dir, ['--config', 'agentos.config.json'], env);
    let runId: string;
    try {
      const accepted = await fetch(`${first.url}/workflows/four/runs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ message: 'go', background: true }),
      });
      expect(accepted.status).toBe(202);
      runId = ((await accepted.json()) as { run_id: string }).run_id;
      // Step 3 has asked the model: steps 1 and 2 are checkpointed.
      await until(() => (fake.modelRequests.some((request) => lastUser(request).startsWith('S3')) ? true : undefined));
    } finally {
      await first.kill();
    }
    expect(fake.modelRequests.map((request) => lastUser(request).slice(0, 2))).toEqual(['S1', 'S2', 'S3']);

    hangStep3 = false;
    const second = await startServe(dir, ['--config', 'agentos.config.json'], env);
    try {
      const run = await until(async () => {
        const response = await fetch(`${second.url}/workflows/four/runs/${runId}`);
        const body = (await response.json()) as { status: string; content?: string; step_results?: unknown[] };
        return body.status === 'completed' ? body : undefined;
      });
      expect(run.content).toBe('done(S4)');
      // Steps 1 and 2 were not re-run: one model call each; step 3 was asked again, step 4 once.
      expect(fake.modelRequests.map((request) => lastUser(request).slice(0, 2))).toEqual([
        'S1',
        'S2',
        'S3',
        'S3',
        'S4',
      ]);
      expect(
        (run.step_results as { step_name: string; status: string }[]).map((step) => [step.step_name, step.status]),
      ).toEqual([
        ['s1', 'completed'],
        ['s2', 'completed'],
        ['s3', 'completed'],
        ['s4', 'completed'],
      ]);
      // One event sequence across both processes, with the resumption in it.
      const replay = await fetch(`${second.url}/workflows/four/runs/${runId}/resume`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ last_event_index: -1 }),
      });
      const text = await replay.text();
      const events = text
        .split('\n')
        .filter((line) => line.startsWith('data: '))
        .map((line) => JSON.parse(line.slice(6)) as { event: string; event_index: number; completed_steps?: string[] });
      expect(events.map((event) => event.event_index)).toEqual(events.map((_, index) => index));
      const resumed = events.find((event) => event.event === 'WorkflowResumed');
      expect(resumed?.completed_steps).toEqual(['s1', 's2']);
      expect(events.at(-1)?.event).toBe('WorkflowCompleted');
    } finally {
      await second.stop();
    }
  }, 60_000);
});
