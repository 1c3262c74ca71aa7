/**
 * Contract of the workflow domain (step checkpoints, API-created definitions), registered by
 * `runStoreContract` so it runs on every adapter.
 * @module
 */
import { describe, expect, it } from 'vitest';
import { isAgentOsError } from '../../errors/index.js';
import type { Store } from '../types.js';

async function workflowRun(store: Store, runId: string): Promise<void> {
  await store.sessions.create({ sessionId: `s-${runId}`, sessionType: 'workflow', componentId: 'wf' });
  await store.runs.create({ runId, sessionId: `s-${runId}`, componentType: 'workflow', componentId: 'wf' });
}

/** Registers the workflow contract; `store()` returns the suite's store (cleared before each test). */
export function runWorkflowContract(store: () => Store): void {
  describe('workflows', () => {
    it('records step transitions in order and keeps outputs of any JSON type', async () => {
      await workflowRun(store(), 'wr-1');
      await store().workflows.saveStep('wr-1', { stepKey: 'a', stepName: 'a', status: 'running', attempts: 1 });
      await store().workflows.saveStep('wr-1', { stepKey: 'b', stepName: 'b', status: 'running' });
      const done = await store().workflows.saveStep('wr-1', {
        stepKey: 'a',
        stepName: 'a',
        status: 'completed',
        output: 'plain text',
        state: { count: 2 },
        attempts: 2,
        durationMs: 12.4,
      });
      expect(done).toMatchObject({ status: 'completed', output: 'plain text', state: { count: 2 }, seq: 1 });
      await store().workflows.saveStep('wr-1', {
        stepKey: 'b',
        stepName: 'b',
        status: 'failed',
        output: { nested: [1, 2] },
        error: 'timed out',
      });
      const steps = await store().workflows.listSteps('wr-1');
      expect(steps.map((step) => [step.stepKey, step.status, step.seq])).toEqual([
        ['a', 'completed', 1],
        ['b', 'failed', 2],
      ]);
      expect(steps[0]).toMatchObject({ attempts: 2, durationMs: 12 });
      expect(steps[1]).toMatchObject({ output: { nested: [1, 2] }, error: 'timed out' });
      expect(await store().workflows.listSteps('other')).toEqual([]);
    });

    it('lets exactly one caller claim a marker, also when they race', async () => {
      await workflowRun(store(), 'wr-3');
      const claims = await Promise.all(
        Array.from({ length: 5 }, () => store().workflows.claimStep('wr-3', '__takeover/a/1')),
      );
      expect(claims.filter(Boolean)).toHaveLength(1);
      expect(await store().workflows.claimStep('wr-3', '__takeover/a/2')).toBe(true);
    });

    it('drops the checkpoints of a run whose session is deleted', async () => {
      await workflowRun(store(), 'wr-2');
      await store().workflows.saveStep('wr-2', { stepKey: 'a', stepName: 'a', status: 'completed' });
      await store().sessions.delete('default', 's-wr-2');
      expect(await store().workflows.listSteps('wr-2')).toEqual([]);
    });

    it('stores definitions per workspace and refuses a duplicate id', async () => {
      const created = await store().workflows.createDefinition({
        workspaceId: 'w1',
        workflowId: 'pipeline',
        name: 'Pipeline',
        definition: { steps: [{ name: 'one' }] },
      });
      expect(created).toMatchObject({ workflowId: 'pipeline', description: null });
      await store().workflows.createDefinition({ workspaceId: 'w2', workflowId: 'pipeline', name: 'Other' });
      const duplicate = await store()
        .workflows.createDefinition({ workspaceId: 'w1', workflowId: 'pipeline', name: 'Again' })
        .catch((error: unknown) => error);
      expect(isAgentOsError(duplicate) && duplicate.code).toBe('AOS_CONFLICT');
      expect((await store().workflows.getDefinition('w1', 'pipeline'))?.definition).toEqual({
        steps: [{ name: 'one' }],
      });
      expect(await store().workflows.getDefinition('w3', 'pipeline')).toBeNull();
      const page = await store().workflows.listDefinitions('w1');
      expect(page.total).toBe(1);
      expect(page.items[0]?.name).toBe('Pipeline');
      expect(await store().workflows.deleteDefinition('w1', 'pipeline')).toBe(true);
      expect(await store().workflows.deleteDefinition('w1', 'pipeline')).toBe(false);
    });
  });
}
