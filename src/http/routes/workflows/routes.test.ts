import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeOpenAI, type RecordedRequest, startFakeOpenAI } from '../../../../test/fake-openai.js';
import { buildTestApp, type TestApp } from '../../../../test/helpers.js';
import { parseFrames } from '../../../../test/sse.js';
import type { WorkflowFunctionContext } from '../../../config/workflow-schema.js';

function lastUser(request: RecordedRequest): string {
  const users = (request.body.messages ?? []).filter((message) => message.role === 'user');
  return String(users.at(-1)?.content ?? '');
}

/** Waits `ms`, or rejects as soon as the step's signal is aborted (a timeout or a cancel). */
function wait(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(new Error('aborted'));
    });
  });
}

const calls: Record<string, number> = {};
const count = (name: string) => {
  calls[name] = (calls[name] ?? 0) + 1;
};

const functions = {
  tick: ({ state }: WorkflowFunctionContext) => {
    count('tick');
    state.count = Number(state.count ?? 0) + 1;
    return `tick ${state.count}`;
  },
  tock: ({ input }: WorkflowFunctionContext) => {
    count('tock');
    return `tock(${typeof input === 'string' ? input : JSON.stringify(input)})`;
  },
  enough: ({ state }: WorkflowFunctionContext) => Number(state.count) >= 3,
  shout: ({ input }: WorkflowFunctionContext) => JSON.stringify(input).toUpperCase(),
  pick: ({ state }: WorkflowFunctionContext) => (Number(state.count) > 2 ? 'big' : 'small'),
  big: ({ steps }: WorkflowFunctionContext) => `big after ${Object.keys(steps).length} steps`,
  small: () => 'small',
  slow: async ({ abortSignal }: WorkflowFunctionContext) => {
    count('slow');
    await wait(5_000, abortSignal);
    return 'slow done';
  },
  flaky: async ({ attempt, abortSignal }: WorkflowFunctionContext) => {
    count('flaky');
    // The first attempt outlives its timeout; the retry answers at once.
    if (attempt === 1) await wait(5_000, abortSignal);
    return `flaky ok on attempt ${attempt}`;
  },
};

describe('workflow runs', () => {
  let fake: FakeOpenAI;
  let test: TestApp;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    test = await buildTestApp(
      {
        agents: [
          { id: 'writer', name: 'Writer', model: 'openai:gpt-4o-mini' },
          { id: 'editor', name: 'Editor', model: 'openai:gpt-4o-mini' },
        ],
        teams: [{ id: 'duo', name: 'Duo', mode: 'collaborate', model: 'openai:gpt-4o', members: ['writer', 'editor'] }],
        functions,
        workflows: [
          {
            id: 'chain',
            name: 'Chain',
            steps: [
              { name: 'draft', agent: 'writer' },
              { name: 'edit', agent: 'editor', input: 'Edit this: {{input}} (topic {{message}})' },
              { name: 'review', team: 'duo' },
            ],
          },
          {
            id: 'shapes',
            name: 'Every step kind',
            steps: [
              {
                name: 'rounds',
                loop: {
                  max_iterations: 5,
                  until: { function: 'enough' },
                  steps: [
                    {
                      name: 'fan',
                      parallel: [
                        { name: 'tick', function: 'tick' },
                        { name: 'tock', function: 'tock' },
                      ],
                    },
                  ],
                },
              },
              {
                name: 'check',
                condition: {
                  when: { contains: 'tick 3' },
                  steps: [{ name: 'shout', function: 'shout' }],
                  else: [{ name: 'never', function: 'small' }],
                },
              },
              {
                name: 'route',
                router: {
                  selector: { function: 'pick' },
                  routes: { big: [{ name: 'big', function: 'big' }], small: [{ name: 'small', function: 'small' }] },
                },
              },
            ],
          },
          { id: 'too-slow', steps: [{ name: 'slow', function: 'slow', timeout_ms: 100 }] },
          {
            id: 'retried',
            steps: [
              {
                name: 'flaky',
                function: 'flaky',
                timeout_ms: 100,
                on_error: 'retry',
                max_retries: 2,
                retry_backoff_ms: 10,
              },
            ],
          },
          {
            id: 'skipping',
            steps: [
              { name: 'slow', function: 'slow', timeout_ms: 100, on_error: 'skip' },
              { name: 'after', function: 'tock' },
            ],
          },
          { id: 'slow-model', steps: [{ name: 'think', agent: 'writer', timeout_ms: 300 }] },
          {
            id: 'gated',
            steps: [
              { name: 'prepare', function: 'tock' },
              { name: 'publish', function: 'shout', requires_confirmation: true, confirmation_message: 'Publish?' },
            ],
          },
        ],
      },
      { OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'test-key' },
    );
  });
  afterAll(async () => {
    await test.close();
    await fake.close();
  });
  beforeEach(() => {
    fake.reset();
    for (const key of Object.keys(calls)) delete calls[key];
  });

  const run = (workflowId: string, body: Record<string, unknown>) =>
    test.app.inject({ method: 'POST', url: `/workflows/${workflowId}/runs`, payload: body });
  const events = (body: string) => parseFrames(body).frames.map((frame) => frame.data);

  it('chains agent and team steps: each step gets the previous output', async () => {
    const response = await run('chain', { message: 'otters', stream: true });
    const stream = events(response.body);
    expect(stream.map((event) => event.event_index)).toEqual(stream.map((_, index) => index));
    expect(stream[0]).toMatchObject({ event: 'WorkflowStarted', workflow_id: 'chain', workflow_name: 'Chain' });
    // Writer, editor, then the team's two members and its leader.
    expect(fake.modelRequests.map(lastUser).slice(0, 2)).toEqual(['otters', 'Edit this: Echo: otters (topic otters)']);
    expect(fake.modelRequests).toHaveLength(5);
    const completed = stream.filter((event) => event.event === 'StepCompleted');
    expect(completed.map((event) => event.step_name)).toEqual(['draft', 'edit', 'review']);
    expect(completed[1].content).toBe('Echo: Edit this: Echo: otters (topic otters)');
    // Agent events inside a step say which step and which agent speak.
    const stepAgentEvents = stream.filter((event) => event.role === 'step' && event.event === 'RunCompleted');
    expect(stepAgentEvents.map((event) => [event.step_name, event.agent_id])).toEqual([
      ['draft', 'writer'],
      ['edit', 'editor'],
    ]);
    expect(stream.some((event) => event.event === 'TeamRunCompleted' && event.team_id === 'duo')).toBe(true);
    const last = stream.at(-1);
    expect(last.event).toBe('WorkflowCompleted');
    const stored = (await test.app.inject({ method: 'GET', url: `/workflows/chain/runs/${stream[0].run_id}` })).json();
    expect(stored).toMatchObject({ status: 'completed', workflow_id: 'chain', content: last.content });
    expect(stored.step_results.map((step: { step_name: string }) => step.step_name)).toEqual([
      'draft',
      'edit',
      'review',
    ]);
  });

  it('runs loops with a nested parallel group, conditions and routers over shared session_state', async () => {
    const response = await run('shapes', { message: 'go', stream: true, session_id: 'shapes-session' });
    const stream = events(response.body);
    const names = stream.map((event) => event.event);
    // The loop stops once `enough` says so: three iterations, each running the parallel pair.
    expect(names.filter((name) => name === 'LoopIterationStarted')).toHaveLength(3);
    expect(names.filter((name) => name === 'ParallelExecutionStarted')).toHaveLength(3);
    expect(calls).toMatchObject({ tick: 3, tock: 3 });
    const fan = stream.filter((event) => event.event === 'StepCompleted' && event.step_name === 'fan');
    expect(fan.map((event) => event.step_key)).toEqual(['rounds#1/fan', 'rounds#2/fan', 'rounds#3/fan']);
    // Each iteration's input is the previous iteration's output: the parallel pair's outputs by name.
    const second = { tick: 'tick 2', tock: `tock(${JSON.stringify({ tick: 'tick 1', tock: 'tock(go)' })})` };
    expect(fan[2].content).toEqual({ tick: 'tick 3', tock: `tock(${JSON.stringify(second)})` });
    expect(stream.find((event) => event.event === 'ConditionExecutionStarted')?.condition_result).toBe(true);
    expect(stream.find((event) => event.event === 'RouterExecutionStarted')?.selected_route).toBe('big');
    const last = stream.at(-1);
    expect(last).toMatchObject({ event: 'WorkflowCompleted', session_state: { count: 3 } });
    expect(last.content).toMatch(/^big after \d+ steps$/);
    // The shared state is the session's: stored with it.
    const session = await test.services.store.sessions.get('default', 'shapes-session');
    expect(session?.sessionState).toEqual({ count: 3 });
  });

  it('fails a step that outlives its timeout under on_error: fail', async () => {
    const body = (await run('too-slow', { message: 'x' })).json();
    expect(body.status).toBe('error');
    expect(body.error).toBe("Step 'slow' timed out after 100 ms");
    expect(calls.slow).toBe(1);
    expect(body.step_results[0]).toMatchObject({ step_name: 'slow', status: 'failed', attempts: 1 });
  });

  it('retries a timed-out step with backoff under on_error: retry', async () => {
    const response = await run('retried', { message: 'x', stream: true });
    const stream = events(response.body);
    const retry = stream.find((event) => event.event === 'StepRetry');
    expect(retry).toMatchObject({ step_name: 'flaky', attempt: 1, delay_ms: 10 });
    expect(retry.error).toContain('timed out');
    expect(stream.at(-1)).toMatchObject({ event: 'WorkflowCompleted', content: 'flaky ok on attempt 2' });
    expect(calls.flaky).toBe(2);
  });

  it('skips a failed step under on_error: skip and passes its input on', async () => {
    const response = await run('skipping', { message: 'kept', stream: true });
    const stream = events(response.body);
    expect(stream.find((event) => event.event === 'StepSkipped')).toMatchObject({ step_name: 'slow' });
    expect(stream.at(-1)).toMatchObject({ event: 'WorkflowCompleted', content: 'tock(kept)' });
  });

  it('stops a model call that outlives the step timeout', async () => {
    fake.script({ text: 'never', hang: true });
    const body = (await run('slow-model', { message: 'think hard' })).json();
    expect(body.status).toBe('error');
    expect(body.error).toContain('timed out');
    await fake.waitForDisconnects(1, 2_000);
    const child = (await test.services.store.runs.list({ workspaceId: 'default', componentType: 'agent' })).items.find(
      (item) => item.parentRunId === body.run_id,
    );
    expect(child?.status).toBe('error');
  });

  it('pauses before a step that needs confirmation and continues in the same sequence', async () => {
    const first = await run('gated', { message: 'draft', stream: true });
    const paused = events(first.body);
    expect(paused.at(-1)).toMatchObject({ event: 'WorkflowPaused', paused_step_name: 'publish' });
    expect(paused.at(-2)).toMatchObject({ event: 'StepPaused', confirmation_message: 'Publish?' });
    const runId = paused[0].run_id;
    expect((await test.app.inject({ method: 'GET', url: `/workflows/gated/runs/${runId}` })).json().status).toBe(
      'paused',
    );
    const continued = await test.app.inject({
      method: 'POST',
      url: `/workflows/gated/runs/${runId}/continue`,
      payload: { step_requirements: JSON.stringify([{ confirmed: true }]), stream: true },
    });
    const rest = events(continued.body);
    expect(rest[0]).toMatchObject({ event: 'WorkflowContinued', event_index: paused.length });
    expect(rest.at(-1)).toMatchObject({ event: 'WorkflowCompleted', content: '"TOCK(DRAFT)"' });
    // The step before the pause ran once.
    expect(calls.tock).toBe(1);
    const again = await test.app.inject({
      method: 'POST',
      url: `/workflows/gated/runs/${runId}/continue`,
      payload: {},
    });
    expect(again.statusCode).toBe(409);
  });

  it('lists runs, answers 404 for unknown workflows and runs, 422 for a bad body', async () => {
    const body = (await run('retried', { message: 'x', session_id: 'listed' })).json();
    const list = (await test.app.inject({ method: 'GET', url: '/workflows/retried/runs?session_id=listed' })).json();
    expect(list.runs.map((item: { run_id: string }) => item.run_id)).toEqual([body.run_id]);
    expect((await run('missing', { message: 'x' })).statusCode).toBe(404);
    expect((await test.app.inject({ method: 'GET', url: `/workflows/chain/runs/${body.run_id}` })).statusCode).toBe(
      404,
    );
    expect((await run('chain', {})).statusCode).toBe(422);
    const catalog = (await test.app.inject({ method: 'GET', url: '/workflows/shapes' })).json();
    expect(catalog.steps.map((step: { type: string }) => step.type)).toEqual(['loop', 'condition', 'router']);
  });
});
