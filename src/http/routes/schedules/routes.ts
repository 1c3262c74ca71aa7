/**
 * Agno's `/schedules` on the root surface (research/agno.md §1.8): a schedule calls an endpoint of
 * this server on a cron in a time zone. Times are epoch seconds as in Agno. Every store call names
 * the caller's workspace; topic schedules (agtOS tasks) are not visible here.
 * @module
 */
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AgentOsError } from '../../../errors/index.js';
import { checkTiming, newScheduleId, toCreate, unprocessable, withNextSlot } from '../../../schedules/definitions.js';
import type { Services } from '../../../services.js';
import type { ScheduleRecord, ScheduleRunRecord, ScheduleUpdate } from '../../../store/types.js';
import { mayCallRoute, workspaceOf } from '../../plugins/access-control.js';
import { effectiveUserId } from '../../user-scope.js';
import { pageMetaOf } from '../pagination.js';
import {
  createScheduleBody,
  scheduleList,
  scheduleParams,
  scheduleRunList,
  scheduleRunParams,
  scheduleRunsQuery,
  scheduleRunView,
  schedulesListQuery,
  scheduleToggleView,
  scheduleView,
  updateScheduleBody,
} from './schemas.js';

const seconds = (ms: number) => Math.floor(ms / 1000);
const secondsOrNull = (ms: number | null) => (ms === null ? null : seconds(ms));

function toView(schedule: ScheduleRecord): z.infer<typeof scheduleView> {
  const target = schedule.target.type === 'endpoint' ? schedule.target : { method: 'POST', endpoint: '' };
  return {
    id: schedule.id,
    name: schedule.name,
    description: schedule.description,
    method: target.method,
    endpoint: target.endpoint,
    payload: schedule.payload,
    cron_expr: schedule.cronExpr ?? '',
    timezone: schedule.timezone,
    timeout_seconds: seconds(schedule.timeoutMs),
    max_retries: schedule.maxRetries,
    retry_delay_seconds: seconds(schedule.retryDelayMs),
    catch_up: schedule.catchUp,
    enabled: schedule.status === 'active',
    next_run_at: secondsOrNull(schedule.nextRunAt),
    last_run_at: secondsOrNull(schedule.lastRunAt),
    run_count: schedule.runCount,
    created_at: seconds(schedule.createdAt),
    updated_at: seconds(schedule.updatedAt),
  };
}

/** A schedule-run row as Agno shows it. */
export function toRunView(run: ScheduleRunRecord): z.infer<typeof scheduleRunView> {
  return {
    id: run.id,
    schedule_id: run.scheduleId,
    attempt: run.attempt,
    manual: run.manual,
    slot_at: secondsOrNull(run.slotAt),
    worker: run.worker,
    triggered_at: seconds(run.triggeredAt),
    completed_at: secondsOrNull(run.completedAt),
    status: run.status,
    status_code: run.statusCode,
    run_id: run.runId,
    session_id: run.sessionId,
    error: run.error,
    input: run.input,
    output: run.output,
    requirements: [],
    created_at: seconds(run.createdAt),
  };
}

function notFound(): AgentOsError {
  return new AgentOsError('AOS_SCHEDULE_NOT_FOUND', 'Schedule not found');
}

/** The Agno schedule routes. */
export const scheduleRoutes: FastifyPluginAsync<{ services: Services }> = async (fastify, { services }) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const { store } = services;
  const now = () => Date.now();

  /** An endpoint schedule of the caller's workspace, else 404. */
  async function find(workspaceId: string, id: string): Promise<ScheduleRecord> {
    const schedule = await store.schedules.get(workspaceId, id);
    if (schedule?.target.type !== 'endpoint') throw notFound();
    return schedule;
  }

  /**
   * A firing runs under the internal principal narrowed to the author's scopes (kept on the schedule), so
   * members of a scheduled team or workflow are judged by the author's rights; the author must be able
   * to call the endpoint themselves, and a user pinned by isolation fires as that user into
   * new sessions only (a named `session_id` could be another user's).
   */
  function authorizeTarget(
    request: import('fastify').FastifyRequest,
    method: string,
    endpoint: string,
    payload: Record<string, unknown>,
  ): Record<string, unknown> {
    const principal = request.principal;
    if (!principal || !mayCallRoute(fastify, principal, method, endpoint)) {
      throw new AgentOsError('AOS_AUTH_FORBIDDEN', `Insufficient permissions to schedule ${method} ${endpoint}`);
    }
    const pinned = effectiveUserId(request, services.config);
    if (pinned === undefined) return payload;
    if (payload.session_id !== undefined) {
      throw new AgentOsError('AOS_AUTH_FORBIDDEN', 'A schedule of a user-isolated caller cannot name a session_id');
    }
    return { ...payload, user_id: pinned };
  }

  async function assertNameFree(workspaceId: string, name: string, self?: string): Promise<void> {
    const existing = await store.schedules.findByName(workspaceId, name);
    if (existing && existing.id !== self) {
      throw new AgentOsError('AOS_CONFLICT', `A schedule named "${name}" already exists`);
    }
  }

  app.get('/schedules', {
    config: { access: { scope: 'schedules:read' } },
    schema: {
      summary: 'List schedules',
      tags: ['Schedules'],
      operationId: 'listSchedules',
      querystring: schedulesListQuery,
      response: { 200: scheduleList },
    },
    handler: async (request) => {
      const { enabled, page, limit } = request.query;
      const result = await store.schedules.list({
        workspaceId: workspaceOf(request),
        targetType: 'endpoint',
        ...(enabled === undefined
          ? {}
          : { statuses: enabled ? ['active'] : ['paused', 'completed', 'cancelled', 'failed'] }),
        page,
        limit,
      });
      return { data: result.items.map(toView), meta: pageMetaOf(result.total, { page, limit }) };
    },
  });

  app.post('/schedules', {
    config: { access: { scope: 'schedules:write' } },
    schema: {
      summary: 'Create a schedule',
      description:
        'Calls `endpoint` of this server with `payload` on `cron_expr` (5 fields, or 6 with seconds) in `timezone`. ' +
        '`POST /agents/{id}/runs` starts a background agent run; other endpoints are called in-process. ' +
        '422 for a bad cron expression or time zone, 409 for a duplicate name.',
      tags: ['Schedules'],
      operationId: 'createSchedule',
      body: createScheduleBody,
      response: { 201: scheduleView },
    },
    handler: async (request, reply) => {
      const body = request.body;
      const workspaceId = workspaceOf(request);
      const timing = {
        kind: 'cron' as const,
        cronExpr: body.cron_expr,
        timezone: body.timezone,
        intervalMs: null,
        atMs: null,
      };
      checkTiming(timing, unprocessable);
      const payload = authorizeTarget(request, body.method, body.endpoint, body.payload ?? {});
      await assertNameFree(workspaceId, body.name);
      const created = await store.schedules.create(
        toCreate(
          {
            id: newScheduleId(),
            workspaceId,
            name: body.name,
            description: body.description ?? null,
            ...timing,
            target: { type: 'endpoint', method: body.method, endpoint: body.endpoint },
            payload,
            authorScopes: [...(request.principal?.scopes ?? [])],
            catchUp: body.catch_up,
            timeoutMs: body.timeout_seconds * 1000,
            maxRetries: body.max_retries,
            retryDelayMs: body.retry_delay_seconds * 1000,
          },
          now(),
        ),
      );
      return reply.code(201).send(toView(created));
    },
  });

  app.get('/schedules/:schedule_id', {
    config: { access: { scope: 'schedules:read' } },
    schema: {
      summary: 'Get a schedule',
      tags: ['Schedules'],
      operationId: 'getSchedule',
      params: scheduleParams,
      response: { 200: scheduleView },
    },
    handler: async (request) => toView(await find(workspaceOf(request), request.params.schedule_id)),
  });

  app.patch('/schedules/:schedule_id', {
    config: { access: { scope: 'schedules:write' } },
    schema: {
      summary: 'Update a schedule',
      description: 'Partial update; a new cron expression or time zone recomputes `next_run_at` from now.',
      tags: ['Schedules'],
      operationId: 'updateSchedule',
      params: scheduleParams,
      body: updateScheduleBody,
      response: { 200: scheduleView },
    },
    handler: async (request) => {
      const workspaceId = workspaceOf(request);
      const current = await find(workspaceId, request.params.schedule_id);
      const body = request.body;
      if (body.name !== undefined) await assertNameFree(workspaceId, body.name, current.id);
      const patch: ScheduleUpdate = {};
      if (body.name !== undefined) patch.name = body.name;
      if (body.description !== undefined) patch.description = body.description;

      if (body.cron_expr !== undefined) patch.cronExpr = body.cron_expr;
      if (body.timezone !== undefined) patch.timezone = body.timezone;
      if (body.catch_up !== undefined) patch.catchUp = body.catch_up;
      if (body.timeout_seconds !== undefined) patch.timeoutMs = body.timeout_seconds * 1000;
      if (body.max_retries !== undefined) patch.maxRetries = body.max_retries;
      if (body.retry_delay_seconds !== undefined) patch.retryDelayMs = body.retry_delay_seconds * 1000;
      // Any change of target or payload is authorized as a whole, as on create.
      if (body.method !== undefined || body.endpoint !== undefined || body.payload !== undefined) {
        const target = current.target.type === 'endpoint' ? current.target : { method: 'POST', endpoint: '/' };
        const method = body.method ?? target.method;
        const endpoint = body.endpoint ?? target.endpoint;
        patch.payload = authorizeTarget(
          request,
          method,
          endpoint,
          body.payload === undefined ? current.payload : (body.payload ?? {}),
        );
        // The firing acts with the rights of whoever set its target last.
        patch.authorScopes = [...(request.principal?.scopes ?? [])];
        if (body.method !== undefined || body.endpoint !== undefined)
          patch.target = { type: 'endpoint', method, endpoint };
      }
      const retimed = patch.cronExpr !== undefined || patch.timezone !== undefined;
      if (retimed) {
        checkTiming(
          {
            kind: 'cron',
            cronExpr: patch.cronExpr ?? current.cronExpr,
            timezone: patch.timezone ?? current.timezone,
            intervalMs: null,
            atMs: null,
          },
          unprocessable,
        );
      }
      const updated = await store.schedules.update(
        workspaceId,
        current.id,
        retimed ? withNextSlot(current, patch, now()) : patch,
      );
      if (!updated) throw notFound();
      return toView(updated);
    },
  });

  app.delete('/schedules/:schedule_id', {
    config: { access: { scope: 'schedules:delete' } },
    schema: {
      summary: 'Delete a schedule and its run history',
      tags: ['Schedules'],
      operationId: 'deleteSchedule',
      params: scheduleParams,
      response: { 204: z.null().describe('No content') },
    },
    handler: async (request, reply) => {
      const workspaceId = workspaceOf(request);
      const schedule = await find(workspaceId, request.params.schedule_id);
      await store.schedules.delete(workspaceId, schedule.id);
      return reply.code(204).send(null);
    },
  });

  for (const action of ['enable', 'disable'] as const) {
    app.post(`/schedules/:schedule_id/${action}`, {
      config: { access: { scope: 'schedules:write' } },
      schema: {
        summary: action === 'enable' ? 'Enable a schedule' : 'Disable a schedule',
        description:
          action === 'enable'
            ? 'Recomputes `next_run_at` from now: slots that passed while disabled never fire.'
            : 'No slot fires until it is enabled again; a firing in progress finishes.',
        tags: ['Schedules'],
        operationId: action === 'enable' ? 'enableSchedule' : 'disableSchedule',
        params: scheduleParams,
        response: { 200: scheduleToggleView },
      },
      handler: async (request) => {
        const workspaceId = workspaceOf(request);
        const current = await find(workspaceId, request.params.schedule_id);
        const patch = withNextSlot(current, { status: action === 'enable' ? 'active' : 'paused' }, now());
        const updated = await store.schedules.update(workspaceId, current.id, patch);
        if (!updated) throw notFound();
        const view = toView(updated);
        return {
          id: view.id,
          name: view.name,
          enabled: view.enabled,
          next_run_at: view.next_run_at,
          updated_at: view.updated_at,
        };
      },
    });
  }

  app.post('/schedules/:schedule_id/trigger', {
    config: { access: { scope: 'schedules:write' } },
    schema: {
      summary: 'Run a schedule now',
      description:
        'Fires once in this request and answers with the run record, under the same lease as timed firings: ' +
        '409 while a firing of the schedule is in progress or when it is disabled; 503 when the scheduler is off.',
      tags: ['Schedules'],
      operationId: 'triggerSchedule',
      params: scheduleParams,
      response: { 200: scheduleRunView },
    },
    handler: async (request) => {
      if (!services.config.schedules.enabled) {
        throw new AgentOsError('AOS_SCHEDULER_UNAVAILABLE', 'Scheduler not available: schedules.enabled is false');
      }
      const workspaceId = workspaceOf(request);
      const schedule = await find(workspaceId, request.params.schedule_id);
      return toRunView(await services.scheduling.engine.trigger(workspaceId, schedule.id));
    },
  });

  app.get('/schedules/:schedule_id/runs', {
    config: { access: { scope: 'schedules:read' } },
    schema: {
      summary: 'List the runs of a schedule',
      description: 'One row per firing attempt, newest first.',
      tags: ['Schedules'],
      operationId: 'listScheduleRuns',
      params: scheduleParams,
      querystring: scheduleRunsQuery,
      response: { 200: scheduleRunList },
    },
    handler: async (request) => {
      const workspaceId = workspaceOf(request);
      const schedule = await find(workspaceId, request.params.schedule_id);
      const { page, limit } = request.query;
      const result = await store.schedules.listRuns({ workspaceId, scheduleId: schedule.id, page, limit });
      return { data: result.items.map(toRunView), meta: pageMetaOf(result.total, { page, limit }) };
    },
  });

  app.get('/schedules/:schedule_id/runs/:run_id', {
    config: { access: { scope: 'schedules:read' } },
    schema: {
      summary: 'Get one run of a schedule',
      tags: ['Schedules'],
      operationId: 'getScheduleRun',
      params: scheduleRunParams,
      response: { 200: scheduleRunView },
    },
    handler: async (request) => {
      const workspaceId = workspaceOf(request);
      const schedule = await find(workspaceId, request.params.schedule_id);
      const run = await store.schedules.getRun(workspaceId, schedule.id, request.params.run_id);
      if (!run) throw new AgentOsError('AOS_SCHEDULE_NOT_FOUND', 'Schedule run not found');
      return toRunView(run);
    },
  });
};
