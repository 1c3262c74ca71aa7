/**
 * A workflow run whose replica dies mid-run is resumed by the other replica from its last checkpoint (issue 12):
 * finished steps are not run again, the event sequence carries on without a gap. Skipped unless AGENTOS_TEST_PG=1.
 */
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers.js';
import { PG_ENABLED } from '../pg-cluster.js';
import { useReplicaPair } from './replica-pair.js';

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

describe.skipIf(!PG_ENABLED)('workflow takeover across replicas', () => {
  const pair = useReplicaPair({ config: CONFIG, dirPrefix: 'agentos-replica-workflow-' });

  it('kill -9 of A during step 2: B resumes the run from step 2 and completes it', { timeout: 60_000 }, async () => {
    pair.fake.script({ text: 'first draft' }, { text: 'never arrives', hang: true });
    const response = await fetch(`${pair.a.url}/workflows/two-steps/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'otters', background: true }),
    });
    expect(response.status).toBeLessThan(300);
    const { run_id: runId } = (await response.json()) as { run_id: string };
    await waitFor(async () => (pair.fake.modelRequests.length === 2 ? true : undefined), 15_000, 25);
    await pair.a.kill();

    const run = await waitFor(
      async () => {
        const current = await pair.store.runs.get('default', runId);
        return current?.status === 'completed' || current?.status === 'error' ? current : undefined;
      },
      20_000,
      25,
    );
    expect(run.status).toBe('completed');
    // Step 1 ran once (its checkpoint was kept); step 2 ran again on B.
    expect(pair.fake.modelRequests).toHaveLength(3);
    expect(run.owner).not.toBe(null);
    const events = await pair.store.runEvents.list(runId);
    expect(events.map((event) => event.eventIndex)).toEqual(events.map((_, index) => index));
    expect(events.at(-1)?.event).toBe('WorkflowCompleted');
  });
});
