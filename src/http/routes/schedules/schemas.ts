/**
 * Schemas of the schedule routes: Agno's `/schedules` (research/agno.md §1.8; times in epoch seconds)
 * and agtOS's `/api/scheduler/tasks` (seed 002; times in epoch milliseconds), plus the event routes.
 * @module
 */
import { z } from 'zod';
import { idSchema } from '../../../config/index.js';
import { pageMeta } from '../pagination.js';

const jsonObject = z.record(z.string(), z.unknown());
const catchUp = z
  .enum(['skip', 'run_once'])
  .describe('Missed slots after downtime: `skip` them (default) or fire once for all of them');

/** Agno: names start alphanumeric, then letters, digits, space, `._-`. */
const scheduleName = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[A-Za-z0-9][A-Za-z0-9 ._-]*$/, 'name must start with a letter or digit; then letters, digits, space, ._-');
const httpMethod = z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);
const endpoint = z
  .string()
  .min(1)
  .max(2048)
  .regex(/^\/(?!\/)/, 'endpoint must be a path of this server starting with "/"');

export const scheduleParams = z.object({ schedule_id: idSchema });
export const scheduleRunParams = z.object({ schedule_id: idSchema, run_id: idSchema });

export const schedulesListQuery = z.object({
  enabled: z
    .enum(['true', 'false'])
    .transform((value) => value === 'true')
    .optional(),
  page: z.coerce.number().int().min(1).default(1),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export const scheduleRunsQuery = z.object({
  page: z.coerce.number().int().min(1).default(1),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

/** Body of `POST /schedules`. */
export const createScheduleBody = z.object({
  name: scheduleName,
  cron_expr: z.string().min(1).max(256).describe('5-field cron, or 6 fields with seconds first'),
  endpoint,
  method: httpMethod.default('POST'),
  description: z.string().max(2000).nullish(),
  payload: jsonObject.nullish(),
  timezone: z.string().min(1).max(64).default('UTC'),
  timeout_seconds: z.number().int().min(1).max(86_400).default(3600),
  max_retries: z.number().int().min(0).max(10).default(0),
  retry_delay_seconds: z.number().int().min(1).max(3600).default(60),
  catch_up: catchUp.default('skip'),
});

/** Body of `PATCH /schedules/{id}`: any subset; null is refused for required fields. */
export const updateScheduleBody = z.object({
  name: scheduleName.optional(),
  cron_expr: z.string().min(1).max(256).optional(),
  endpoint: endpoint.optional(),
  method: httpMethod.optional(),
  description: z.string().max(2000).nullish(),
  payload: jsonObject.nullish(),
  timezone: z.string().min(1).max(64).optional(),
  timeout_seconds: z.number().int().min(1).max(86_400).optional(),
  max_retries: z.number().int().min(0).max(10).optional(),
  retry_delay_seconds: z.number().int().min(1).max(3600).optional(),
  catch_up: catchUp.optional(),
});

export const scheduleView = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  method: z.string(),
  endpoint: z.string(),
  payload: jsonObject.nullable(),
  cron_expr: z.string(),
  timezone: z.string(),
  timeout_seconds: z.number().int(),
  max_retries: z.number().int(),
  retry_delay_seconds: z.number().int(),
  catch_up: catchUp,
  enabled: z.boolean(),
  next_run_at: z.number().int().nullable().describe('Epoch seconds'),
  last_run_at: z.number().int().nullable(),
  run_count: z.number().int(),
  created_at: z.number().int(),
  updated_at: z.number().int(),
});

export const scheduleList = z.object({ data: z.array(scheduleView), meta: pageMeta });

export const scheduleToggleView = z.object({
  id: z.string(),
  name: z.string(),
  enabled: z.boolean(),
  next_run_at: z.number().int().nullable(),
  updated_at: z.number().int(),
});

export const scheduleRunView = z.object({
  id: z.string(),
  schedule_id: z.string(),
  attempt: z.number().int(),
  manual: z.boolean(),
  slot_at: z.number().int().nullable().describe('The slot fired (epoch seconds); null for a manual trigger'),
  worker: z.string(),
  triggered_at: z.number().int(),
  completed_at: z.number().int().nullable(),
  status: z.enum(['running', 'success', 'failed', 'timeout', 'cancelled', 'paused']),
  status_code: z.number().int().nullable(),
  run_id: z.string().nullable(),
  session_id: z.string().nullable(),
  error: z.string().nullable(),
  input: jsonObject,
  output: jsonObject.nullable(),
  requirements: z.array(z.unknown()),
  created_at: z.number().int(),
});

export const scheduleRunList = z.object({ data: z.array(scheduleRunView), meta: pageMeta });

/** agtOS task ids: `^[a-zA-Z0-9\-_]+$`, 1–128 characters (seed 002); checked in the handler for its 400 text. */
export const taskParams = z.object({ id: z.string().max(512) });

/**
 * Body of `POST /api/scheduler/tasks`. Types are checked here; missing fields are checked in the
 * handler so the 400 says what seed 002 says ("Cron schedule requires an expression field").
 */
export const createTaskBody = z.object({
  name: z.string().max(255).optional(),
  scheduleType: z.string().optional().describe('cron | once | interval'),
  expression: z.string().max(256).optional().describe('Cron expression (5 fields, or 6 with seconds)'),
  atTimestamp: z.number().optional().describe('Unix ms, for once'),
  intervalMs: z.number().optional().describe('Milliseconds, for interval (at least 1000)'),
  eventTopic: z.string().max(128).optional(),
  payload: jsonObject.optional(),
  timezone: z.string().max(64).optional(),
  catchUp: catchUp.optional(),
});

export const taskView = z.object({
  id: z.string(),
  name: z.string(),
  status: z.enum(['active', 'paused', 'completed', 'cancelled', 'failed']),
  schedule: z.object({
    type: z.enum(['cron', 'once', 'interval']),
    expression: z.string().optional(),
    atTimestamp: z.number().optional(),
    intervalMs: z.number().optional(),
    timezone: z.string(),
  }),
  action: z.object({ eventTopic: z.string(), payload: jsonObject }),
  catchUp,
  nextRunAt: z.number().nullable(),
  lastRunAt: z.number().nullable(),
  runCount: z.number().int(),
  createdAt: z.number(),
});

export const taskList = z.object({ tasks: z.array(taskView), count: z.number().int() });
export const taskCreated = z.object({ task: taskView });
export const taskCancelled = z.object({ success: z.literal(true), taskId: z.string() });

/** Topics: letters, digits and `._:-`, as subscribers name them. */
export const TOPIC_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;
const topic = z.string().regex(TOPIC_PATTERN, 'topic must match ^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$');

export const topicParams = z.object({ topic });
export const publishBody = z.object({
  payload: jsonObject.default({}),
  idempotencyKey: z
    .string()
    .min(1)
    .max(256)
    .optional()
    .describe('A key seen before in this workspace is not published again; also read from Idempotency-Key'),
});
export const publishHeaders = z.object({ 'idempotency-key': z.string().min(1).max(256).optional() });

export const eventView = z.object({
  id: z.string(),
  topic: z.string(),
  payload: jsonObject,
  idempotencyKey: z.string().nullable(),
  source: z.string().nullable(),
  createdAt: z.number(),
});

export const deliveryView = z.object({
  subscriberId: z.string(),
  status: z.enum(['pending', 'delivered', 'failed']),
  attempts: z.number().int(),
  nextAttemptAt: z.number().nullable(),
  lastError: z.string().nullable(),
  deliveredAt: z.number().nullable(),
});

export const publishedView = z.object({ event: eventView, duplicate: z.boolean(), subscribers: z.array(z.string()) });
export const eventsListQuery = z.object({
  topic: topic.optional(),
  page: z.coerce.number().int().min(1).default(1),
  limit: z.coerce.number().int().min(1).max(1000).default(50),
});
export const eventsList = z.object({ events: z.array(eventView), count: z.number().int() });
export const eventParams = z.object({ id: idSchema });
export const eventDetail = z.object({ event: eventView, deliveries: z.array(deliveryView) });
