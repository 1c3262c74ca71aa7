/**
 * Contract of the approvals domain, registered by `runStoreContract` inside its store suite so it
 * runs on every adapter (SQLite always, Postgres with `AGENTOS_TEST_PG=1`).
 * @module
 */
import { describe, expect, it } from 'vitest';
import type { ApprovalCreate } from '../approvals-types.js';
import type { Store } from '../types.js';

let sequence = 0;

function approval(overrides: Partial<ApprovalCreate> = {}): ApprovalCreate {
  sequence += 1;
  return {
    id: `appr-${sequence}`,
    workspaceId: 'default',
    runId: 'run-a',
    sessionId: 'sess-a',
    sourceType: 'agent',
    approvalType: 'audit',
    pauseType: 'confirmation',
    toolCallId: `call-${sequence}`,
    toolName: 'send_email',
    toolArgs: { to: 'ops@example.com' },
    agentId: 'assistant',
    ...overrides,
  };
}

/** Registers the approvals contract; `store()` returns the suite's store (cleared before each test). */
export function runApprovalsContract(store: () => Store): void {
  describe('approvals', () => {
    async function seedRun(workspaceId = 'default', runId = 'run-a', sessionId = 'sess-a') {
      await store().sessions.create({ sessionId, workspaceId, sessionType: 'agent', componentId: 'assistant' });
      await store().runs.create({
        runId,
        sessionId,
        workspaceId,
        componentType: 'agent',
        componentId: 'assistant',
        status: 'paused',
      });
    }

    it('creates a pending row with JSON fields and the live run status', async () => {
      await seedRun();
      const created = await store().approvals.create(
        approval({ requirements: [{ id: 'r1' }], context: { tool_names: ['send_email'] }, expiresAt: 5_000 }),
      );
      expect(created).toMatchObject({
        status: 'pending',
        toolArgs: { to: 'ops@example.com' },
        requirements: [{ id: 'r1' }],
        context: { tool_names: ['send_email'] },
        expiresAt: 5_000,
        resolutionData: null,
        runStatus: 'paused',
      });
      await store().runs.update('default', 'run-a', { status: 'running' });
      expect((await store().approvals.get('default', created.id))?.runStatus).toBe('running');
    });

    it('keeps workspaces apart', async () => {
      await seedRun();
      const created = await store().approvals.create(approval());
      expect(await store().approvals.get('other', created.id)).toBeNull();
      expect((await store().approvals.list({ workspaceId: 'other' })).total).toBe(0);
      expect(await store().approvals.resolve('other', created.id, { status: 'approved', resolvedAt: 1 })).toBeNull();
      expect(await store().approvals.delete('other', created.id)).toBe(false);
    });

    it('lists newest first with filters, pagination and counts', async () => {
      await seedRun();
      const first = await store().approvals.create(approval({ userId: 'alice', approvalType: 'required' }));
      await new Promise((resolve) => setTimeout(resolve, 5));
      const second = await store().approvals.create(approval({ userId: 'bob', pauseType: 'external_execution' }));
      const all = await store().approvals.list({ workspaceId: 'default' });
      expect(all.items.map((item) => item.id)).toEqual([second.id, first.id]);
      expect(all.total).toBe(2);
      const paged = await store().approvals.list({ workspaceId: 'default', limit: 1, page: 2 });
      expect(paged.items.map((item) => item.id)).toEqual([first.id]);
      expect(paged.total).toBe(2);
      expect((await store().approvals.list({ workspaceId: 'default', userId: 'bob' })).items).toHaveLength(1);
      expect((await store().approvals.list({ workspaceId: 'default', approvalType: 'required' })).items[0]?.id).toBe(
        first.id,
      );
      expect(
        (await store().approvals.list({ workspaceId: 'default', pauseType: 'external_execution' })).items[0]?.id,
      ).toBe(second.id);
      expect(await store().approvals.count({ workspaceId: 'default', status: 'pending' })).toBe(2);
      expect(await store().approvals.count({ workspaceId: 'default', status: 'pending', userId: 'alice' })).toBe(1);
      expect((await store().approvals.listByRun('default', 'run-a')).map((item) => item.id)).toEqual([
        first.id,
        second.id,
      ]);
    });

    it('resolves by compare-and-set on pending: the second resolve finds nothing', async () => {
      await seedRun();
      const created = await store().approvals.create(approval());
      const resolved = await store().approvals.resolve('default', created.id, {
        status: 'approved',
        resolvedBy: 'admin-1',
        resolutionData: { values: { to: 'x@example.com' } },
        resolvedAt: 42,
      });
      expect(resolved).toMatchObject({
        status: 'approved',
        resolvedBy: 'admin-1',
        resolvedAt: 42,
        resolutionData: { values: { to: 'x@example.com' } },
      });
      expect(await store().approvals.resolve('default', created.id, { status: 'rejected', resolvedAt: 43 })).toBeNull();
      expect((await store().approvals.get('default', created.id))?.status).toBe('approved');
      const racing = await store().approvals.create(approval());
      const outcomes = await Promise.all([
        store().approvals.resolve('default', racing.id, { status: 'approved', resolvedAt: 1 }),
        store().approvals.resolve('default', racing.id, { status: 'rejected', resolvedAt: 1 }),
      ]);
      expect(outcomes.filter((outcome) => outcome !== null)).toHaveLength(1);
    });

    it('lists pending rows past their expiry across workspaces, and deletes', async () => {
      await seedRun();
      await seedRun('w2', 'run-b', 'sess-b');
      const due = await store().approvals.create(approval({ expiresAt: 1_000 }));
      const dueElsewhere = await store().approvals.create(
        approval({ workspaceId: 'w2', runId: 'run-b', sessionId: 'sess-b', expiresAt: 900 }),
      );
      await store().approvals.create(approval({ expiresAt: 10_000 }));
      await store().approvals.create(approval());
      const resolvedDue = await store().approvals.create(approval({ expiresAt: 500 }));
      await store().approvals.resolve('default', resolvedDue.id, { status: 'approved', resolvedAt: 1 });
      expect((await store().approvals.listExpired(1_000)).map((item) => item.id)).toEqual([dueElsewhere.id, due.id]);
      expect(await store().approvals.delete('default', due.id)).toBe(true);
      expect(await store().approvals.get('default', due.id)).toBeNull();
    });
  });
}
