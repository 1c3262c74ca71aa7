import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeOpenAI, type RecordedRequest, startFakeOpenAI } from '../../../../test/fake-openai.js';
import { buildTestApp, type TestApp } from '../../../../test/helpers.js';

// biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field
type Json = any;

const ADMIN_KEY = 'admin-key-for-team-workflow-evals';
const AGENT_RUNNER_KEY = 'agent-runner-key-for-team-workflow-evals';
const DESK_RUNNER_KEY = 'desk-runner-key-for-team-workflow-evals';

function systemOf(request: RecordedRequest): string {
  const system = request.body.messages?.find((message) => message.role === 'system');
  return String(system?.content ?? '');
}

function lastMessage(request: RecordedRequest): Record<string, unknown> {
  return request.body.messages?.at(-1) ?? {};
}

/**
 * The scripted upstream plays every part: the math agent calls its calculator and then answers with
 * the result; the Desk team's leader hands the task to math and reports its answer; the judge rates 8.
 */
function upstream(request: RecordedRequest) {
  if (request.body.model === 'judge-model') return { text: '{"score": 8, "reason": "Correct."}' };
  const system = systemOf(request);
  const toolResult = lastMessage(request).role === 'tool' ? String(lastMessage(request).content) : undefined;
  if (system.startsWith('You are Math.')) {
    if (toolResult !== undefined) return { text: `Math says ${JSON.parse(toolResult).result}` };
    return { toolCalls: [{ name: 'calculator', arguments: { expression: '2+2' } }] };
  }
  if (system.startsWith('You are Desk.')) {
    if (toolResult !== undefined) return { text: `Desk: ${toolResult}` };
    return { toolCalls: [{ name: 'transfer_task_to_member', arguments: { member_id: 'math', task: 'add 2 and 2' } }] };
  }
  return { text: 'unexpected' };
}

describe('evals of teams and workflows', () => {
  let fake: FakeOpenAI;
  let test: TestApp;

  const runEval = (payload: Record<string, unknown>, key = ADMIN_KEY) =>
    test.app.inject({ method: 'POST', url: '/eval-runs', payload, headers: { authorization: `Bearer ${key}` } });
  const ok = async (payload: Record<string, unknown>): Promise<Json> => {
    const response = await runEval(payload);
    expect(response.statusCode, response.body).toBe(200);
    return response.json();
  };

  beforeAll(async () => {
    fake = await startFakeOpenAI({ defaultReply: upstream });
    test = await buildTestApp(
      {
        agents: [{ id: 'math', name: 'Math', model: 'openai:gpt-4o-mini', tools: ['calculator', 'current_time'] }],
        teams: [{ id: 'desk', name: 'Desk', mode: 'coordinate', model: 'openai:gpt-4o', members: ['math'] }],
        workflows: [
          {
            id: 'pipeline',
            name: 'Pipeline',
            steps: [
              { name: 'compute', agent: 'math' },
              { name: 'review', team: 'desk' },
            ],
          },
        ],
        evals: { judge_model: 'openai:judge-model' },
        auth: {
          api_keys: [
            { name: 'admin', key: ADMIN_KEY, scopes: ['admin'] },
            { name: 'agent-runner', key: AGENT_RUNNER_KEY, scopes: ['evals:write', 'agents:run'] },
            { name: 'desk-runner', key: DESK_RUNNER_KEY, scopes: ['evals:write', 'teams:desk:run'] },
          ],
        },
      },
      { OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'test-key' },
    );
  });
  afterAll(async () => {
    await test?.close();
    await fake?.close();
  });
  beforeEach(() => fake.reset());

  it('accuracy of a team: the judge rates the team answer; the record names the team and its leader model', async () => {
    const result = await ok({ team_id: 'desk', eval_type: 'accuracy', input: 'What is 2+2?', expected_output: '4' });
    expect(result).toMatchObject({
      eval_type: 'accuracy',
      agent_id: null,
      team_id: 'desk',
      workflow_id: null,
      model_id: 'gpt-4o',
      model_provider: 'openai',
      evaluated_component_name: 'Desk',
      eval_data: { avg_score: 8, passed: true, judge_model: 'openai:judge-model' },
    });
    expect(result.eval_data.results[0].output).toBe('Desk: Math says 4');
    const run = await test.services.store.runs.get('default', result.eval_data.results[0].run_id);
    expect(run).toMatchObject({ componentType: 'team', componentId: 'desk', status: 'completed' });
    const listed = (
      await test.app.inject({
        method: 'GET',
        url: '/eval-runs?type=team&team_id=desk',
        headers: { authorization: `Bearer ${ADMIN_KEY}` },
      })
    ).json();
    expect(listed.eval_runs.map((entry: Json) => entry.id)).toContain(result.id);
  });

  it('agent_as_judge of a workflow: the judge rates the last step', async () => {
    const result = await ok({
      workflow_id: 'pipeline',
      eval_type: 'agent_as_judge',
      input: 'What is 2+2?',
      criteria: 'States the sum',
    });
    expect(result).toMatchObject({
      workflow_id: 'pipeline',
      team_id: null,
      agent_id: null,
      model_id: null,
      model_provider: null,
      evaluated_component_name: 'Pipeline',
      eval_data: { avg_score: 8, scoring_strategy: 'numeric', passed: true },
    });
    expect(result.eval_data.results[0].output).toBe('Desk: Math says 4');
    const judged = fake.modelRequests.filter((request) => request.body.model === 'judge-model');
    expect(JSON.stringify(judged[0]?.body.messages)).toContain('States the sum');
  });

  it('performance of a team and of a workflow: every iteration is a whole run', async () => {
    const team = await ok({
      team_id: 'desk',
      eval_type: 'performance',
      input: 'ping',
      num_iterations: 2,
      warmup_runs: 1,
    });
    // Leader, member (tool call), member (answer), leader: four model calls per team run, three runs.
    expect(fake.modelRequests).toHaveLength(12);
    expect(team.eval_data.run_ids).toHaveLength(2);
    expect(team.eval_data.passed).toBe(true);
    fake.reset();
    const workflow = await ok({ workflow_id: 'pipeline', eval_type: 'performance', input: 'ping' });
    // The compute step (two calls), then the review step's team (four calls).
    expect(fake.modelRequests).toHaveLength(6);
    expect(workflow.eval_data.run_time_ms.avg).toBeGreaterThan(0);
  });

  it('reliability of a team and of a workflow: the tool calls of the members and steps count', async () => {
    const team = await ok({
      team_id: 'desk',
      eval_type: 'reliability',
      input: 'What is 2+2?',
      expected_tool_calls: ['calculator'],
      expected_tool_call_arguments: { calculator: { expression: '2+2' } },
    });
    expect(team.eval_data).toMatchObject({
      eval_status: 'PASSED',
      passed_tool_calls: ['calculator'],
      tool_calls: [{ tool_name: 'calculator', tool_args: { expression: '2+2' } }],
    });
    const workflow = await ok({
      workflow_id: 'pipeline',
      eval_type: 'reliability',
      input: 'What is 2+2?',
      expected_tool_calls: ['calculator', 'current_time'],
    });
    expect(workflow.eval_data).toMatchObject({
      eval_status: 'FAILED',
      passed_tool_calls: ['calculator'],
      failed_tool_calls: ['current_time'],
    });
    // The compute step's call, then the review team's member's call.
    expect(workflow.eval_data.tool_calls.map((call: Json) => call.tool_name)).toEqual(['calculator', 'calculator']);
  });

  it('needs the run scope of the team or workflow; unknown ids are 400', async () => {
    const agentOnly = await runEval({ team_id: 'desk', eval_type: 'performance', input: 'x' }, AGENT_RUNNER_KEY);
    expect(agentOnly.statusCode).toBe(403);
    expect(agentOnly.json()).toMatchObject({ code: 'AOS_AUTH_FORBIDDEN' });
    const noWorkflow = await runEval(
      { workflow_id: 'pipeline', eval_type: 'performance', input: 'x' },
      DESK_RUNNER_KEY,
    );
    expect(noWorkflow.statusCode).toBe(403);
    const deskRun = await runEval({ team_id: 'desk', eval_type: 'performance', input: 'x' }, DESK_RUNNER_KEY);
    expect(deskRun.statusCode, deskRun.body).toBe(200);
    expect((await runEval({ team_id: 'nope', eval_type: 'performance', input: 'x' })).statusCode).toBe(400);
    expect((await runEval({ workflow_id: 'nope', eval_type: 'performance', input: 'x' })).statusCode).toBe(400);
    const two = await runEval({ team_id: 'desk', workflow_id: 'pipeline', eval_type: 'performance', input: 'x' });
    expect(two.statusCode).toBe(422);
  });
});
