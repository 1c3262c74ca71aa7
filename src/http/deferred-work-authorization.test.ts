/**
 * Work declared now and done later under a broader principal (schedule firings, scheduler tasks) or
 * done on the caller's behalf with other rights (evals) must never let a caller do what the matching
 * REST route would refuse. Real app, `inject()`, API keys with narrow scopes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../test/helpers.js';

const ADMIN_KEY = 'aos_deferred_admin_key_0123456789abcdef';
const SCHEDULER_ONLY = 'aos_deferred_scheduler_key_0123456789abc';
const SCHEDULER_AND_HELPER = 'aos_deferred_helper_runner_0123456789ab';
const EVALS_ONLY = 'aos_deferred_evals_only_key_0123456789ab';
const SCHEDULER_WORKFLOWS = 'aos_deferred_workflows_key_0123456789abc';

describe('deferred work is authorized as its author', () => {
  let test: TestApp;

  beforeAll(async () => {
    test = await buildTestApp({
      agents: [
        { id: 'helper', model: 'local:default' },
        { id: 'secret', model: 'local:default' },
      ],
      auth: {
        api_keys: [
          { name: 'admin', key: ADMIN_KEY, scopes: ['admin'] },
          { name: 'scheduler', key: SCHEDULER_ONLY, scopes: ['schedules:write', 'schedules:read'] },
          {
            name: 'helper-runner',
            key: SCHEDULER_AND_HELPER,
            scopes: ['schedules:write', 'schedules:read', 'agents:helper:run'],
          },
          { name: 'evals', key: EVALS_ONLY, scopes: ['evals:write', 'evals:read'] },
          {
            name: 'workflow-scheduler',
            key: SCHEDULER_WORKFLOWS,
            scopes: ['schedules:write', 'schedules:read', 'workflows:run', 'workflows:read', 'agents:helper:run'],
          },
        ],
      },
    });
  });
  afterAll(async () => {
    await test?.close();
  });

  const post = (key: string, url: string, payload: unknown) =>
    test.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${key}` }, payload: payload as object });

  const schedule = (endpoint: string) => ({
    name: `s-${endpoint.replace(/\W/g, '-')}-${Math.random().toString(36).slice(2, 8)}`,
    cron_expr: '0 0 1 1 *',
    endpoint,
    method: 'POST',
    payload: { message: 'hi' },
  });

  it('refuses a schedule whose endpoint its author may not call, accepts one it may', async () => {
    const refused = await post(SCHEDULER_ONLY, '/schedules', schedule('/agents/secret/runs'));
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ code: 'AOS_AUTH_FORBIDDEN' });

    const otherAgent = await post(SCHEDULER_AND_HELPER, '/schedules', schedule('/agents/secret/runs'));
    expect(otherAgent.statusCode).toBe(403);
    const unknownRoute = await post(SCHEDULER_AND_HELPER, '/schedules', schedule('/no/such/route'));
    expect(unknownRoute.statusCode).toBe(403);

    const allowed = await post(SCHEDULER_AND_HELPER, '/schedules', schedule('/agents/helper/runs'));
    expect(allowed.statusCode).toBe(201);

    // Retargeting an existing schedule is checked the same way.
    const id = allowed.json().id;
    const retarget = await test.app.inject({
      method: 'PATCH',
      url: `/schedules/${id}`,
      headers: { authorization: `Bearer ${SCHEDULER_AND_HELPER}` },
      payload: { endpoint: '/agents/secret/runs' },
    });
    expect(retarget.statusCode).toBe(403);
    const admin = await post(ADMIN_KEY, '/schedules', schedule('/agents/secret/runs'));
    expect(admin.statusCode).toBe(201);
  });

  it('fires a scheduled workflow with its author’s rights, so a member the author may not run is refused', async () => {
    const flow = await post(ADMIN_KEY, '/components', {
      component_id: 'secret-flow',
      component_type: 'workflow',
      name: 'Secret flow',
      config: { steps: [{ name: 'leak', agent: 'secret' }] },
      stage: 'published',
    });
    expect(flow.statusCode).toBe(201);
    const fire = async (key: string) => {
      const created = await post(key, '/schedules', schedule('/workflows/secret-flow/runs'));
      expect(created.statusCode).toBe(201);
      return test.services.scheduling.engine.trigger('default', created.json().id);
    };
    // The author may run workflows and the helper agent, not the secret one the workflow calls.
    expect(await fire(SCHEDULER_WORKFLOWS)).toMatchObject({ status: 'failed', statusCode: 403 });
    expect(await fire(ADMIN_KEY)).toMatchObject({ status: 'success', statusCode: 200 });
  });

  it('continuing a paused workflow component re-checks its steps against the continuing caller', async () => {
    const flow = await post(ADMIN_KEY, '/components', {
      component_id: 'gated-flow',
      component_type: 'workflow',
      name: 'Gated flow',
      config: { steps: [{ name: 'leak', agent: 'secret', requires_confirmation: true }] },
      stage: 'published',
    });
    expect(flow.statusCode).toBe(201);
    const started = await post(ADMIN_KEY, '/workflows/gated-flow/runs', { message: 'hi', stream: false });
    expect(started.json()).toMatchObject({ status: 'paused' });
    const url = `/workflows/gated-flow/runs/${started.json().run_id}/continue`;
    // May run workflows, not the secret agent the paused step calls.
    const refused = await post(SCHEDULER_WORKFLOWS, url, { stream: false });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().detail).toContain('agents:secret:run');
    const continued = await post(ADMIN_KEY, url, { stream: false });
    expect(continued.json()).toMatchObject({ status: 'completed' });
  });

  it('refuses an agtOS scheduler task that publishes without events:write', async () => {
    const refused = await post(SCHEDULER_ONLY, '/api/scheduler/tasks', {
      name: 'nightly',
      scheduleType: 'interval',
      intervalMs: 60_000,
      eventTopic: 'reports.nightly',
    });
    expect(refused.statusCode).toBe(403);
    const admin = await post(ADMIN_KEY, '/api/scheduler/tasks', {
      name: 'nightly',
      scheduleType: 'interval',
      intervalMs: 60_000,
      eventTopic: 'reports.nightly',
    });
    expect(admin.statusCode).toBe(201);
  });

  it('refuses an eval of an agent, or with a judge model, the caller may not run', async () => {
    const agent = await post(EVALS_ONLY, '/eval-runs', {
      eval_type: 'reliability',
      agent_id: 'secret',
      input: 'What is 6*7?',
      expected_tool_calls: ['calculator'],
    });
    expect(agent.statusCode).toBe(403);
    expect(agent.json().detail).toContain('agents:secret:run');
  });
});
