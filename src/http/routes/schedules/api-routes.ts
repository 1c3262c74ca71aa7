/**
 * agtOS's scheduler on `/api` (seed 002, research/agtos-automatos.md §1.6): a task fires by publishing
 * `{eventTopic, payload}` on the event bus. Plus the bus itself: publish to a topic, list events, and
 * read one event with its deliveries. Times are epoch milliseconds as in agtOS.
 * @module
 */
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import { AgentOsError } from '../../../errors/index.js';
import { badRequest, checkTiming, newTaskId, toCreate } from '../../../schedules/definitions.js';
import type { Services } from '../../../services.js';
import type { BusEventRecord, ScheduleKind, ScheduleRecord } from '../../../store/types.js';
import { mayCallRoute, workspaceOf } from '../../plugins/access-control.js';
import {
  createTaskBody,
  eventDetail,
  eventParams,
  eventsList,
  eventsListQuery,
  type eventView,
  publishBody,
  publishedView,
  publishHeaders,
  TOPIC_PATTERN,
  taskCancelled,
  taskCreated,
  taskList,
  taskParams,
  type taskView,
  topicParams,
} from './schemas.js';

/** Seed 002: ids match this and are 1–128 characters, else 400 "Invalid task ID format". */
const TASK_ID = /^[a-zA-Z0-9\-_]{1,128}$/;
const KINDS: readonly ScheduleKind[] = ['cron', 'once', 'interval'];

function toTaskView(schedule: ScheduleRecord): z.infer<typeof taskView> {
  const topic = schedule.target.type === 'topic' ? schedule.target.topic : '';
  return {
    id: schedule.id,
    name: schedule.name,
    status: schedule.status,
    schedule: {
      type: schedule.kind,
      ...(schedule.kind === 'cron' ? { expression: schedule.cronExpr ?? '' } : {}),
      ...(schedule.kind === 'once' ? { atTimestamp: schedule.atMs ?? 0 } : {}),
      ...(schedule.kind === 'interval' ? { intervalMs: schedule.intervalMs ?? 0 } : {}),
      timezone: schedule.timezone,
    },
    action: { eventTopic: topic, payload: schedule.payload },
    catchUp: schedule.catchUp,
    nextRunAt: schedule.nextRunAt,
    lastRunAt: schedule.lastRunAt,
    runCount: schedule.runCount,
    createdAt: schedule.createdAt,
  };
}

function toEventView(event: BusEventRecord): z.infer<typeof eventView> {
  return {
    id: event.id,
    topic: event.topic,
    payload: event.payload,
    idempotencyKey: event.idempotencyKey,
    source: event.source,
    createdAt: event.createdAt,
  };
}

/** A firing of a task only publishes, so it needs no long lease (agtOS tasks have no timeout of their own). */
const TASK_TIMEOUT_MS = 60_000;

/** The agtOS scheduler and event routes, mounted under `/api`. */
export const schedulerApiRoutes: FastifyPluginAsync<{ services: Services }> = async (fastify, { services }) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const { store } = services;

  app.get('/scheduler/tasks', {
    config: { access: { scope: 'schedules:read' } },
    schema: {
      summary: 'List scheduled tasks',
      tags: ['Scheduler'],
      operationId: 'listSchedulerTasks',
      response: { 200: taskList },
    },
    handler: async (request) => {
      const workspaceId = workspaceOf(request);
      const tasks: ScheduleRecord[] = [];
      // agtOS lists every task at once; pages of the maximum size are read until the last one.
      for (let page = 1; ; page += 1) {
        const result = await store.schedules.list({ workspaceId, targetType: 'topic', page, limit: 1000 });
        tasks.push(...result.items);
        if (tasks.length >= result.total || result.items.length === 0) break;
      }
      return { tasks: tasks.map(toTaskView), count: tasks.length };
    },
  });

  app.post('/scheduler/tasks', {
    config: { access: { scope: 'schedules:write' } },
    schema: {
      summary: 'Create a scheduled task',
      description:
        '`scheduleType` cron (`expression`, 5 fields or 6 with seconds), once (`atTimestamp`, unix ms) or interval ' +
        '(`intervalMs` ≥ 1000). Each firing publishes `{eventTopic, payload}` on the event bus.',
      tags: ['Scheduler'],
      operationId: 'createSchedulerTask',
      body: createTaskBody,
      response: { 201: taskCreated },
    },
    handler: async (request, reply) => {
      const body = request.body;
      const name = body.name?.trim();
      if (!name) badRequest('Missing or invalid field: name');
      const kind = body.scheduleType as ScheduleKind;
      if (!KINDS.includes(kind)) badRequest('Missing or invalid field: scheduleType (cron, once or interval)');
      if (!body.eventTopic || !TOPIC_PATTERN.test(body.eventTopic)) badRequest('Missing or invalid field: eventTopic');
      // Each firing publishes on the bus, so the author must be allowed to publish there themselves.
      if (!request.principal || !mayCallRoute(fastify, request.principal, 'POST', `/api/events/${body.eventTopic}`)) {
        throw new AgentOsError('AOS_AUTH_FORBIDDEN', 'Insufficient permissions. Required scope: events:write');
      }
      if (kind === 'cron' && !body.expression) badRequest('Cron schedule requires an expression field');
      if (kind === 'once' && body.atTimestamp === undefined) badRequest('Once schedule requires an atTimestamp field');
      if (kind === 'interval' && body.intervalMs === undefined) {
        badRequest('Interval schedule requires an intervalMs field');
      }
      const timing = {
        kind,
        cronExpr: kind === 'cron' ? (body.expression ?? null) : null,
        timezone: body.timezone ?? 'UTC',
        intervalMs: kind === 'interval' ? (body.intervalMs ?? null) : null,
        atMs: kind === 'once' ? (body.atTimestamp ?? null) : null,
      };
      checkTiming(timing, badRequest);
      const created = await store.schedules.create(
        toCreate(
          {
            id: newTaskId(),
            workspaceId: workspaceOf(request),
            name: name ?? '',
            ...timing,
            target: { type: 'topic', topic: body.eventTopic ?? '' },
            payload: body.payload ?? {},
            catchUp: body.catchUp ?? 'skip',
            timeoutMs: TASK_TIMEOUT_MS,
          },
          Date.now(),
        ),
      );
      return reply.code(201).send({ task: toTaskView(created) });
    },
  });

  app.delete('/scheduler/tasks/:id', {
    config: { access: { scope: 'schedules:write' } },
    schema: {
      summary: 'Cancel a scheduled task',
      description: 'The task stays listed with status `cancelled` and never fires again.',
      tags: ['Scheduler'],
      operationId: 'cancelSchedulerTask',
      params: taskParams,
      response: { 200: taskCancelled },
    },
    handler: async (request) => {
      const { id } = request.params;
      if (!TASK_ID.test(id)) badRequest('Invalid task ID format');
      const workspaceId = workspaceOf(request);
      const current = await store.schedules.get(workspaceId, id);
      if (current?.target.type !== 'topic') throw new AgentOsError('AOS_SCHEDULE_NOT_FOUND', 'Task not found');
      await store.schedules.update(workspaceId, id, { status: 'cancelled', nextRunAt: null });
      return { success: true as const, taskId: id };
    },
  });

  app.post('/events/:topic', {
    config: { access: { scope: 'events:write' } },
    schema: {
      summary: 'Publish an event',
      description:
        'Stores the event and delivers it at least once to every subscriber of the topic (`events.subscribers`). ' +
        'An idempotency key (body or `Idempotency-Key` header) seen before in the workspace publishes nothing and ' +
        'answers with the first event and `duplicate: true`.',
      tags: ['Events'],
      operationId: 'publishEvent',
      params: topicParams,
      headers: publishHeaders,
      body: publishBody,
      response: { 202: publishedView },
    },
    handler: async (request, reply) => {
      const idempotencyKey = request.body.idempotencyKey ?? request.headers['idempotency-key'];
      const principal = request.principal?.id ?? 'anonymous';
      const result = await services.scheduling.bus.publish({
        workspaceId: workspaceOf(request),
        topic: request.params.topic,
        payload: request.body.payload,
        idempotencyKey,
        source: `api:${principal}`,
      });
      return reply.code(202).send({
        event: toEventView(result.event),
        duplicate: result.duplicate,
        subscribers: services.scheduling.bus.subscribersOf(result.event.topic),
      });
    },
  });

  app.get('/events', {
    config: { access: { scope: 'events:read' } },
    schema: {
      summary: 'List published events',
      description: 'Newest first; `topic` filters.',
      tags: ['Events'],
      operationId: 'listEvents',
      querystring: eventsListQuery,
      response: { 200: eventsList },
    },
    handler: async (request) => {
      const { topic, page, limit } = request.query;
      const result = await store.eventBus.listEvents({
        workspaceId: workspaceOf(request),
        ...(topic === undefined ? {} : { topic }),
        page,
        limit,
      });
      return { events: result.items.map(toEventView), count: result.total };
    },
  });

  app.get('/events/:id', {
    config: { access: { scope: 'events:read' } },
    schema: {
      summary: 'Get an event with its deliveries',
      tags: ['Events'],
      operationId: 'getEvent',
      params: eventParams,
      response: { 200: eventDetail },
    },
    handler: async (request) => {
      const workspaceId = workspaceOf(request);
      const event = await store.eventBus.getEvent(workspaceId, request.params.id);
      if (!event) throw new AgentOsError('AOS_EVENT_NOT_FOUND', 'Event not found');
      const deliveries = await store.eventBus.listDeliveries(workspaceId, event.id);
      return {
        event: toEventView(event),
        deliveries: deliveries.map((delivery) => ({
          subscriberId: delivery.subscriberId,
          status: delivery.status,
          attempts: delivery.attempts,
          nextAttemptAt: delivery.nextAttemptAt,
          lastError: delivery.lastError,
          deliveredAt: delivery.deliveredAt,
        })),
      };
    },
  });
};
