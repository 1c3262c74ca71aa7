/**
 * The handler steps the agent, team and workflow run routes share (research/agno.md §1.2, §1.3;
 * CONTRACT.md §5): find a caller's run, list a component's runs, answer a started run (202, SSE or the
 * final run) and replay a run's stream. Each route table keeps its own paths, schemas and scopes and
 * passes in how it renders a run.
 * @module
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isAgentOsError, NotFoundError } from '../../../errors/index.js';
import type { RunHandle, RunManager } from '../../../runtime/run-manager.js';
import type { Services } from '../../../services.js';
import type { RunRecord, RunStatus } from '../../../store/types.js';
import { workspaceOf } from '../../plugins/access-control.js';
import { openSseStream } from '../../streaming/sse-stream.js';
import { assertOwnedBy, effectiveUserId } from '../../user-scope.js';
import { pageMetaOf } from '../pagination.js';

function runNotFound(): NotFoundError {
  return new NotFoundError('Run not found');
}

/**
 * The run, if it belongs to this component (and to the session, when one is named, and to the caller's
 * user under user isolation); `AOS_NOT_FOUND` otherwise, so other components' runs stay invisible.
 */
export async function findComponentRun(
  services: Services,
  request: FastifyRequest,
  componentType: RunRecord['componentType'],
  componentId: string,
  runId: string,
  sessionId?: string,
): Promise<RunRecord> {
  const found = await services.store.runs.get(workspaceOf(request), runId);
  const run = assertOwnedBy(found, effectiveUserId(request, services.config), runNotFound);
  if (run.componentType !== componentType || run.componentId !== componentId) throw runNotFound();
  if (sessionId !== undefined && run.sessionId !== sessionId) throw runNotFound();
  return run;
}

/** The filters and page of a run list request (`runsListQuery`). */
export interface RunListQuery {
  session_id?: string | undefined;
  status?: RunStatus | undefined;
  page: number;
  limit: number;
}

/** One page of a component's runs the caller may see (its own only under user isolation), rendered. */
export async function listComponentRuns<View>(
  services: Services,
  request: FastifyRequest,
  component: { componentType: RunRecord['componentType']; componentId: string },
  query: RunListQuery,
  render: (run: RunRecord) => View,
) {
  const { session_id: sessionId, status, page, limit } = query;
  const userId = effectiveUserId(request, services.config);
  const result = await services.store.runs.list({
    workspaceId: workspaceOf(request),
    componentType: component.componentType,
    componentId: component.componentId,
    ...(userId === undefined ? {} : { userId }),
    ...(sessionId === undefined ? {} : { sessionId }),
    ...(status === undefined ? {} : { status }),
    page,
    limit,
  });
  return { runs: result.items.map(render), meta: pageMetaOf(result.total, { page, limit }) };
}

/**
 * Answers a started (or continued) run as Agno does: 202 (background), SSE (stream) or the final run,
 * rendered by `render` (blocking). A plain stream is the run's only consumer, so its disconnect cancels
 * the run.
 */
export async function replyWithRun<View>(
  services: Services,
  request: FastifyRequest,
  reply: FastifyReply,
  handle: RunHandle,
  options: { stream: boolean; background: boolean; render: (run: RunRecord) => View },
): Promise<View | FastifyReply> {
  if (options.background && !options.stream) {
    return reply.code(202).send({ run_id: handle.runId, session_id: handle.sessionId, status: 'pending' as const });
  }
  if (!options.stream) return options.render(await handle.done);
  const sse = openSseStream(reply);
  const unsubscribe = handle.channel.subscribe(-1, {
    onEvent: (event) => sse.sendEvent(event),
    onEnd: () => sse.end(),
  });
  sse.onDisconnect(() => {
    unsubscribe();
    // A plain stream is the run's only consumer: when it goes, the run is cancelled (Agno).
    if (!options.background) {
      services.runs.cancel(workspaceOf(request), handle.runId, 'disconnect').catch((error: unknown) => {
        request.log.warn({ err: error, run_id: handle.runId }, 'cancelling a disconnected run failed');
      });
    }
  });
  return reply;
}

/** Streams a run's events after `afterIndex` until it ends (resume), from memory or the events table. */
export async function streamReplay(
  runs: RunManager,
  request: FastifyRequest,
  reply: FastifyReply,
  runId: string,
  afterIndex: number,
): Promise<FastifyReply> {
  const sse = openSseStream(reply);
  try {
    const unsubscribe = await runs.replay(workspaceOf(request), runId, afterIndex, {
      onEvent: (event) => sse.sendEvent(event),
      onEnd: () => sse.end(),
    });
    sse.onDisconnect(unsubscribe);
  } catch (error) {
    // The 200 and its headers are already sent: the failure travels as one `error` frame, then the end.
    request.log.warn({ err: error, run_id: runId }, 'resume failed');
    sse.sendControl('error', { detail: isAgentOsError(error) && error.status < 500 ? error.message : 'Resume failed' });
    sse.end();
  }
  return reply;
}
