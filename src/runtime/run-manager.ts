/**
 * Owns the runs this process executes: creates their rows, runs them off the request, numbers and
 * persists their events, moves their status (through `run-status.ts` and a compare-and-set in the
 * store), cancels them, lets clients re-attach, and makes sure no run stays `running` after the
 * process that ran it died (leases: owner + heartbeat).
 * @module
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { ModelMessage } from 'ai';
import type { AgentConfig, AgentOsConfig } from '../config/index.js';
import { ConflictError, NotFoundError } from '../errors/index.js';
import type { RunEvent } from '../events/index.js';
import type { Logger } from '../logging/logger.js';
import type { ModelRegistry } from '../models/registry.js';
import type { RunRecord, RunStatus, SessionRecord, Store } from '../store/types.js';
import { EventWriter } from './event-writer.js';
import { RunChannel, type RunSubscriber } from './run-channel.js';
import { canTransition } from './run-status.js';
import type { ToolDefinition } from './tools/types.js';

/** Why an active run is being stopped. */
export type AbortReason = 'cancel' | 'disconnect' | 'shutdown';

const ABORT_MESSAGES: Record<AbortReason, string> = {
  cancel: 'Run cancelled by request',
  disconnect: 'Client disconnected',
  shutdown: 'The server shut down before the run finished',
};

/** What a caller asks for. */
export interface StartRunRequest {
  workspaceId: string;
  agentId: string;
  message: string;
  /** An existing or new session id; a new id is generated when absent. */
  sessionId?: string | undefined;
  userId?: string | null | undefined;
  /**
   * The caller is pinned to `userId` (user isolation): only a session of exactly that user may be
   * continued; another user's session, or one with no user, is reported as missing.
   */
  userPinned?: boolean | undefined;
  /**
   * The conversation before `message`, used instead of the session's stored history (the OpenAI
   * surface: clients send the whole conversation with every request).
   */
  history?: readonly ModelMessage[] | undefined;
  /** Appended to the agent's system prompt for this run only (an OpenAI request's system messages). */
  extraInstructions?: string | undefined;
  /** Sampling overrides for this run's model calls. */
  temperature?: number | undefined;
  maxOutputTokens?: number | undefined;
}

/** A started run: its ids, its live channel and a promise of its final record. */
export interface RunHandle {
  runId: string;
  sessionId: string;
  channel: RunChannel;
  /** Resolves with the final record when the run ends; rejects only if the run row vanished meanwhile. */
  done: Promise<RunRecord>;
}

/** Options of {@link RunManager}. */
export interface RunManagerOptions {
  store: Store;
  config: AgentOsConfig;
  models: ModelRegistry;
  /** The tools an agent may call (resolved from its config). */
  tools: (agent: AgentConfig) => ToolDefinition[];
  logger: Logger;
  /** This process's lease owner id; defaults to `host:pid:nonce`. */
  instanceId?: string;
  heartbeatMs?: number;
  /** A lease not renewed for this long is considered dead. */
  staleAfterMs?: number;
  now?: () => number;
}

interface ActiveRun {
  workspaceId: string;
  channel: RunChannel;
  controller: AbortController;
  done: Promise<RunRecord>;
}

/**
 * A session keeps to one user: another user's session is reported as missing, not shared. A pinned
 * caller (user isolation) may not join a session without a user either.
 */
function assertSessionUser(session: SessionRecord, request: StartRunRequest): void {
  const requested = request.userId ?? null;
  const allowed = request.userPinned
    ? session.userId === requested
    : session.userId === null || requested === null || session.userId === requested;
  if (!allowed) throw new NotFoundError('Session not found');
}

/** Parses `host:pid:nonce` lease owners. */
function parseOwner(owner: string): { host: string; pid: number } | undefined {
  const match = /^(.*):(\d+):[^:]+$/.exec(owner);
  return match?.[1] && match[2] ? { host: match[1], pid: Number(match[2]) } : undefined;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Runs agents and keeps their runs honest. One per process. */
export class RunManager {
  readonly instanceId: string;
  private readonly active = new Map<string, ActiveRun>();
  private readonly options: RunManagerOptions;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  /** Once set, a client disconnect is the server's doing (connections are being closed), not the client's. */
  private shuttingDown = false;

  constructor(options: RunManagerOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
    this.instanceId = options.instanceId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  }

  /** The configured agent, or `AOS_NOT_FOUND`. */
  agent(agentId: string): AgentConfig {
    const agent = this.options.config.agents.find((candidate) => candidate.id === agentId);
    if (!agent) throw new NotFoundError('Agent not found');
    return agent;
  }

  /** Number of runs executing in this process. */
  get activeCount(): number {
    return this.active.size;
  }

  /** Creates the run (and its session when new) and starts it off the caller's stack. */
  async start(request: StartRunRequest): Promise<RunHandle> {
    const agent = this.agent(request.agentId);
    const { store } = this.options;
    const { sessionId, isNew } = await this.ensureSession(request, agent);
    const runId = randomUUID();
    // Created `running`: it starts right away in this process, which holds its lease from now on.
    await store.runs.create({
      runId,
      sessionId,
      workspaceId: request.workspaceId,
      componentType: 'agent',
      componentId: agent.id,
      userId: request.userId ?? null,
      input: { message: request.message },
      owner: this.instanceId,
      status: 'running',
    });
    const channel = new RunChannel({ runId, sessionId, agentId: agent.id, agentName: agent.name ?? agent.id });
    const writer = new EventWriter(runId, store.runEvents, (error) =>
      this.options.logger.error({ err: error, run_id: runId }, 'storing run events failed'),
    );
    channel.subscribe(-1, { onEvent: (event) => writer.push(event), onEnd: () => {} });
    const controller = new AbortController();
    let settle!: { resolve: (record: RunRecord) => void; reject: (error: unknown) => void };
    const done = new Promise<RunRecord>((resolve, reject) => {
      settle = { resolve, reject };
    });
    // Registered before execution starts, so a cancel or resume arriving at once finds the run.
    this.active.set(runId, { workspaceId: request.workspaceId, channel, controller, done });
    this.execute({ request, agent, runId, sessionId, newSession: isNew, channel, writer, controller })
      .then(settle.resolve, settle.reject)
      .finally(() => this.active.delete(runId));
    // Callers that do not wait for the end (background runs) must not see an unhandled rejection.
    done.catch(() => {});
    return { runId, sessionId, channel, done };
  }

  private async ensureSession(
    request: StartRunRequest,
    agent: AgentConfig,
  ): Promise<{ sessionId: string; isNew: boolean }> {
    const { store } = this.options;
    const sessionId = request.sessionId || randomUUID();
    // A generated id cannot exist yet, so only a named session is looked up.
    const existing = request.sessionId ? await store.sessions.get(request.workspaceId, sessionId) : null;
    if (existing) {
      assertSessionUser(existing, request);
      if (existing.sessionType !== 'agent' || existing.componentId !== agent.id) {
        throw new ConflictError(`Session ${sessionId} belongs to ${existing.sessionType} ${existing.componentId}`);
      }
      return { sessionId, isNew: false };
    }
    try {
      await store.sessions.create({
        sessionId,
        workspaceId: request.workspaceId,
        sessionType: 'agent',
        componentId: agent.id,
        userId: request.userId ?? null,
      });
    } catch (error) {
      // Two first runs of one new session raced; the other created it, which is fine.
      if (!(error instanceof ConflictError)) throw error;
      const raced = await store.sessions.get(request.workspaceId, sessionId);
      if (!raced) throw error;
      assertSessionUser(raced, request);
      return { sessionId, isNew: false };
    }
    return { sessionId, isNew: true };
  }

  private async history(workspaceId: string, sessionId: string, agent: AgentConfig): Promise<ModelMessage[]> {
    if (agent.history_runs === 0) return [];
    const page = await this.options.store.runs.list({
      workspaceId,
      sessionId,
      status: 'completed',
      order: 'desc',
      limit: agent.history_runs,
    });
    return page.items.reverse().flatMap((run) => run.messages as ModelMessage[]);
  }

  private async execute(context: {
    request: StartRunRequest;
    agent: AgentConfig;
    runId: string;
    sessionId: string;
    /** A session created for this run has no history to load. */
    newSession: boolean;
    channel: RunChannel;
    writer: EventWriter;
    controller: AbortController;
  }): Promise<RunRecord> {
    const { request, agent, runId, sessionId, newSession, channel, writer, controller } = context;
    const { config, logger } = this.options;
    const workspaceId = request.workspaceId;
    const modelId = agent.model ?? config.models.default;
    const provider = modelId.split(':')[0];
    let final: { status: RunStatus; patch: Parameters<Store['runs']['update']>[2] };
    try {
      channel.emit({ event: 'RunStarted', model: modelId, model_provider: provider });
      const [model, history] = await Promise.all([
        this.options.models.languageModel(modelId),
        request.history
          ? Promise.resolve([...request.history])
          : newSession
            ? Promise.resolve([])
            : this.history(workspaceId, sessionId, agent),
      ]);
      const { runAgent } = await import('./agent/agent-runner.js');
      const result = await runAgent({
        runId,
        sessionId,
        userId: request.userId ?? null,
        agentName: agent.name ?? agent.id,
        instructions: agent.instructions,
        model,
        modelId,
        tools: this.options.tools(agent),
        history,
        message: request.message,
        maxSteps: agent.max_steps,
        extraInstructions: request.extraInstructions,
        temperature: request.temperature,
        maxOutputTokens: request.maxOutputTokens,
        abortSignal: controller.signal,
        emit: (event) => channel.emit(event),
      });
      const output = {
        tools: result.tools,
        model: modelId,
        model_provider: provider,
        finish_reason: result.finishReason,
      };
      if (result.status === 'completed') {
        channel.emit({
          event: 'RunCompleted',
          content: result.content,
          content_type: 'str',
          metrics: result.metrics,
          model: modelId,
          model_provider: provider,
        });
        final = {
          status: 'completed',
          patch: { content: result.content, messages: result.messages, metrics: { ...result.metrics }, output },
        };
      } else if (result.status === 'cancelled') {
        const reason = (controller.signal.reason as AbortReason | undefined) ?? 'cancel';
        if (reason === 'shutdown') {
          channel.emit({ event: 'RunError', content: ABORT_MESSAGES.shutdown, error_type: 'Shutdown' });
          final = {
            status: 'error',
            patch: { content: result.content, error: ABORT_MESSAGES.shutdown, metrics: { ...result.metrics }, output },
          };
        } else {
          channel.emit({ event: 'RunCancelled', reason: ABORT_MESSAGES[reason] });
          channel.emit({
            event: 'RunCompleted',
            content: result.content,
            content_type: 'str',
            metrics: result.metrics,
          });
          final = {
            status: 'cancelled',
            patch: { content: result.content, messages: result.messages, metrics: { ...result.metrics }, output },
          };
        }
      } else {
        const message = result.error?.message ?? 'Run failed';
        channel.emit({ event: 'RunError', content: message, error_type: result.error?.type ?? 'Error' });
        final = {
          status: 'error',
          patch: { content: result.content, error: message, metrics: { ...result.metrics }, output },
        };
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      logger.warn({ err: error, run_id: runId }, 'run failed');
      channel.emit({ event: 'RunError', content: message, error_type: (error as Error)?.name ?? 'Error' });
      final = { status: 'error', patch: { error: message } };
    }
    try {
      await writer.flush();
    } catch (error) {
      // A replay of this run would have a gap, so it is not reported as completed.
      final = {
        status: 'error',
        patch: { ...final.patch, error: `Run events could not be stored: ${(error as Error)?.message ?? error}` },
      };
    }
    try {
      return await this.finish(workspaceId, runId, final);
    } finally {
      // Subscribers must see the end even if recording it failed; the lease sweep fixes the row later.
      channel.end();
    }
  }

  private async finish(
    workspaceId: string,
    runId: string,
    final: { status: RunStatus; patch: Parameters<Store['runs']['update']>[2] },
  ): Promise<RunRecord> {
    const { store } = this.options;
    const from: RunStatus[] = (['pending', 'running'] as RunStatus[]).filter((status) =>
      canTransition(status, final.status),
    );
    const record =
      (await store.runs.transition(workspaceId, runId, from, { ...final.patch, status: final.status })) ??
      (await store.runs.get(workspaceId, runId));
    // Only a deleted session removes a run while it executes.
    if (!record) throw new NotFoundError('Run not found');
    return record;
  }

  /**
   * Cancels a run: stops it here when this process runs it, else records the request for the owner
   * to pick up. `false` when the run does not exist in the workspace.
   */
  async cancel(workspaceId: string, runId: string, reason: AbortReason = 'cancel'): Promise<boolean> {
    const entry = this.active.get(runId);
    if (entry && entry.workspaceId === workspaceId) {
      entry.controller.abort(this.shuttingDown && reason === 'disconnect' ? 'shutdown' : reason);
      return true;
    }
    return this.options.store.runs.requestCancel(workspaceId, runId, this.now());
  }

  /**
   * Delivers the events of a run after `afterIndex`, then its live events until it ends: from the
   * channel while this process runs it, else from the events table (polling while another process
   * still runs it). Returns the unsubscribe function.
   */
  async replay(workspaceId: string, runId: string, afterIndex: number, subscriber: RunSubscriber): Promise<() => void> {
    const entry = this.active.get(runId);
    if (entry && entry.workspaceId === workspaceId) return entry.channel.subscribe(afterIndex, subscriber);
    const { store } = this.options;
    const run = await store.runs.get(workspaceId, runId);
    if (!run) throw new NotFoundError('Run not found');
    let last = afterIndex;
    let stopped = false;
    const deliver = async () => {
      for (const stored of await store.runEvents.list(runId, { afterIndex: last })) {
        if (stopped) return;
        subscriber.onEvent(stored.payload as RunEvent);
        last = stored.eventIndex;
      }
    };
    await deliver();
    const poll = async () => {
      while (!stopped) {
        const current = await store.runs.get(workspaceId, runId);
        await deliver();
        // Following stops once the run no longer executes (finished, paused, or gone).
        if (current?.status !== 'pending' && current?.status !== 'running') break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      if (!stopped) subscriber.onEnd();
    };
    poll().catch((error: unknown) => {
      // A store error while following another process's run ends this stream, never the process.
      this.options.logger.warn({ err: error, run_id: runId }, 'replaying run events failed');
      if (!stopped) subscriber.onEnd();
    });
    return () => {
      stopped = true;
    };
  }

  /**
   * Marks runs whose owner is gone as `error` with a closing `RunError` event: the owner's process no
   * longer exists on this host, or its lease has not been renewed within `staleAfterMs`.
   */
  async recover(): Promise<number> {
    const { store, logger } = this.options;
    const staleBefore = this.now() - (this.options.staleAfterMs ?? 30_000);
    const host = hostname();
    let recovered = 0;
    for (const run of await store.runs.listUnfinished()) {
      if (run.owner === this.instanceId) continue;
      const owner = run.owner ? parseOwner(run.owner) : undefined;
      const dead =
        (owner !== undefined && owner.host === host && !processAlive(owner.pid)) ||
        (run.heartbeatAt ?? run.updatedAt) < staleBefore;
      if (!dead) continue;
      const message = 'Run interrupted: the process running it stopped before it finished';
      const marked = await store.runs.transition(run.workspaceId, run.runId, ['pending', 'running'], {
        status: 'error',
        error: message,
      });
      if (!marked) continue;
      const index = (await store.runEvents.lastIndex(run.runId)) + 1;
      const payload = {
        event: 'RunError',
        event_index: index,
        run_id: run.runId,
        session_id: run.sessionId,
        agent_id: run.componentId,
        created_at: new Date(this.now()).toISOString(),
        content: message,
        error_type: 'Interrupted',
      };
      await store.runEvents.append(run.runId, [{ eventIndex: index, event: 'RunError', payload }]).catch(() => {});
      recovered++;
    }
    if (recovered > 0) logger.warn({ recovered }, 'marked interrupted runs as error');
    return recovered;
  }

  /**
   * Starts lease renewal and cross-process cancel polling for this process's runs, and, with
   * `sweep`, the sweep that marks other processes' dead runs. Every process that runs agents renews
   * its leases (else a server would judge its runs dead); only servers sweep.
   */
  startBackgroundWork(options: { sweep: boolean } = { sweep: true }): void {
    if (this.timer) return;
    const tick = async () => {
      const { store } = this.options;
      if (this.active.size > 0) {
        await store.runs.heartbeat(this.instanceId, this.now());
        for (const runId of await store.runs.listCancelRequested(this.instanceId)) {
          this.active.get(runId)?.controller.abort('cancel');
        }
      }
      if (options.sweep) await this.recover();
    };
    this.timer = setInterval(() => {
      tick().catch((error: unknown) => this.options.logger.error({ err: error }, 'run lease upkeep failed'));
    }, this.options.heartbeatMs ?? 5_000);
    this.timer.unref();
  }

  /**
   * Lets active runs finish for up to `timeoutMs`, then stops the rest; each ends as `error` with
   * a `RunError` saying the server shut down, so no run is left `running`.
   */
  async shutdown(timeoutMs: number): Promise<void> {
    this.shuttingDown = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const pending = [...this.active.values()].map((entry) => entry.done);
    if (pending.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled(pending),
      new Promise((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    for (const entry of this.active.values()) entry.controller.abort('shutdown');
    await Promise.allSettled([...this.active.values()].map((entry) => entry.done));
  }
}
