/**
 * A workflow run whose replica dies mid-run is resumed by the other replica from its last checkpoint (issue 12):
 * finished steps are not run again, the event sequence carries on without a gap. Skipped unless AGENTOS_TEST_PG=1.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createPostgresStore, type PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { startServe } from '../cli.js';
import { type FakeOpenAI, startFakeOpenAI } from '../fake-openai.js';
import { createTestDatabase, PG_ENABLED, type TestDatabase } from '../pg-cluster.js';

const HEARTBEAT_MS = 500;

const CONFIG = [
  'agents:',
  '  - id: writer',
  '    model: openai:gpt-4o-mini',
  'workflows:',
  '  - id: two-steps',
  '    name: Two steps',
  '    steps:',
  '      - { name: draft, agent: writer }',
  '      - { name: polish, agent: writer }',
  'server:',
  `  run_heartbeat_ms: ${HEARTBEAT_MS}`,
  '  run_lease_ms: 3000',
  'rate_limits: false',
  '',
].join('\n');

type Replica = Awaited<ReturnType<typeof startServe>>;

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe.skipIf(!PG_ENABLED)('workflow takeover across replicas', () => {
  let fake: FakeOpenAI;
  let dir: string;
  let database: TestDatabase;
  let a: Replica;
  let b: Replica;
  let store: PostgresStore;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    dir = mkdtempSync(join(tmpdir(), 'agentos-replica-workflow-'));
    writeFileSync(join(dir, 'agentos.config.yaml'), CONFIG);
    database = await createTestDatabase(inject('pgAdminUrl'));
    const env = { OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'k' };
    a = await startServe(dir, ['--db', database.url], env);
    b = await startServe(dir, ['--db', database.url], env);
    store = createPostgresStore({ url: database.url });
  });
  afterAll(async () => {
    await a?.kill().catch(() => {});
    await b?.stop();
    await store?.close();
    await fake?.close();
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('kill -9 of A during step 2: B resumes the run from step 2 and completes it', { timeout: 60_000 }, async () => {
    fake.script({ text: 'first draft' }, { text: 'never arrives', hang: true });
    const response = await fetch(`${a.url}/workflows/two-steps/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'otters', background: true }),
    });
    expect(response.status).toBeLessThan(300);
    const { run_id: runId } = (await response.json()) as { run_id: string };
    await waitFor(async () => (fake.modelRequests.length === 2 ? true : undefined), 15_000);
    await a.kill();

    const run = await waitFor(async () => {
      const current = await store.runs.get('default', runId);
      return current?.status === 'completed' || current?.status === 'error' ? current : undefined;
    }, 20_000);
    expect(run.status).toBe('completed');
    // Step 1 ran once (its checkpoint was kept); step 2 ran again on B.
    expect(fake.modelRequests).toHaveLength(3);
    expect(run.owner).not.toBe(null);
    const events = await store.runEvents.list(runId);
    expect(events.map((event) => event.eventIndex)).toEqual(events.map((_, index) => index));
    expect(events.at(-1)?.event).toBe('WorkflowCompleted');
  });
});
