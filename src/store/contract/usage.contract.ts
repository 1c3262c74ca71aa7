/**
 * Contract of the usage domain (daily token and cost sums), registered by `runStoreContract` so it
 * runs on every adapter.
 * @module
 */
import { describe, expect, it } from 'vitest';
import type { Store, UsageIncrement } from '../types.js';

const base: UsageIncrement = {
  day: '2026-01-02',
  workspaceId: 'w1',
  principal: 'key-a',
  agentId: 'assistant',
  modelId: 'openai:gpt-4o',
  inputTokens: 100,
  outputTokens: 50,
  costUsd: 0.00075,
};

/** Registers the usage contract; `store()` returns the suite's store (cleared before each test). */
export function runUsageContract(store: () => Store): void {
  describe('usage', () => {
    it('adds increments of the same day, workspace, principal, agent and model into one row', async () => {
      await store().usage.add(base);
      await store().usage.add({ ...base, inputTokens: 10, outputTokens: 5, costUsd: 0.000075 });
      const rows = await store().usage.list({ workspaceId: 'w1' });
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        day: '2026-01-02',
        principal: 'key-a',
        agentId: 'assistant',
        modelId: 'openai:gpt-4o',
        inputTokens: 110,
        outputTokens: 55,
        totalTokens: 165,
        runs: 2,
      });
      expect(rows[0]?.costUsd).toBeCloseTo(0.000825, 12);
    });

    it('loses no increment when many land at once', async () => {
      await Promise.all(
        Array.from({ length: 40 }, () => store().usage.add({ ...base, inputTokens: 1, outputTokens: 1 })),
      );
      const totals = await store().usage.totals({ principal: 'key-a' });
      expect(totals).toMatchObject({ inputTokens: 40, outputTokens: 40, totalTokens: 80, runs: 40 });
    });

    it('sums over the rows a filter selects and answers zeros for none', async () => {
      await store().usage.add(base);
      await store().usage.add({ ...base, workspaceId: 'w2' });
      await store().usage.add({ ...base, agentId: 'other', modelId: 'local:default', costUsd: 0 });
      await store().usage.add({ ...base, day: '2026-01-03', principal: 'key-b' });
      const day = { fromDay: '2026-01-02', toDay: '2026-01-02' };
      expect(await store().usage.totals({ ...day, principal: 'key-a' })).toMatchObject({ totalTokens: 450, runs: 3 });
      expect(await store().usage.totals({ ...day, workspaceId: 'w1', agentId: 'assistant' })).toMatchObject({
        totalTokens: 150,
        runs: 1,
      });
      expect((await store().usage.totals({ workspaceId: 'w1' })).costUsd).toBeCloseTo(0.0015, 12);
      expect(await store().usage.totals({ workspaceId: 'nobody' })).toEqual({
        inputTokens: 0,
        outputTokens: 0,
        totalTokens: 0,
        costUsd: 0,
        runs: 0,
      });
    });

    it('lists by day, agent and model, scoped to a workspace', async () => {
      await store().usage.add({ ...base, day: '2026-01-03' });
      await store().usage.add({ ...base, agentId: 'zeta' });
      await store().usage.add(base);
      await store().usage.add({ ...base, workspaceId: 'w2', agentId: 'secret' });
      const rows = await store().usage.list({ workspaceId: 'w1' });
      expect(rows.map((row) => [row.day, row.agentId])).toEqual([
        ['2026-01-02', 'assistant'],
        ['2026-01-02', 'zeta'],
        ['2026-01-03', 'assistant'],
      ]);
      expect(await store().usage.list({ workspaceId: 'w1', fromDay: '2026-01-03' })).toHaveLength(1);
      expect(await store().usage.list({ workspaceId: 'w1', limit: 2 })).toHaveLength(2);
    });
  });
}
