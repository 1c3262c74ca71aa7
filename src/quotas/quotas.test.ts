import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeOpenAI, startFakeOpenAI } from '../../test/fake-openai.js';
import { buildTestApp, type TestApp } from '../../test/helpers.js';
import { hashApiKey } from '../auth/index.js';
import { DEFAULT_PRICES } from '../observability/pricing.js';
import { secondsUntilNextUtcDay, utcDay } from './utc-day.js';

const ADMIN = 'quota-admin-key-0123456789';
const SMALL = 'quota-small-key-0123456789';
const OTHER = 'quota-other-key-0123456789';
const READER = 'quota-reader-key-0123456789';
const auth = (key: string, workspace?: string) => ({
  authorization: `Bearer ${key}`,
  ...(workspace ? { 'x-workspace-id': workspace } : {}),
});

describe('quotas and /api/costs over the real app', () => {
  let fake: FakeOpenAI;
  let test: TestApp;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    test = await buildTestApp(
      {
        agents: [
          { id: 'gpt', model: 'openai:gpt-4o' },
          { id: 'capped', model: 'openai:gpt-4o' },
        ],
        workflows: [
          { id: 'flow', steps: [{ name: 'write', agent: 'gpt' }] },
          { id: 'capped-flow', steps: [{ name: 'write', agent: 'capped' }] },
        ],
        auth: {
          api_keys: [
            { name: 'admin', key: ADMIN, scopes: ['admin'] },
            { name: 'small', key: SMALL, scopes: ['agents:run', 'workflows:run', 'metrics:read'] },
            { name: 'other', key: OTHER, scopes: ['agents:run', 'metrics:read'] },
          ],
        },
        quotas: {
          keys: { small: { daily_tokens: 100 } },
          agents: { capped: { daily_cost_usd: 0.001 } },
        },
      },
      { OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'test-key' },
    );
  });
  afterAll(async () => {
    await test?.close();
    await fake?.close();
  });
  beforeEach(async () => {
    fake.reset();
    await test.services.store.usage.dangerouslyClearAll();
  });

  const run = (key: string, agent = 'gpt', workspace?: string) =>
    test.app.inject({
      method: 'POST',
      url: `/agents/${agent}/runs`,
      headers: { ...auth(key, workspace), 'content-type': 'application/json' },
      payload: { message: 'hello' },
    });

  it('refuses a key with a 100-token daily budget once its runs used it, until the UTC day rolls over', async () => {
    fake.script(
      { text: 'one', usage: { prompt_tokens: 60, completion_tokens: 20 } },
      { text: 'two', usage: { prompt_tokens: 25, completion_tokens: 5 } },
      { text: 'three', usage: { prompt_tokens: 1, completion_tokens: 1 } },
    );
    expect((await run(SMALL)).statusCode).toBe(200);
    // 80 of 100 used: the next run still starts, and takes the key past its budget.
    expect((await run(SMALL)).statusCode).toBe(200);
    const refused = await run(SMALL);
    const now = Date.now();
    expect(refused.statusCode).toBe(429);
    const body = refused.json();
    expect(body).toMatchObject({ code: 'AOS_QUOTA_EXCEEDED' });
    expect(body.detail).toMatch(/Daily token budget of caller small is used up \(110 of 100 tokens/);
    const retryAfter = Number(refused.headers['retry-after']);
    expect(Math.abs(retryAfter - secondsUntilNextUtcDay(now))).toBeLessThanOrEqual(2);
    expect(body.retryAfter).toBe(retryAfter);
    // No run was created for the refused request; the model was asked twice.
    expect(fake.modelRequests).toHaveLength(2);
    // The refusal is in the audit log.
    await expect
      .poll(async () => (await test.services.store.audit.list({ kind: 'quota.exceeded' })).items.length)
      .toBeGreaterThan(0);
    // Another caller has no budget and is not affected.
    fake.script({ text: 'fine', usage: { prompt_tokens: 1, completion_tokens: 1 } });
    expect((await run(OTHER)).statusCode).toBe(200);
  });

  it('answers a refused run on /v1 in the OpenAI shape', async () => {
    await test.services.store.usage.add({
      day: utcDay(Date.now()),
      workspaceId: 'default',
      principal: 'config_key:small',
      agentId: 'gpt',
      modelId: 'openai:gpt-4o',
      inputTokens: 100,
      outputTokens: 0,
      costUsd: 0,
    });
    const response = await test.app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: { ...auth(SMALL), 'content-type': 'application/json' },
      payload: { model: 'gpt', messages: [{ role: 'user', content: 'hi' }] },
    });
    expect(response.statusCode).toBe(429);
    expect(response.json().error).toMatchObject({ type: 'insufficient_quota', code: 'AOS_QUOTA_EXCEEDED' });
    expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('counts runs started on /v1 against the caller too', async () => {
    fake.script({ text: 'via v1', usage: { prompt_tokens: 90, completion_tokens: 10 } });
    const completion = await test.app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: { ...auth(SMALL), 'content-type': 'application/json' },
      payload: { model: 'gpt', messages: [{ role: 'user', content: 'hi' }] },
    });
    expect(completion.statusCode).toBe(200);
    expect((await run(SMALL)).statusCode).toBe(429);
  });

  it('refuses an agent whose daily cost budget is used up, in the /api shape, for every caller', async () => {
    // 200 input + 50 output tokens of gpt-4o: 200 × 2.5 / 1e6 + 50 × 10 / 1e6 = $0.001.
    fake.script({ text: 'pricey', usage: { prompt_tokens: 200, completion_tokens: 50 } });
    expect((await run(ADMIN, 'capped')).statusCode).toBe(200);
    const refused = await run(OTHER, 'capped');
    expect(refused.statusCode).toBe(429);
    expect(refused.json().detail).toMatch(/Daily cost budget of agent capped is used up/);
    // The budget is per workspace: the same agent elsewhere still runs.
    fake.script({ text: 'elsewhere', usage: { prompt_tokens: 1, completion_tokens: 1 } });
    expect((await run(ADMIN, 'capped', 'w2')).statusCode).toBe(200);
  });

  it('records the usage of workflow steps and refuses a step whose agent budget is used up', async () => {
    fake.script({ text: 'step', usage: { prompt_tokens: 30, completion_tokens: 10 } });
    const flow = await test.app.inject({
      method: 'POST',
      url: '/workflows/flow/runs',
      headers: { ...auth(ADMIN), 'content-type': 'application/json' },
      payload: { message: 'go' },
    });
    expect(flow.statusCode).toBe(200);
    const costs = (await test.app.inject({ method: 'GET', url: '/api/costs', headers: auth(ADMIN) })).json();
    expect(costs.records).toEqual([expect.objectContaining({ agentId: 'gpt', totalTokens: 40, runs: 1 })]);

    await test.services.store.usage.add({
      day: utcDay(Date.now()),
      workspaceId: 'default',
      principal: '',
      agentId: 'capped',
      modelId: 'openai:gpt-4o',
      inputTokens: 1,
      outputTokens: 0,
      costUsd: 0.002,
    });
    const capped = await test.app.inject({
      method: 'POST',
      url: '/workflows/capped-flow/runs',
      headers: { ...auth(ADMIN), 'content-type': 'application/json' },
      payload: { message: 'go' },
    });
    expect(JSON.stringify(capped.json())).toMatch(/Daily cost budget of agent capped is used up/);
    expect(fake.modelRequests).toHaveLength(1);
  });

  it("counts a workflow's steps against the caller that started it", async () => {
    fake.script({ text: 'step', usage: { prompt_tokens: 60, completion_tokens: 50 } });
    const flow = await test.app.inject({
      method: 'POST',
      url: '/workflows/flow/runs',
      headers: { ...auth(SMALL), 'content-type': 'application/json' },
      payload: { message: 'go' },
    });
    expect(flow.statusCode).toBe(200);
    expect((await test.services.store.usage.totals({ principal: 'config_key:small' })).totalTokens).toBe(110);
    expect((await run(SMALL)).statusCode).toBe(429);
    const again = await test.app.inject({
      method: 'POST',
      url: '/workflows/flow/runs',
      headers: { ...auth(SMALL), 'content-type': 'application/json' },
      payload: { message: 'go' },
    });
    expect(again.statusCode).toBe(429);
  });

  it('reports cost = tokens × price per day, agent and model', async () => {
    fake.script(
      { text: 'a', usage: { prompt_tokens: 1000, completion_tokens: 200 } },
      { text: 'b', usage: { prompt_tokens: 3000, completion_tokens: 800 } },
    );
    expect((await run(ADMIN)).statusCode).toBe(200);
    expect((await run(ADMIN)).statusCode).toBe(200);
    const response = await test.app.inject({ method: 'GET', url: '/api/costs', headers: auth(ADMIN) });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    const price = DEFAULT_PRICES['openai:gpt-4o'];
    const expected = (4000 * (price?.input_per_million ?? 0) + 1000 * (price?.output_per_million ?? 0)) / 1e6;
    const today = utcDay(Date.now());
    expect(body).toMatchObject({ date: today, from: today, to: today, totalTokens: 5000, runs: 2, truncated: false });
    expect(body.totalCost).toBeCloseTo(expected, 12);
    expect(body.records).toHaveLength(1);
    expect(body.records[0]).toMatchObject({
      date: today,
      agentId: 'gpt',
      model: 'openai:gpt-4o',
      inputTokens: 4000,
      outputTokens: 1000,
    });
    expect(body.records[0].totalCost).toBeCloseTo(expected, 12);
    expect(body.days).toEqual([expect.objectContaining({ date: today, totalTokens: 5000 })]);
  });

  it("never shows another workspace's usage, and shows non-admins only their own runs", async () => {
    const reader = { id: 'reader-key', keyHash: hashApiKey(READER), keyPrefix: READER.slice(0, 8) };
    await test.services.store.apiKeys.create({
      ...reader,
      name: 'reader',
      scopes: ['metrics:read'],
      workspaceId: 'w1',
    });
    fake.script(
      { text: 'w1', usage: { prompt_tokens: 10, completion_tokens: 1 } },
      { text: 'w2', usage: { prompt_tokens: 20, completion_tokens: 2 } },
      { text: 'w2 small', usage: { prompt_tokens: 5, completion_tokens: 5 } },
    );
    expect((await run(ADMIN, 'gpt', 'w1')).statusCode).toBe(200);
    expect((await run(ADMIN, 'gpt', 'w2')).statusCode).toBe(200);
    expect((await run(SMALL)).statusCode).toBe(200);

    const w1 = (await test.app.inject({ method: 'GET', url: '/api/costs', headers: auth(ADMIN, 'w1') })).json();
    expect(w1).toMatchObject({ totalTokens: 11, runs: 1 });
    const w2 = (await test.app.inject({ method: 'GET', url: '/api/costs', headers: auth(ADMIN, 'w2') })).json();
    expect(w2).toMatchObject({ totalTokens: 22, runs: 1 });

    // A non-admin key of w1 reads w1 only, and only what it started itself (nothing).
    const mine = await test.app.inject({ method: 'GET', url: '/api/costs', headers: auth(READER) });
    expect(mine.statusCode).toBe(200);
    expect(mine.json()).toMatchObject({ totalTokens: 0, records: [], quota: null });
    const elsewhere = await test.app.inject({ method: 'GET', url: '/api/costs', headers: auth(READER, 'w2') });
    expect(elsewhere.statusCode).toBe(403);

    // The small key sees its own run and its budget, not the admin's runs in the default workspace.
    fake.script({ text: 'admin default', usage: { prompt_tokens: 7, completion_tokens: 0 } });
    expect((await run(ADMIN)).statusCode).toBe(200);
    const small = (await test.app.inject({ method: 'GET', url: '/api/costs', headers: auth(SMALL) })).json();
    expect(small).toMatchObject({ totalTokens: 10, runs: 1 });
    expect(small.quota).toMatchObject({ principal: 'small', dailyTokens: 100, dailyCostUsd: null, usedTokens: 10 });
  });

  it('answers bad ranges with 400 and needs metrics:read', async () => {
    const reversed = await test.app.inject({
      method: 'GET',
      url: '/api/costs?from=2026-02-02&to=2026-02-01',
      headers: auth(ADMIN),
    });
    expect(reversed.statusCode).toBe(400);
    const invalid = await test.app.inject({ method: 'GET', url: '/api/costs?from=2026-02-31', headers: auth(ADMIN) });
    expect(invalid.statusCode).toBe(400);
    const tooLong = await test.app.inject({
      method: 'GET',
      url: '/api/costs?from=2020-01-01&to=2026-01-01',
      headers: auth(ADMIN),
    });
    expect(tooLong.statusCode).toBe(400);
    expect((await test.app.inject({ method: 'GET', url: '/api/costs' })).statusCode).toBe(401);
  });

  it('counts refusals in the Prometheus metrics', async () => {
    await test.services.store.usage.add({
      day: utcDay(Date.now()),
      workspaceId: 'default',
      principal: 'config_key:small',
      agentId: 'gpt',
      modelId: 'openai:gpt-4o',
      inputTokens: 500,
      outputTokens: 0,
      costUsd: 0,
    });
    expect((await run(SMALL)).statusCode).toBe(429);
    const metrics = await test.app.inject({ method: 'GET', url: '/api/metrics', headers: auth(ADMIN) });
    expect(metrics.body).toMatch(/agentos_quota_exceeded_total\{quota="key",budget="tokens"\} [1-9]/);
    expect(metrics.body).toMatch(
      /agentos_quota_used_ratio\{quota="key",subject="config_key:small",budget="tokens"\} 5/,
    );
  });
});
