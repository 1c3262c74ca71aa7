/**
 * What one firing of a schedule does. Agent runs go through the normal run path (`RunManager.start`,
 * off the request, like `background=true`) and are awaited up to the schedule's timeout; any other
 * endpoint of this server is called in-process with `app.inject` under the internal principal; a
 * topic target publishes on the event bus.
 * @module
 */
import type { RunManager } from '../runtime/run-manager.js';
import type { ScheduleRecord, ScheduleRunStatus } from '../store/types.js';
import type { InternalPrincipals } from './internal-principal.js';

/** The result of one attempt, as a schedule-run row records it. */
export interface FiringOutcome {
  status: Exclude<ScheduleRunStatus, 'running'>;
  statusCode?: number | null;
  runId?: string | null;
  sessionId?: string | null;
  error?: string | null;
  output?: Record<string, unknown> | null;
}

/** What the executor knows about the firing it runs. */
export interface FiringContext {
  /** The slot fired (null for a manual trigger), part of the bus idempotency key. */
  slotAt: number | null;
  /** The schedule-run row of this attempt. */
  scheduleRunId: string;
  /** Aborted on timeout and on shutdown. */
  signal: AbortSignal;
}

/** Executes a firing; never throws (a failure is an outcome). */
export type ScheduleExecutor = (schedule: ScheduleRecord, context: FiringContext) => Promise<FiringOutcome>;

/** The in-process HTTP call, `app.inject` narrowed to what firings use. */
export type Injector = (request: {
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string;
}) => Promise<{ statusCode: number; body: string; headers: Record<string, unknown> }>;

/** Publishes on the event bus (see `bus/event-bus.ts`). */
export type TopicPublisher = (input: {
  workspaceId: string;
  topic: string;
  payload: Record<string, unknown>;
  idempotencyKey?: string;
  source?: string;
}) => Promise<{ event: { id: string }; duplicate: boolean }>;

/** Options of {@link createScheduleExecutor}. */
export interface ScheduleExecutorOptions {
  runs: RunManager;
  internal: InternalPrincipals;
  publish: TopicPublisher;
  /** Set once the app is built (`bindApp`); endpoint targets fail until then. */
  inject: () => Injector | undefined;
}

const AGENT_RUNS = /^\/agents\/([^/?#]+)\/runs\/?$/;
const COMPONENT_RUNS = /^\/(teams|workflows)\/[^/?#]+\/runs\/?$/;

const RUN_STATUS_OUTCOME: Record<string, FiringOutcome['status']> = {
  completed: 'success',
  error: 'failed',
  cancelled: 'cancelled',
  paused: 'paused',
};

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Rejects when `signal` aborts; the reason says timeout or shutdown. */
function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    const fail = () => reject(signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason)));
    if (signal.aborted) fail();
    else signal.addEventListener('abort', fail, { once: true });
  });
}

function isTimeout(signal: AbortSignal): boolean {
  return signal.aborted && (signal.reason as { name?: string } | undefined)?.name === 'TimeoutError';
}

/** Builds the executor the engine calls for each firing. */
export function createScheduleExecutor(options: ScheduleExecutorOptions): ScheduleExecutor {
  async function runAgent(schedule: ScheduleRecord, agentId: string, context: FiringContext): Promise<FiringOutcome> {
    const payload = schedule.payload;
    const text = typeof payload.message === 'string' ? payload.message : JSON.stringify(payload);
    const handle = await options.runs.start({
      workspaceId: schedule.workspaceId,
      agentId: decodeURIComponent(agentId),
      message: text,
      sessionId: typeof payload.session_id === 'string' ? payload.session_id : undefined,
      userId: typeof payload.user_id === 'string' ? payload.user_id : null,
    });
    const ids = { runId: handle.runId, sessionId: handle.sessionId };
    try {
      const run = await Promise.race([handle.done, aborted(context.signal)]);
      return {
        ...ids,
        status: RUN_STATUS_OUTCOME[run.status] ?? 'failed',
        error: run.error,
        output: { content: run.content, content_type: 'str' },
      };
    } catch (error) {
      // The run must not outlive its firing: a timed-out or shut-down firing cancels it.
      await options.runs.cancel(schedule.workspaceId, handle.runId).catch(() => false);
      return { ...ids, status: isTimeout(context.signal) ? 'timeout' : 'cancelled', error: message(error) };
    }
  }

  async function callEndpoint(
    schedule: ScheduleRecord,
    method: string,
    endpoint: string,
    context: FiringContext,
  ): Promise<FiringOutcome> {
    const inject = options.inject();
    if (!inject) return { status: 'failed', error: 'The scheduler is not bound to a server' };
    const hasBody = method !== 'GET' && method !== 'DELETE';
    const body = COMPONENT_RUNS.test(endpoint) ? { stream: false, ...schedule.payload } : schedule.payload;
    const response = await Promise.race([
      inject({
        method,
        url: endpoint,
        headers: {
          // Never more than the author could run: no recorded scopes, no run rights.
          authorization: options.internal.authorization(schedule.workspaceId, schedule.authorScopes ?? []),
          ...(hasBody ? { 'content-type': 'application/json' } : {}),
        },
        ...(hasBody ? { payload: JSON.stringify(body) } : {}),
      }),
      aborted(context.signal),
    ]);
    let parsed: unknown = response.body;
    try {
      parsed = JSON.parse(response.body);
    } catch {
      // A text body is recorded as it is.
    }
    const ok = response.statusCode >= 200 && response.statusCode < 300;
    const record = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
    return {
      status: ok ? 'success' : 'failed',
      statusCode: response.statusCode,
      runId: typeof record.run_id === 'string' ? record.run_id : null,
      sessionId: typeof record.session_id === 'string' ? record.session_id : null,
      error: ok ? null : `HTTP ${response.statusCode}`,
      output: { content: parsed, content_type: typeof parsed === 'string' ? 'str' : 'json' },
    };
  }

  return async (schedule, context) => {
    try {
      const target = schedule.target;
      if (target.type === 'topic') {
        const result = await options.publish({
          workspaceId: schedule.workspaceId,
          topic: target.topic,
          payload: schedule.payload,
          // One event per slot even if a slot were ever fired twice; manual triggers are their own slot.
          idempotencyKey: `schedule:${schedule.id}:${context.slotAt ?? context.scheduleRunId}`,
          source: `schedule:${schedule.id}`,
        });
        return { status: 'success', output: { event_id: result.event.id, duplicate: result.duplicate } };
      }
      const agent = target.method === 'POST' ? AGENT_RUNS.exec(target.endpoint) : null;
      if (agent?.[1]) return await runAgent(schedule, agent[1], context);
      return await callEndpoint(schedule, target.method, target.endpoint, context);
    } catch (error) {
      return { status: isTimeout(context.signal) ? 'timeout' : 'failed', error: message(error) };
    }
  };
}
