import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isAgentOsError } from '../errors/index.js';
import { PriceTable } from '../observability/pricing.js';
import { createSqliteStore } from '../store/sqlite/sqlite-store.js';
import type { Store } from '../store/types.js';
import { QuotaService } from './quota-service.js';
import { secondsUntilNextUtcDay, utcDay } from './utc-day.js';

// Ten seconds before midnight UTC.
const LATE = Date.UTC(2026, 0, 2, 23, 59, 50);

describe('QuotaService over a real SQLite store', () => {
  let store: Store;
  let now = LATE;
  let quotas: QuotaService;

  beforeAll(async () => {
    store = createSqliteStore({ url: 'sqlite::memory:' });
    await store.migrate();
    quotas = new QuotaService({
      config: {
        per_key: { daily_tokens: 1000 },
        per_agent: { daily_cost_usd: 1 },
        keys: { big: { daily_tokens: 5000 }, free: false },
        agents: { cheap: { daily_cost_usd: 0.01, daily_tokens: 100 } },
      },
      usage: store.usage,
      prices: new PriceTable({ 'openai:custom': { input_per_million: 1_000_000, output_per_million: 0 } }),
      now: () => now,
    });
  });
  beforeEach(async () => {
    now = LATE;
    await store.usage.dangerouslyClearAll();
  });
  afterAll(async () => {
    await store?.close();
  });

  const refusal = (promise: Promise<unknown>) =>
    promise.then(
      () => undefined,
      (error: unknown) => (isAgentOsError(error) ? error : Promise.reject(error)),
    );

  it('merges overrides over the defaults field by field, and false exempts', () => {
    expect(quotas.keyBudget('api_key:someone')).toEqual({ daily_tokens: 1000 });
    expect(quotas.keyBudget('config_key:big')).toEqual({ daily_tokens: 5000 });
    expect(quotas.keyBudget('config_key:free')).toBeNull();
    // Overrides name keys: a JWT subject or service account of the same name gets the default.
    expect(quotas.keyBudget('jwt:big')).toEqual({ daily_tokens: 1000 });
    expect(quotas.keyBudget('service_account:free')).toEqual({ daily_tokens: 1000 });
    expect(quotas.agentBudget('cheap')).toEqual({ daily_cost_usd: 0.01, daily_tokens: 100 });
    expect(quotas.agentBudget('other')).toEqual({ daily_cost_usd: 1 });
  });

  it('prices a run from the shared table and refuses until the UTC day rolls over', async () => {
    const added = await quotas.record({
      workspaceId: 'w1',
      principal: 'api_key:someone',
      agentId: 'a1',
      modelId: 'openai:custom',
      inputTokens: 1000,
      outputTokens: 7,
    });
    expect(added).toMatchObject({ day: '2026-01-02', costUsd: 1000 });
    const error = await refusal(quotas.checkKey('api_key:someone'));
    expect(error?.code).toBe('AOS_QUOTA_EXCEEDED');
    expect(error?.details).toMatchObject({ retryAfter: 10, quota: 'key', budget: 'daily_tokens', used: 1007 });
    expect(await refusal(quotas.checkAgent('w1', 'a1'))).toMatchObject({ details: { budget: 'daily_cost_usd' } });
    // Another workspace's agent of the same id has its own budget.
    await expect(quotas.checkAgent('w2', 'a1')).resolves.toBeUndefined();
    // A new UTC day starts a new budget.
    now = LATE + 10_000;
    expect(utcDay(now)).toBe('2026-01-03');
    await expect(quotas.checkKey('api_key:someone')).resolves.toBeUndefined();
    await expect(quotas.checkAgent('w1', 'a1')).resolves.toBeUndefined();
  });

  it("sums a caller's usage across workspaces and leaves exempt callers alone", async () => {
    const run = { agentId: 'a1', modelId: 'local:default', inputTokens: 300, outputTokens: 200 };
    await quotas.record({ ...run, workspaceId: 'w1', principal: 'api_key:someone' });
    await expect(quotas.checkKey('api_key:someone')).resolves.toBeUndefined();
    await quotas.record({ ...run, workspaceId: 'w2', principal: 'api_key:someone' });
    expect((await refusal(quotas.checkKey('api_key:someone')))?.code).toBe('AOS_QUOTA_EXCEEDED');
    await quotas.record({ ...run, workspaceId: 'w1', principal: 'config_key:free', inputTokens: 1e9 });
    await expect(quotas.checkKey('config_key:free')).resolves.toBeUndefined();
  });

  it('counts seconds to the next UTC midnight', () => {
    expect(secondsUntilNextUtcDay(Date.UTC(2026, 0, 2, 0, 0, 0))).toBe(86_400);
    expect(secondsUntilNextUtcDay(Date.UTC(2026, 0, 2, 23, 59, 59, 500))).toBe(1);
    expect(utcDay(Date.UTC(2026, 11, 31, 23, 59, 59))).toBe('2026-12-31');
  });
});
