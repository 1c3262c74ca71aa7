import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeOpenAI, type RecordedRequest, startFakeOpenAI } from '../../../../test/fake-openai.js';
import { buildTestApp, type TestApp } from '../../../../test/helpers.js';
import type { WorkflowFunctionContext } from '../../../config/workflow-schema.js';

const KEY = 'aos_api_workflows_admin_key_0123456789';
const READER = 'aos_api_workflows_reader_key_012345678';

function lastUser(request: RecordedRequest): string {
  const users = (request.body.messages ?? []).filter((message) => message.role === 'user');
  return String(users.at(-1)?.content ?? '');
}

describe('/api/workflows (iii and agtOS)', () => {
  let fake: FakeOpenAI;
  let test: TestApp;
  const headers = { authorization: `Bearer ${KEY}` };

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    test = await buildTestApp(
      {
        auth: {
          api_keys: [
            { name: 'admin', key: KEY, scopes: ['admin'] },
            // May read `cfg` and run only `stuck`: running `cfg` is refused by the per-workflow check.
            { name: 'reader', key: READER, scopes: ['workflows:cfg:read', 'workflows:stuck:run'] },
          ],
        },
        agents: [
          { id: 'assistant', name: 'Assistant', model: 'openai:gpt-4o-mini' },
          { id: 'other', name: 'Other', model: 'openai:gpt-4o-mini', instructions: 'Answer as Other.' },
        ],
        default_agent: 'assistant',
        functions: {
          upper: ({ input }: WorkflowFunctionContext) => String(input).toUpperCase(),
          stall: ({ abortSignal }: WorkflowFunctionContext) =>
            new Promise((_, reject) => abortSignal.addEventListener('abort', () => reject(new Error('stopped')))),
        },
        workflows: [
          {
            id: 'cfg',
            name: 'Config flow',
            description: 'From the config',
            steps: [{ name: 'only', function: 'upper' }],
          },
          { id: 'stuck', steps: [{ name: 'wait', function: 'stall', timeout_ms: 50 }] },
        ],
      },
      { OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'test-key' },
    );
  });
  afterAll(async () => {
    await test.close();
    await fake.close();
  });
  beforeEach(() => fake.reset());

  const inject = (method: 'GET' | 'POST', url: string, payload?: unknown, auth = headers) =>
    test.app.inject({ method, url, headers: auth, ...(payload === undefined ? {} : { payload: payload as object }) });

  it('iii: creates a workflow from JSON steps, runs it synchronously and reports its status', async () => {
    const created = await inject('POST', '/api/workflows', {
      id: 'pipeline',
      name: 'Pipeline',
      description: 'fan out, collect, shout',
      steps: [
        { name: 'a', functionId: 'agent::chat', mode: 'fanout', promptTemplate: 'A: {{input}}' },
        { name: 'b', functionId: 'agent::chat', mode: 'fanout', promptTemplate: 'B: {{input}}' },
        { name: 'merge', functionId: 'agent::chat', mode: 'collect', outputVar: 'merged' },
        { name: 'shout', functionId: 'upper', mode: 'conditional', condition: 'echo' },
      ],
    });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toEqual({ id: 'pipeline' });

    const ran = await inject('POST', '/api/workflows/run', { workflowId: 'pipeline', input: 'tea' });
    expect(ran.statusCode).toBe(200);
    const body = ran.json();
    expect(body.status).toBe('completed');
    expect(body.results.map((result: { stepName: string }) => result.stepName)).toEqual(['a', 'b', 'merge', 'shout']);
    for (const result of body.results) expect(result.durationMs).toEqual(expect.any(Number));
    expect(body.results[3].output).toMatch(/^ECHO: /);
    expect(body.vars.merged).toMatch(/^Echo: /);
    // The collect step read both fan-out outputs.
    const collect = fake.modelRequests.map(lastUser).find((text) => text.includes('"a"'));
    expect(collect).toContain('Echo: A: tea');
    expect(collect).toContain('Echo: B: tea');

    const status = await inject('GET', `/api/workflows/runs/${body.runId}`);
    expect(status.json()).toMatchObject({ runId: body.runId, workflowId: 'pipeline', status: 'completed' });
    expect(status.json().completedAt).toBeGreaterThanOrEqual(status.json().startedAt);
  });

  it('iii: agentId picks the agent of agent::chat steps', async () => {
    await inject('POST', '/api/workflows', { id: 'solo', name: 'Solo', steps: [{ name: 'ask' }] });
    const body = (
      await inject('POST', '/api/workflows/run', { workflowId: 'solo', input: 'hi', agentId: 'other' })
    ).json();
    expect(body.status).toBe('completed');
    const system = fake.modelRequests[0]?.body.messages?.find((message) => message.role === 'system');
    expect(String(system?.content)).toContain('Answer as Other.');
  });

  it('iii: refuses bad definitions and unknown workflows in the /api error shape', async () => {
    const noSteps = await inject('POST', '/api/workflows', { name: 'x', steps: [] });
    expect(noSteps.statusCode).toBe(400);
    expect(noSteps.json()).toMatchObject({ code: 'AOS_VALIDATION', error: expect.any(String) });
    const badFunction = await inject('POST', '/api/workflows', {
      name: 'x',
      steps: [{ name: 'y', functionId: 'nope' }],
    });
    expect(badFunction.statusCode).toBe(400);
    expect(badFunction.json().error).toContain('unknown function');
    const duplicate = await inject('POST', '/api/workflows', { id: 'cfg', name: 'x', steps: [{ name: 'y' }] });
    expect(duplicate.statusCode).toBe(409);
    const missing = await inject('POST', '/api/workflows/run', { workflowId: 'ghost', input: 'x' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error).toBe('Workflow not found');
    expect((await inject('GET', '/api/workflows/runs/ghost-run')).statusCode).toBe(404);
  });

  it('GET /api/workflows lists config and stored workflows in one {workflows, count} body', async () => {
    const body = (await inject('GET', '/api/workflows')).json();
    expect(body.count).toBe(body.workflows.length);
    const cfg = body.workflows.find((workflow: { id: string }) => workflow.id === 'cfg');
    expect(cfg).toMatchObject({
      name: 'Config flow',
      description: 'From the config',
      stepCount: 1,
      steps: [{ id: 'only', name: 'only', type: 'ACTION' }],
    });
    const stored = body.workflows.find((workflow: { id: string }) => workflow.id === 'pipeline');
    expect(stored).toMatchObject({ source: 'api', stepCount: 4 });
    expect(stored.steps[0]).toMatchObject({ id: 'a', type: 'ACTION', functionId: 'agent::chat', mode: 'fanout' });
    // A caller that may read one workflow sees only that one.
    const limited = (await inject('GET', '/api/workflows', undefined, { authorization: `Bearer ${READER}` })).json();
    expect(limited.workflows.map((workflow: { id: string }) => workflow.id)).toEqual(['cfg']);
  });

  it('agtOS: executes a workflow, 400 with the execution when a step times out, 404 {error, workflowId}', async () => {
    const ok = await inject('POST', '/api/workflows/cfg/execute', { input: 'hello' });
    expect(ok.statusCode).toBe(200);
    const { execution } = ok.json();
    expect(execution).toMatchObject({ workflowId: 'cfg', state: 'completed', output: 'HELLO' });
    expect(execution.endTime).toBeGreaterThanOrEqual(execution.startTime);

    const failed = await inject('POST', '/api/workflows/stuck/execute', {});
    expect(failed.statusCode).toBe(400);
    expect(failed.json()).toMatchObject({
      error: "Workflow execution failed: Step 'wait' timed out after 50 ms",
      workflowId: 'stuck',
      execution: { state: 'failed' },
    });

    const missing = await inject('POST', '/api/workflows/ghost/execute', {});
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ error: 'Workflow not found', workflowId: 'ghost' });
    expect((await inject('POST', '/api/workflows/bad%20id!/execute', {})).statusCode).toBe(400);
  });

  it('needs credentials and the run scope', async () => {
    expect((await inject('GET', '/api/workflows', undefined, {} as typeof headers)).statusCode).toBe(401);
    const forbidden = await inject(
      'POST',
      '/api/workflows/run',
      { workflowId: 'cfg' },
      { authorization: `Bearer ${READER}` },
    );
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json().error).toContain('workflows:cfg:run');
  });
});
