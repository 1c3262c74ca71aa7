import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../../test/helpers.js';

const agents = [{ id: 'assistant', name: 'Assistant', model: 'local:default' }];

describe('Agno /schedules', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await buildTestApp({ agents });
  });
  afterEach(async () => {
    await t.close();
  });

  const create = (body: Record<string, unknown>) => t.app.inject({ method: 'POST', url: '/schedules', payload: body });

  it('creates a schedule with its first slot, lists, reads, and refuses a duplicate name', async () => {
    const before = Math.floor(Date.now() / 1000);
    const created = await create({
      name: 'nightly report',
      cron_expr: '0 3 * * *',
      timezone: 'Europe/Berlin',
      endpoint: '/agents/assistant/runs',
      payload: { message: 'report' },
    });
    expect(created.statusCode).toBe(201);
    const schedule = created.json();
    expect(schedule).toMatchObject({
      name: 'nightly report',
      method: 'POST',
      enabled: true,
      timeout_seconds: 3600,
      max_retries: 0,
      catch_up: 'skip',
      run_count: 0,
    });
    expect(schedule.next_run_at).toBeGreaterThan(before);
    // 03:00 in Berlin is 01:00 or 02:00 UTC.
    expect([1, 2]).toContain(new Date(schedule.next_run_at * 1000).getUTCHours());

    const list = await t.app.inject({ method: 'GET', url: '/schedules?enabled=true' });
    expect(list.json()).toMatchObject({ data: [{ id: schedule.id }], meta: { total_count: 1, limit: 100 } });
    expect((await t.app.inject({ method: 'GET', url: `/schedules/${schedule.id}` })).json().id).toBe(schedule.id);

    const duplicate = await create({
      name: 'nightly report',
      cron_expr: '* * * * *',
      endpoint: '/health',
      method: 'GET',
    });
    expect(duplicate.statusCode).toBe(409);
    expect(duplicate.json().code).toBe('AOS_CONFLICT');
  });

  it('answers 422 for a bad cron expression, time zone or endpoint', async () => {
    for (const body of [
      { name: 'a', cron_expr: 'every day', endpoint: '/health', method: 'GET' },
      { name: 'b', cron_expr: '* * * * *', timezone: 'Mars/Base', endpoint: '/health', method: 'GET' },
      { name: 'c', cron_expr: '* * * * *', endpoint: 'http://evil.example/' },
    ]) {
      const response = await create(body);
      expect(response.statusCode, JSON.stringify(body)).toBe(422);
      expect(response.json().code).toBe('AOS_VALIDATION');
    }
  });

  it('disables and enables: disabled has no next slot, enable recomputes it from now', async () => {
    const { id } = (
      await create({ name: 'x', cron_expr: '*/10 * * * * *', endpoint: '/health', method: 'GET' })
    ).json();
    const disabled = await t.app.inject({ method: 'POST', url: `/schedules/${id}/disable` });
    expect(disabled.json()).toMatchObject({ id, enabled: false, next_run_at: null });
    const trigger = await t.app.inject({ method: 'POST', url: `/schedules/${id}/trigger` });
    expect(trigger.statusCode).toBe(409);
    expect(trigger.json().code).toBe('AOS_SCHEDULE_DISABLED');
    const enabled = await t.app.inject({ method: 'POST', url: `/schedules/${id}/enable` });
    expect(enabled.json().enabled).toBe(true);
    expect(enabled.json().next_run_at).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000));
  });

  it('patches fields and recomputes next_run_at when the cron changes', async () => {
    const { id } = (await create({ name: 'p', cron_expr: '0 0 1 1 *', endpoint: '/health', method: 'GET' })).json();
    const patched = await t.app.inject({
      method: 'PATCH',
      url: `/schedules/${id}`,
      payload: { cron_expr: '* * * * * *', max_retries: 2, description: 'every second' },
    });
    expect(patched.statusCode).toBe(200);
    const body = patched.json();
    expect(body).toMatchObject({ cron_expr: '* * * * * *', max_retries: 2, description: 'every second' });
    expect(body.next_run_at - Math.floor(Date.now() / 1000)).toBeLessThanOrEqual(2);
    const bad = await t.app.inject({ method: 'PATCH', url: `/schedules/${id}`, payload: { cron_expr: 'nope' } });
    expect(bad.statusCode).toBe(422);
  });

  it('triggers an agent schedule through the run path and records the run', async () => {
    const { id } = (
      await create({
        name: 'ask',
        cron_expr: '0 0 1 1 *',
        endpoint: '/agents/assistant/runs',
        payload: { message: 'What is 6*7?' },
      })
    ).json();
    const fired = await t.app.inject({ method: 'POST', url: `/schedules/${id}/trigger` });
    expect(fired.statusCode).toBe(200);
    const run = fired.json();
    expect(run).toMatchObject({ schedule_id: id, status: 'success', attempt: 1, manual: true, slot_at: null });
    expect(run.run_id).toEqual(expect.any(String));
    const agentRun = await t.app.inject({
      method: 'GET',
      url: `/agents/assistant/runs/${run.run_id}?session_id=${run.session_id}`,
    });
    expect(agentRun.statusCode).toBe(200);
    expect(agentRun.json().status).toBe('completed');
    expect(run.output.content).toBe(agentRun.json().content);

    const history = await t.app.inject({ method: 'GET', url: `/schedules/${id}/runs` });
    expect(history.json()).toMatchObject({ data: [{ id: run.id }], meta: { total_count: 1 } });
    const one = await t.app.inject({ method: 'GET', url: `/schedules/${id}/runs/${run.id}` });
    expect(one.json().id).toBe(run.id);
    expect((await t.app.inject({ method: 'GET', url: `/schedules/${id}` })).json().run_count).toBe(1);
  });

  it('calls other endpoints in-process as the internal principal, which has only run and read scopes', async () => {
    // A key ends dev mode, so the internal principal's own scopes are what the routes check.
    await t.services.store.apiKeys.create({
      id: 'k1',
      name: 'ci',
      keyHash: 'x'.repeat(64),
      keyPrefix: 'aos_x',
      scopes: ['admin'],
    });
    const schedule = await t.services.store.schedules.create({
      id: 's-list',
      workspaceId: 'default',
      name: 'list agents',
      kind: 'cron',
      cronExpr: '0 0 1 1 *',
      timezone: 'UTC',
      target: { type: 'endpoint', method: 'GET', endpoint: '/agents' },
      // An admin author: the firing gets the internal scopes and no more.
      authorScopes: ['admin'],
      status: 'active',
      nextRunAt: null,
      maxRetries: 1,
      retryDelayMs: 10,
    });
    const allowed = await t.services.scheduling.engine.trigger('default', schedule.id);
    expect(allowed).toMatchObject({ status: 'success', statusCode: 200 });

    await t.services.store.schedules.update('default', schedule.id, {
      target: { type: 'endpoint', method: 'GET', endpoint: '/sessions' },
    });
    const refused = await t.services.scheduling.engine.trigger('default', schedule.id);
    // sessions:read is not among the internal scopes: 403, retried once (max_retries 1), both recorded.
    expect(refused).toMatchObject({ status: 'failed', statusCode: 403, attempt: 2 });
    const runs = await t.services.store.schedules.listRuns({ workspaceId: 'default', scheduleId: schedule.id });
    expect(runs.total).toBe(3);
  });

  it('keeps schedules of other workspaces invisible', async () => {
    const { id } = (await create({ name: 'mine', cron_expr: '* * * * *', endpoint: '/health', method: 'GET' })).json();
    const other = await t.app.inject({
      method: 'GET',
      url: `/schedules/${id}`,
      headers: { 'x-workspace-id': 'other' },
    });
    expect(other.statusCode).toBe(404);
    expect(other.json().code).toBe('AOS_SCHEDULE_NOT_FOUND');
    const deleted = await t.app.inject({ method: 'DELETE', url: `/schedules/${id}` });
    expect(deleted.statusCode).toBe(204);
    expect((await t.app.inject({ method: 'GET', url: `/schedules/${id}` })).statusCode).toBe(404);
  });
});

describe('agtOS /api/scheduler/tasks', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await buildTestApp({ agents });
  });
  afterEach(async () => {
    await t.close();
  });

  const post = (body: Record<string, unknown>) =>
    t.app.inject({ method: 'POST', url: '/api/scheduler/tasks', payload: body });

  it('answers the 400s of seed 002', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ scheduleType: 'cron', expression: '* * * * *', eventTopic: 't' }, 'Missing or invalid field: name'],
      [{ name: 'n', scheduleType: 'cron', eventTopic: 't' }, 'Cron schedule requires an expression field'],
      [{ name: 'n', scheduleType: 'once', eventTopic: 't' }, 'Once schedule requires an atTimestamp field'],
      [{ name: 'n', scheduleType: 'interval', eventTopic: 't' }, 'Interval schedule requires an intervalMs field'],
      [
        { name: 'n', scheduleType: 'weekly', eventTopic: 't' },
        'Missing or invalid field: scheduleType (cron, once or interval)',
      ],
      [{ name: 'n', scheduleType: 'interval', intervalMs: 1000 }, 'Missing or invalid field: eventTopic'],
      [
        { name: 'n', scheduleType: 'interval', intervalMs: 10, eventTopic: 't' },
        'intervalMs must be an integer of at least 1000',
      ],
    ];
    for (const [body, error] of cases) {
      const response = await post(body);
      expect(response.statusCode, error).toBe(400);
      expect(response.json().error).toBe(error);
    }
  });

  it('creates cron, once and interval tasks, lists them, and DELETE cancels', async () => {
    const created = await post({
      name: 'Morning briefing',
      scheduleType: 'cron',
      expression: '0 7 * * *',
      eventTopic: 'briefing.morning',
      payload: { workflowId: 'morning-routine' },
    });
    expect(created.statusCode).toBe(201);
    const { task } = created.json();
    expect(task).toMatchObject({
      name: 'Morning briefing',
      status: 'active',
      schedule: { type: 'cron', expression: '0 7 * * *' },
      action: { eventTopic: 'briefing.morning', payload: { workflowId: 'morning-routine' } },
      runCount: 0,
      lastRunAt: null,
    });
    expect(task.id).toMatch(/^task-[0-9a-f]{12}$/);
    expect(task.nextRunAt).toBeGreaterThan(Date.now());
    const at = Date.now() + 3_600_000;
    expect(
      (await post({ name: 'o', scheduleType: 'once', atTimestamp: at, eventTopic: 'x' })).json().task.nextRunAt,
    ).toBe(at);
    expect((await post({ name: 'i', scheduleType: 'interval', intervalMs: 5000, eventTopic: 'x' })).statusCode).toBe(
      201,
    );

    const list = (await t.app.inject({ method: 'GET', url: '/api/scheduler/tasks' })).json();
    expect(list.count).toBe(3);

    const cancelled = await t.app.inject({ method: 'DELETE', url: `/api/scheduler/tasks/${task.id}` });
    expect(cancelled.json()).toEqual({ success: true, taskId: task.id });
    const after = (await t.app.inject({ method: 'GET', url: '/api/scheduler/tasks' })).json();
    expect(after.tasks.find((entry: { id: string }) => entry.id === task.id)).toMatchObject({
      status: 'cancelled',
      nextRunAt: null,
    });
  });

  it('answers 400 for a bad task id and 404 for a missing one', async () => {
    const bad = await t.app.inject({ method: 'DELETE', url: '/api/scheduler/tasks/bad%20id!' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toBe('Invalid task ID format');
    const missing = await t.app.inject({ method: 'DELETE', url: '/api/scheduler/tasks/task-000000000000' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ error: 'Task not found', code: 'AOS_SCHEDULE_NOT_FOUND' });
  });
});
