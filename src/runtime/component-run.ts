/**
 * Runs of teams and workflows share the agent run's life cycle (CONTRACT.md §5): a row in `runs`, a
 * session of their component type, one event sequence numbered by a {@link RunChannel} and stored by
 * an {@link EventWriter}, cancel/replay/shutdown through the {@link RunManager} (`track`), and a
 * compare-and-set to the final status. This module holds that frame once; `team/` and `workflow/`
 * supply the execution.
 * @module
 */
import type { AgentConfig, AgentOsConfig } from '../config/index.js';
import { ConflictError, NotFoundError } from '../errors/index.js';
import type { RunEventInput } from '../events/index.js';
import type { Logger } from '../logging/logger.js';
import type { ModelRegistry } from '../models/registry.js';
import { AGENTOS_ATTRIBUTES, type Observability } from '../observability/index.js';
import type { RunRecord, RunStatus, RunUpdate, SessionRecord, Store } from '../store/types.js';
import { EventWriter } from './event-writer.js';
import { newRunId, newSessionId } from './ids.js';
import { RunChannel } from './run-channel.js';
import { assertSessionUser, principalOfRun, type RunHandle, type RunManager } from './run-manager.js';
import type { ToolDefinition } from './tools/types.js';

/** What team and workflow runners need from the process. */
export interface ComponentRunDeps {
  store: Store;
  config: AgentOsConfig;
  models: ModelRegistry;
  runs: RunManager;
  tools: (agent: AgentConfig) => ToolDefinition[];
  logger: Logger;
  /** Tracing (issue 10): each team or workflow execution is one span; absent, nothing is traced. */
  observability?: Pick<Observability, 'withSpan'> | undefined;
  now?: () => number;
}

/** How a run ended; `running` leaves the row as it is (a workflow checkpointed at shutdown, resumed at the next start). */
export interface ExecutionResult {
  status: RunStatus;
  patch: RunUpdate;
}

/** What an execution gets: the run's ids, its event sink and its cancel signal. */
export interface ExecutionContext {
  runId: string;
  sessionId: string;
  workspaceId: string;
  userId: string | null;
  /** Who started the run (its usage counts against that caller's budget), also when continued or resumed. */
  principal?: string | undefined;
  /** Whether the session was created by this run (it has no history yet). */
  newSession: boolean;
  emit(event: RunEventInput): void;
  abortSignal: AbortSignal;
}

/** A request to start (or take over) a team or workflow run. */
export interface LaunchRequest {
  workspaceId: string;
  componentType: 'team' | 'workflow';
  componentId: string;
  /** Stamped on every event of the run (`team_id`, `team_name` / `workflow_id`, `workflow_name`). */
  fields: Record<string, unknown>;
  input: Record<string, unknown>;
  sessionId?: string | undefined;
  userId?: string | null | undefined;
  /** Under user isolation only a session of exactly this user may be continued. */
  userPinned?: boolean | undefined;
  /** Who asked (API key id, config key name, JWT `sub`), for usage accounting. */
  principal?: string | undefined;
  /** An existing run to execute again (resume after a restart, continue after a pause) instead of a new one. */
  existing?: { run: RunRecord; from: readonly RunStatus[] } | undefined;
}

/** Why an active run was aborted, as the run manager passes it. */
export function abortReason(signal: AbortSignal): 'cancel' | 'disconnect' | 'shutdown' | 'timeout' {
  const reason = signal.reason;
  return reason === 'disconnect' || reason === 'shutdown' || reason === 'timeout' ? reason : 'cancel';
}

async function ensureSession(store: Store, request: LaunchRequest): Promise<{ sessionId: string; isNew: boolean }> {
  const sessionId = request.sessionId || newSessionId();
  const existing = request.sessionId ? await store.sessions.get(request.workspaceId, sessionId) : null;
  const check = (session: SessionRecord) => {
    assertSessionUser(session, request);
    if (session.sessionType !== request.componentType || session.componentId !== request.componentId) {
      throw new ConflictError(`Session ${sessionId} belongs to ${session.sessionType} ${session.componentId}`);
    }
  };
  if (existing) {
    check(existing);
    return { sessionId, isNew: false };
  }
  try {
    await store.sessions.create({
      sessionId,
      workspaceId: request.workspaceId,
      sessionType: request.componentType,
      componentId: request.componentId,
      userId: request.userId ?? null,
    });
  } catch (error) {
    // Two first runs of one new session raced; the other created it.
    if (!(error instanceof ConflictError)) throw error;
    const raced = await store.sessions.get(request.workspaceId, sessionId);
    if (!raced) throw error;
    check(raced);
    return { sessionId, isNew: false };
  }
  return { sessionId, isNew: true };
}

/**
 * Creates the run (or takes over `existing`), then executes it off the caller's stack. The returned
 * handle's `done` resolves with the final row.
 */
export async function launchComponentRun(
  deps: ComponentRunDeps,
  request: LaunchRequest,
  execute: (context: ExecutionContext) => Promise<ExecutionResult>,
): Promise<RunHandle> {
  const { store, runs, logger } = deps;
  const now = deps.now ?? Date.now;
  // The starter is kept on the run: a continue or resume counts against the same caller's budget.
  const principal = request.existing ? (request.principal ?? principalOfRun(request.existing.run)) : request.principal;
  // A caller whose daily budget is used up starts nothing, whatever surface it came through (429); nor
  // continues a paused run. A run taken over after a restart was already admitted.
  if (!request.existing || request.existing.from.includes('paused')) await runs.checkCallerQuota(principal);
  let runId: string;
  let sessionId: string;
  let newSession = false;
  let nextIndex = 0;
  if (request.existing) {
    const { run, from } = request.existing;
    // Compare-and-set: of two processes taking over one run, one wins.
    const taken = await store.runs.transition(run.workspaceId, run.runId, from, {
      status: 'running',
      owner: runs.instanceId,
      heartbeatAt: now(),
    });
    if (!taken) throw new ConflictError(`Run ${run.runId} is not in a state that can be resumed`);
    runId = run.runId;
    sessionId = run.sessionId;
    nextIndex = (await store.runEvents.lastIndex(runId)) + 1;
  } else {
    const session = await ensureSession(store, request);
    sessionId = session.sessionId;
    newSession = session.isNew;
    runId = newRunId();
    await store.runs.create({
      runId,
      sessionId,
      workspaceId: request.workspaceId,
      componentType: request.componentType,
      componentId: request.componentId,
      userId: request.userId ?? null,
      input: principal === undefined ? request.input : { ...request.input, principal },
      owner: runs.instanceId,
      status: 'running',
    });
  }
  const channel = new RunChannel({ runId, sessionId, fields: request.fields }, nextIndex);
  const writer = new EventWriter(runId, store.runEvents, (error) =>
    logger.error({ err: error, run_id: runId }, 'storing run events failed'),
  );
  channel.subscribe(-1, { onEvent: (event) => writer.push(event), onEnd: () => {} });
  const controller = new AbortController();
  const context: ExecutionContext = {
    runId,
    sessionId,
    workspaceId: request.workspaceId,
    userId: request.existing ? request.existing.run.userId : (request.userId ?? null),
    principal,
    newSession,
    emit: (event) => channel.emit(event),
    abortSignal: controller.signal,
  };
  const done = (async (): Promise<RunRecord> => {
    let final: ExecutionResult;
    const traced = (): Promise<ExecutionResult> => {
      const { observability } = deps;
      if (!observability) return execute(context);
      const team = request.componentType === 'team';
      return observability.withSpan(
        {
          name: `${team ? 'invoke_agent' : 'invoke_workflow'} ${request.componentId}`,
          operation: team ? 'invoke_agent' : 'invoke_workflow',
          ...(team ? { type: 'TEAM' as const } : {}),
          workspaceId: request.workspaceId,
          attributes: {
            [AGENTOS_ATTRIBUTES.runId]: runId,
            [team ? AGENTOS_ATTRIBUTES.teamId : AGENTOS_ATTRIBUTES.workflowId]: request.componentId,
          },
        },
        () => execute(context),
      );
    };
    try {
      final = await traced();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      logger.warn({ err: error, run_id: runId }, `${request.componentType} run failed`);
      final = { status: 'error', patch: { error: message } };
    }
    try {
      // Still running (checkpointed at shutdown): its events are written and the row kept as it is.
      if (final.status === 'running') {
        const flushed = await writer.flush().then(
          () => undefined,
          (error: unknown) => error,
        );
        if (flushed === undefined) {
          const record = await store.runs.update(request.workspaceId, runId, final.patch);
          if (!record) throw new NotFoundError('Run not found');
          return record;
        }
        final = {
          status: 'error',
          patch: { ...final.patch, error: `Run events could not be stored: ${String(flushed)}` },
        };
      }
      // An ended run: its last events and final status together, as agent runs end.
      return (await runs.settle(request.workspaceId, runId, final, writer)).record;
    } finally {
      channel.end();
    }
  })();
  done.catch(() => {});
  runs.track(runId, { workspaceId: request.workspaceId, channel, controller, done });
  return { runId, sessionId, channel, done };
}
