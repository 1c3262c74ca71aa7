import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeOpenAI, startFakeOpenAI } from '../../../../test/fake-openai.js';
import { buildTestApp, type TestApp } from '../../../../test/helpers.js';

// biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field
type Json = any;

describe('eval runs against the fake upstream', () => {
  let fake: FakeOpenAI;
  let test: TestApp;

  const runEval = (payload: Record<string, unknown>) => test.app.inject({ method: 'POST', url: '/eval-runs', payload });
  const ok = async (payload: Record<string, unknown>): Promise<Json> => {
    const response = await runEval(payload);
    expect(response.statusCode, response.body).toBe(200);
    return response.json();
  };
  const judgeRequests = () => fake.modelRequests.filter((request) => request.body.model === 'judge-model');

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    test = await buildTestApp(
      {
        agents: [{ id: 'math', name: 'Math', model: 'openai:gpt-4o-mini', tools: ['calculator', 'current_time'] }],
        evals: { judge_model: 'openai:judge-model' },
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
    await test.services.store.dangerouslyClearAll();
  });

  it('accuracy: the judge scores each answer against the expected output', async () => {
    fake.script(
      { text: 'The answer is 4.' },
      { text: '{"score": 9, "reason": "Correct."}' },
      { text: 'Four.' },
      { text: 'Verdict: {"score": 7, "reason": "Right, terse."}' },
    );
    const result = await ok({
      agent_id: 'math',
      eval_type: 'accuracy',
      input: 'What is 2+2?',
      expected_output: '4',
      num_iterations: 2,
      name: 'addition',
    });
    expect(result).toMatchObject({
      eval_type: 'accuracy',
      agent_id: 'math',
      name: 'addition',
      model_id: 'gpt-4o-mini',
      model_provider: 'openai',
      evaluated_component_name: 'Math',
      eval_data: { avg_score: 8, min_score: 7, max_score: 9, passed: true, judge_model: 'openai:judge-model' },
      eval_input: { input: 'What is 2+2?', expected_output: '4', num_iterations: 2 },
    });
    expect(result.eval_data.results.map((entry: Json) => entry.output)).toEqual(['The answer is 4.', 'Four.']);
    // The judge saw the input, the output and the expected output.
    const prompt = JSON.stringify(judgeRequests()[0]?.body.messages);
    expect(prompt).toContain('What is 2+2?');
    expect(prompt).toContain('The answer is 4.');
    expect(prompt).toContain('EXPECTED OUTPUT');
    const stored = await test.app.inject({ method: 'GET', url: `/eval-runs/${result.id}` });
    expect(stored.json()).toEqual(result);
  });

  it('accuracy under the threshold does not pass', async () => {
    fake.script({ text: '5' }, { text: '{"score": 2, "reason": "Wrong."}' });
    const result = await ok({
      agent_id: 'math',
      eval_type: 'accuracy',
      input: '2+2?',
      expected_output: '4',
      threshold: 6,
    });
    expect(result.eval_data).toMatchObject({ avg_score: 2, threshold: 6, passed: false });
  });

  it('agent_as_judge: numeric with a threshold, and binary', async () => {
    fake.script({ text: 'A polite reply.' }, { text: '{"score": 6, "reason": "Polite enough."}' });
    const numeric = await ok({
      agent_id: 'math',
      eval_type: 'agent_as_judge',
      input: 'Say hello',
      criteria: 'The reply is polite',
      threshold: 5,
      model_id: 'judge-model',
      model_provider: 'openai',
    });
    expect(numeric.eval_data).toMatchObject({ avg_score: 6, scoring_strategy: 'numeric', passed: true });
    expect(JSON.stringify(judgeRequests()[0]?.body.messages)).toContain('The reply is polite');

    fake.script({ text: 'Go away.' }, { text: '{"passed": false, "reason": "Rude."}' });
    const binary = await ok({
      agent_id: 'math',
      eval_type: 'agent_as_judge',
      input: 'Say hello',
      criteria: 'The reply is polite',
      scoring_strategy: 'binary',
    });
    expect(binary.eval_data).toMatchObject({ scoring_strategy: 'binary', passed: false });
    expect(binary.eval_data.results[0]).toMatchObject({ passed: false, reason: 'Rude.' });
  });

  it('performance: warm-up runs are not measured; latency and memory per iteration', async () => {
    fake.setDefault({ text: 'fast', firstChunkDelayMs: 5 });
    const result = await ok({
      agent_id: 'math',
      eval_type: 'performance',
      input: 'ping',
      num_iterations: 3,
      warmup_runs: 2,
      threshold: 60_000,
    });
    expect(fake.modelRequests).toHaveLength(5);
    expect(result.eval_data.run_ids).toHaveLength(3);
    expect(result.eval_data.run_time_ms.avg).toBeGreaterThanOrEqual(5);
    expect(result.eval_data.run_time_ms.min).toBeLessThanOrEqual(result.eval_data.run_time_ms.max);
    expect(result.eval_data.avg_memory_usage).toBeGreaterThanOrEqual(0);
    expect(result.eval_data.passed).toBe(true);
    const strict = await ok({ agent_id: 'math', eval_type: 'performance', input: 'ping', threshold: 0.001 });
    expect(strict.eval_data.passed).toBe(false);
  });

  it('reliability: expected tool calls and arguments', async () => {
    fake.script(
      { toolCalls: [{ name: 'calculator', arguments: { expression: '2+2' } }] },
      { text: '4' },
      { toolCalls: [{ name: 'calculator', arguments: { expression: '3+3' } }] },
      { text: '6' },
    );
    const passed = await ok({
      agent_id: 'math',
      eval_type: 'reliability',
      input: 'What is 2+2?',
      expected_tool_calls: ['calculator'],
      expected_tool_call_arguments: { calculator: { expression: '2+2' } },
    });
    expect(passed.eval_data).toMatchObject({
      eval_status: 'PASSED',
      passed_tool_calls: ['calculator'],
      failed_tool_calls: [],
      tool_calls: [{ tool_name: 'calculator', tool_args: { expression: '2+2' } }],
    });
    const failed = await ok({
      agent_id: 'math',
      eval_type: 'reliability',
      input: 'What is 3+3?',
      expected_tool_calls: ['current_time'],
      allow_additional_tool_calls: false,
    });
    expect(failed.eval_data).toMatchObject({
      eval_status: 'FAILED',
      failed_tool_calls: ['current_time'],
      additional_tool_calls: ['calculator'],
      passed: false,
    });
  });

  it('lists, filters, renames and deletes eval runs', async () => {
    fake.setDefault({ text: 'x' });
    const perf = await ok({ agent_id: 'math', eval_type: 'performance', input: 'a' });
    fake.script({ text: 'y' }, { text: '{"score": 8}' });
    const accuracy = await ok({ agent_id: 'math', eval_type: 'accuracy', input: 'b', expected_output: 'y' });

    const list = (await test.app.inject({ method: 'GET', url: '/eval-runs?eval_types=performance' })).json();
    expect(list.eval_runs.map((entry: Json) => entry.id)).toEqual([perf.id]);
    const all = (await test.app.inject({ method: 'GET', url: '/eval-runs?agent_id=math' })).json();
    expect(all.meta.total_count).toBe(2);
    expect(all.eval_runs[0].id).toBe(accuracy.id);
    const bad = await test.app.inject({ method: 'GET', url: '/eval-runs?eval_types=vibes' });
    expect(bad.statusCode).toBe(422);

    const renamed = await test.app.inject({
      method: 'PATCH',
      url: `/eval-runs/${perf.id}`,
      payload: { name: 'latency budget' },
    });
    expect(renamed.json()).toMatchObject({ id: perf.id, name: 'latency budget' });
    const deleted = await test.app.inject({
      method: 'DELETE',
      url: '/eval-runs',
      payload: { eval_run_ids: [perf.id] },
    });
    expect(deleted.statusCode).toBe(204);
    const gone = await test.app.inject({ method: 'GET', url: `/eval-runs/${perf.id}` });
    expect(gone.statusCode).toBe(404);
    expect(gone.json()).toMatchObject({ code: 'AOS_EVAL_NOT_FOUND' });
    const otherWorkspace = await test.app.inject({
      method: 'GET',
      url: `/eval-runs/${accuracy.id}`,
      headers: { 'x-workspace-id': 'elsewhere' },
    });
    expect(otherWorkspace.statusCode).toBe(404);
  });

  it('refuses bad requests with 4xx and an unusable verdict with 502', async () => {
    expect((await runEval({ agent_id: 'math', eval_type: 'accuracy', input: 'x' })).statusCode).toBe(422);
    expect((await runEval({ eval_type: 'performance', input: 'x' })).statusCode).toBe(422);
    expect((await runEval({ agent_id: 'nope', eval_type: 'performance', input: 'x' })).statusCode).toBe(400);
    fake.script({ text: 'answer' }, { text: 'I would rather not say.' });
    const judged = await runEval({ agent_id: 'math', eval_type: 'accuracy', input: 'x', expected_output: 'y' });
    expect(judged.statusCode).toBe(502);
    expect(judged.json()).toMatchObject({ code: 'AOS_EVAL_JUDGE_FAILED' });
  });
});
