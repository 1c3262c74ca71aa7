/**
 * Runs are charged to whoever started them, also when they go on later (security review, finding 5):
 * a continued agent or workflow run adds its tokens to the starter's usage and is refused while the
 * starter's budget is used up; an eval's runs count against its caller and `POST /eval-runs` is
 * checked at the door like any run.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeOpenAI, startFakeOpenAI } from '../../test/fake-openai.js';
import { buildTestApp, type TestApp } from '../../test/helpers.js';
import { utcDay } from './utc-day.js';

const ADMIN = 'charged-admin-key-0123456789';
const SMALL = 'charged-small-key-0123456789';
const MODEL = 'openai:gpt-4o';

describe('runs are charged to their starter', () => {
  let fake: FakeOpenAI;
  let test: TestApp;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    test = await buildTestApp(
      {
        agents: [
          { id: 'calc', model: MODEL, tools: [{ name: 'calculator', requires_confirmation: true }] },
          { id: 'gpt', model: MODEL },
        ],
        workflows: [{ id: 'gated', steps: [{ name: 'write', agent: 'gpt', requires_confirmation: true }] }],
        auth: {
          api_keys: [
            { name: 'admin', key: ADMIN, scopes: ['admin'] },
            { name: 'small', key: SMALL, scopes: ['agents:run', 'workflows:run', 'evals:write', 'evals:read'] },
          ],
        },
        quotas: { keys: { small: { daily_tokens: 1000 } } },
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

  const post = (key: string, url: string, payload: Record<string, unknown>) =>
    test.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${key}` }, payload });
  const day = () => utcDay(Date.now());
  const usedBy = async (principal?: string) =>
    (await test.services.store.usage.totals({ fromDay: day(), toDay: day(), ...(principal ? { principal } : {}) }))
      .totalTokens;
  const useUp = () =>
    test.services.store.usage.add({
      day: day(),
      workspaceId: 'default',
      principal: 'config_key:small',
      agentId: 'gpt',
      modelId: MODEL,
      inputTokens: 1000,
      outputTokens: 0,
      costUsd: 0,
    });

  it('a continued agent run adds its tokens to the starter, and is refused once the starter’s budget is used', async () => {
    fake.script(
      {
        toolCalls: [{ id: 'call_calc', name: 'calculator', arguments: { expression: '6*7' } }],
        usage: { prompt_tokens: 10, completion_tokens: 5 },
      },
      { text: '42', usage: { prompt_tokens: 20, completion_tokens: 7 } },
    );
    const started = await post(SMALL, '/agents/calc/runs', { message: '6*7?', stream: false });
    expect(started.json()).toMatchObject({ status: 'paused' });
    const url = `/agents/calc/runs/${started.json().run_id}/continue`;
    const tools = [{ tool_call_id: 'call_calc', confirmed: true }];
    // Continued by someone else: still the starter's run and the starter's tokens.
    const continued = await post(ADMIN, url, { tools, stream: false });
    expect(continued.json()).toMatchObject({ status: 'completed' });
    // Who started the run is server bookkeeping: the run's input shows the request only.
    expect(continued.json().input).toEqual({ message: '6*7?' });
    const fetched = await test.app.inject({
      url: `/agents/calc/runs/${started.json().run_id}`,
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    expect(fetched.json().input).toEqual({ message: '6*7?' });
    expect(await usedBy('config_key:small')).toBe(42);
    expect(await usedBy()).toBe(42);

    fake.script({
      toolCalls: [{ id: 'call_calc2', name: 'calculator', arguments: { expression: '1+1' } }],
      usage: { prompt_tokens: 1, completion_tokens: 1 },
    });
    const again = await post(SMALL, '/agents/calc/runs', { message: '1+1?', stream: false });
    expect(again.json()).toMatchObject({ status: 'paused' });
    await useUp();
    const refused = await post(ADMIN, `/agents/calc/runs/${again.json().run_id}/continue`, {
      tools: [{ tool_call_id: 'call_calc2', confirmed: true }],
      stream: false,
    });
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toMatchObject({ code: 'AOS_QUOTA_EXCEEDED' });
  });

  it('a continued workflow run adds its tokens to the starter', async () => {
    fake.script({ text: 'written', usage: { prompt_tokens: 30, completion_tokens: 3 } });
    const started = await post(SMALL, '/workflows/gated/runs', { message: 'go', stream: false });
    expect(started.json()).toMatchObject({ status: 'paused' });
    const continued = await post(ADMIN, `/workflows/gated/runs/${started.json().run_id}/continue`, { stream: false });
    expect(continued.json()).toMatchObject({ status: 'completed' });
    expect(await usedBy('config_key:small')).toBe(33);
    expect(await usedBy()).toBe(33);
  });

  it('an eval’s runs count against its caller, and a used-up caller is refused at the door', async () => {
    fake.script({ text: 'fast', usage: { prompt_tokens: 8, completion_tokens: 2 } });
    const evaluated = await post(SMALL, '/eval-runs', {
      eval_type: 'performance',
      agent_id: 'gpt',
      input: 'hi',
      num_iterations: 1,
      warmup_runs: 0,
    });
    expect(evaluated.statusCode).toBe(200);
    expect(await usedBy('config_key:small')).toBe(10);
    await useUp();
    const refused = await post(SMALL, '/eval-runs', {
      eval_type: 'performance',
      agent_id: 'gpt',
      input: 'hi',
      num_iterations: 1,
      warmup_runs: 0,
    });
    expect(refused.statusCode).toBe(429);
    expect(fake.modelRequests).toHaveLength(1);
  });
});
