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
import { AgentOsError, ConflictError, NotFoundError } from '../errors/index.js';
import type { RunEvent } from '../events/index.js';
import type { Logger } from '../logging/logger.js';
import type { MemoryService, RecallResult } from '../memory/memory-service.js';
import type { ModelRegistry } from '../models/registry.js';
import { type AgentRunInfo, type Observability, runOutcome } from '../observability/index.js';
import type { QuotaService } from '../quotas/index.js';
import type {
  RunCreate,
  RunEventAppend,
  RunRecord,
  RunStatus,
  SessionCreate,
  SessionRecord,
  Store,
} from '../store/types.js';
import type { UsageIncrement } from '../store/usage-types.js';
import type { RuntimeAgent } from './agent/context.js';
import { trailingToolResults } from './agent/messages.js';
import { EventWriter } from './event-writer.js';
import { applyDecisions, decidedTools } from './hitl/decisions.js';
import { cancelPausedRun, type HitlHooks, openPause } from './hitl/pause.js';
import type { PausedToolExecution, ToolDecision } from './hitl/types.js';
import { newRunId, newSessionId } from './ids.js';
import { RunChannel, type RunSubscriber } from './run-channel.js';
import { RunFollower } from './run-follower.js';
import { canTransition } from './run-status.js';
import { knowledgeReferences } from './tools/knowledge-search.js';
import type { ToolDefinition } from './tools/types.js';

/** Why an active run is being stopped. */
export type AbortReason = 'cancel' | 'disconnect' | 'shutdown';

/** How a run ended: the status to store and the fields that go with it. */
export interface RunEnding {
  status: RunStatus;
  patch: Parameters<Store['runs']['update']>[2];
}

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
  /** The span this run's trace hangs under (the context `observability.withSpan` hands its callback). */
  traceParent?: AgentRunInfo['parent'];
  /** An existing or new session id; a new id is generated when absent. */
  sessionId?: string | undefined;
  userId?: string | null | undefined;
  /** Who asked (API key id, config key name, JWT `sub`): the run's usage counts against that caller's budget. */
  principal?: string | undefined;
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
  /** Runs this agent instead of looking `agentId` up (a raw `provider:model` on `/v1`). */
  agent?: RuntimeAgent | undefined;
  /** `history` already ends with the turn to answer (tool results); no user message is added. */
  messageInHistory?: boolean | undefined;
  /** Tools the caller executes itself (OpenAI client-side tools); a call to one ends the run. */
  clientTools?: readonly { name: string; description?: string | undefined; parameters: Record<string, unknown> }[];
  toolChoice?: 'auto' | 'none' | 'required' | { type: 'tool'; toolName: string } | undefined;
  /**
   * The caller only waits for the final record (a blocking request): the model is called without
   * streaming, and the run's events come as each step answers (see `AgentRunInput.blocking`).
   */
  blocking?: boolean | undefined;
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
  /** Agents defined outside the config (the database, `src/agents/`), consulted after the config. */
  resolveAgent?: (workspaceId: string, agentId: string, version?: number) => Promise<RuntimeAgent | null>;
  /** Recall before and memory updates after runs of `memory: true` agents (`src/memory`). */
  memory?: Pick<MemoryService, 'recall' | 'updateAfterRun'> | undefined;
  /** Opens and closes approvals of paused runs (`src/approvals`); without it pauses open none. */
  hitl?: HitlHooks;
  logger: Logger;
  /** Traces and counts each run (issue 10); absent in tools that need neither. */
  observability?: Pick<Observability, 'startAgentRun'> | undefined;
  /** Daily budgets (issue 5): checked before a run starts, usage added after it ends. */
  quotas?: Pick<QuotaService, 'checkAgent' | 'checkKey' | 'increment' | 'add'> | undefined;
  /** This process's lease owner id; defaults to `host:pid:nonce`. */
  instanceId?: string;
  heartbeatMs?: number;
  /** A lease not renewed for this long is considered dead. */
  staleAfterMs?: number;
  now?: () => number;
}

/** A run executing in this process, as cancel, replay and shutdown reach it. */
export interface ActiveRun {
  workspaceId: string;
  channel: RunChannel;
  controller: AbortController;
  done: Promise<RunRecord>;
}

/**
 * Takes over an interrupted run of one component type (workflows resume from their checkpoints);
 * resolves `true` when it did, `false` to let the run be marked `error` like any other.
 */
export type RunResumer = (run: RunRecord) => Promise<boolean>;

/** What continues a paused run: the run, the settled decisions, and what the continuing caller may run. */
export interface ContinueRunRequest {
  run: RunRecord;
  decisions: ToolDecision[];
  /**
   * Whether the continuing caller may run an agent or team: a team component goes on only when its
   * caller may still run every member (absent: refused, fail closed). Agent runs do not use it.
   */
  mayRun?: ((resource: 'agents' | 'teams', id: string) => boolean) | undefined;
}

/** Continues a paused run of another runner (a team) with settled decisions; see {@link RunManager.continueRun}. */
export type RunContinuer = (request: ContinueRunRequest) => Promise<RunHandle>;

/** Who started a run (`input.principal`, kept at start), for usage accounting on continue and resume. */
export function principalOfRun(run: RunRecord): string | undefined {
  const principal = run.input.principal;
  return typeof principal === 'string' ? principal : undefined;
}

/**
 * A session keeps to one user: another user's session is reported as missing, not shared. A pinned
 * caller (user isolation) may not join a session without a user either.
 */
export function assertSessionUser(
  session: SessionRecord,
  request: { userId?: string | null | undefined; userPinned?: boolean | undefined },
): void {
  const requested = request.userId ?? null;
  const allowed = request.userPinned
    ? session.userId === requested
    : session.userId === null || requested === null || session.userId === requested;
  if (!allowed) throw new NotFoundError('Session not found');
}

/** Events after which a run's stream has nothing more to say (agent, team and workflow forms). */
function isClosingEvent(event: string): boolean {
  return /^(Team)?Run(Completed|Error|Paused|Cancelled)$|^Workflow(Completed|Error|Paused|Cancelled)$/.test(event);
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
  /** Follows runs of other processes (signals from the store where it can push, else polling). */
  private readonly follower: RunFollower;
  /** Stops listening for cancels pushed by other processes. */
  private stopSignals: (() => void) | undefined;
  /** Once set, a client disconnect is the server's doing (connections are being closed), not the client's. */
  private shuttingDown = false;

  constructor(options: RunManagerOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
    this.instanceId = options.instanceId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.follower = new RunFollower(options.store.runSignals);
  }

  /**
   * The one agent lookup of every surface: the config first, then the database (workspace-scoped), else
   * `AOS_NOT_FOUND`. A `version` selects a config version of a component (config agents have none).
   */
  async resolveAgent(workspaceId: string, agentId: string, version?: number): Promise<RuntimeAgent> {
    const configured = this.options.config.agents.find((candidate) => candidate.id === agentId);
    if (configured && version !== undefined) {
      throw new AgentOsError('AOS_BAD_REQUEST', `Agent ${agentId} is defined in the config and has no versions`);
    }
    if (configured) return configured;
    const stored = await this.options.resolveAgent?.(workspaceId, agentId, version);
    if (!stored) throw new NotFoundError('Agent not found');
    return stored;
  }

  /** Number of runs executing in this process. */
  get activeCount(): number {
    return this.active.size;
  }

  private readonly resumers = new Map<string, RunResumer>();

  /**
   * Registers a run executed by another runner (teams, workflows: `runtime/team`, `runtime/workflow`)
   * so cancel, replay, lease upkeep and shutdown reach it like an agent run; it is dropped once `done` settles.
   */
  track(runId: string, entry: ActiveRun): void {
    this.active.set(runId, entry);
    entry.done.then(
      () => this.active.delete(runId),
      () => this.active.delete(runId),
    );
  }

  private readonly continuers = new Map<string, RunContinuer>();

  /** The approvals hooks, for runners that pause runs of their own (teams). */
  get hitl(): HitlHooks | undefined {
    return this.options.hitl;
  }

  /** Makes {@link continueRun} hand paused runs of `componentType` to `continuer` (teams: `runtime/team`). */
  registerContinuer(componentType: 'team' | 'workflow', continuer: RunContinuer): void {
    this.continuers.set(componentType, continuer);
  }

  /** Makes {@link recover} hand interrupted runs of `componentType` to `resumer` before marking them `error`. */
  registerResumer(componentType: 'team' | 'workflow', resumer: RunResumer): void {
    this.resumers.set(componentType, resumer);
  }

  /** Creates the run (and its session when new) and starts it off the caller's stack. */
  async start(request: StartRunRequest): Promise<RunHandle> {
    const agent = request.agent ?? (await this.resolveAgent(request.workspaceId, request.agentId));
    // Before anything is created: a used-up budget refuses the run (429 AOS_QUOTA_EXCEEDED).
    await this.checkAgentQuota(request.workspaceId, agent.id);
    await this.checkCallerQuota(request.principal);
    const { store } = this.options;
    const { sessionId, newSession } = await this.resolveSession(request, agent);
    const runId = newRunId();
    // Created `running`: it starts right away in this process, which holds its lease from now on.
    const isNew = await this.createRun(request, newSession, {
      runId,
      sessionId,
      workspaceId: request.workspaceId,
      componentType: 'agent',
      componentId: agent.id,
      userId: request.userId ?? null,
      // The starter is kept on the run, so a continue later counts against the same caller's budget.
      input: { message: request.message, ...(request.principal === undefined ? {} : { principal: request.principal }) },
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

  /**
   * Continues a paused agent run with settled decisions (`runtime/hitl/continue.ts` settles them), in
   * this process whichever process paused it: claims the run by compare-and-set from `paused` (409
   * when another continue won), then carries its event sequence on with `RunContinued`.
   */
  async continueRun(request: ContinueRunRequest): Promise<RunHandle> {
    const { run, decisions } = request;
    const { store } = this.options;
    if (run.componentType !== 'agent') {
      const continuer = this.continuers.get(run.componentType);
      if (!continuer)
        throw new AgentOsError('AOS_RUN_INVALID_TRANSITION', `A ${run.componentType} run cannot be continued`);
      return continuer(request);
    }
    const agent = await this.resolveAgent(run.workspaceId, run.componentId);
    const principal = principalOfRun(run);
    await this.checkCallerQuota(principal);
    const claimed = await store.runs.transition(run.workspaceId, run.runId, ['paused'], {
      status: 'running',
      owner: this.instanceId,
      heartbeatAt: this.now(),
      error: null,
    });
    if (!claimed)
      throw new AgentOsError('AOS_RUN_INVALID_TRANSITION', 'Run is not paused (already continued or ended)');
    const { runId, sessionId } = run;
    const nextIndex = (await store.runEvents.lastIndex(runId)) + 1;
    const channel = new RunChannel(
      { runId, sessionId, agentId: agent.id, agentName: agent.name ?? agent.id },
      nextIndex,
    );
    const writer = new EventWriter(runId, store.runEvents, (error) =>
      this.options.logger.error({ err: error, run_id: runId }, 'storing run events failed'),
    );
    channel.subscribe(nextIndex - 1, { onEvent: (event) => writer.push(event), onEnd: () => {} });
    const controller = new AbortController();
    const previous = (run.output as { tools?: PausedToolExecution[] }).tools ?? [];
    const decidedIds = new Set(decisions.map((decision) => decision.tool.tool_call_id));
    const resume = {
      decisions,
      messages: run.messages as ModelMessage[],
      tools: previous.filter((tool) => !decidedIds.has(tool.tool_call_id)),
    };
    const startRequest: StartRunRequest = {
      workspaceId: run.workspaceId,
      agentId: agent.id,
      message: String(run.input.message ?? ''),
      sessionId,
      userId: run.userId,
      principal,
    };
    const done = this.execute({
      request: startRequest,
      agent,
      runId,
      sessionId,
      newSession: false,
      channel,
      writer,
      controller,
      resume,
    });
    this.track(runId, { workspaceId: run.workspaceId, channel, controller, done });
    done.catch(() => {});
    return { runId, sessionId, channel, done };
  }

  /**
   * Ends a paused run without continuing it (`reason` becomes its error text and the `RunCancelled`
   * reason) and closes its pending approvals with `approvalStatus`. `null` when it was not paused.
   */
  async cancelPaused(
    run: RunRecord,
    reason: string,
    approvalStatus: 'cancelled' | 'expired' = 'cancelled',
  ): Promise<RunRecord | null> {
    const cancelled = await cancelPausedRun(this.options.store, run, reason, this.now);
    if (cancelled) await this.options.hitl?.onClosed(run.workspaceId, run.runId, approvalStatus);
    return cancelled;
  }

  /** The run's session: an existing one it may use, or the one to create with the run (`newSession`). */
  private async resolveSession(
    request: StartRunRequest,
    agent: AgentConfig,
  ): Promise<{ sessionId: string; newSession?: SessionCreate }> {
    const { store } = this.options;
    const sessionId = request.sessionId || newSessionId();
    // A generated id cannot exist yet, so only a named session is looked up.
    const existing = request.sessionId ? await store.sessions.get(request.workspaceId, sessionId) : null;
    if (existing) {
      assertSessionUser(existing, request);
      if (existing.sessionType !== 'agent' || existing.componentId !== agent.id) {
        throw new ConflictError(`Session ${sessionId} belongs to ${existing.sessionType} ${existing.componentId}`);
      }
      return { sessionId };
    }
    const newSession: SessionCreate = {
      sessionId,
      workspaceId: request.workspaceId,
      sessionType: 'agent',
      componentId: agent.id,
      userId: request.userId ?? null,
    };
    return { sessionId, newSession };
  }

  /**
   * Inserts the run, with its new session in the same transaction (one commit) when there is one;
   * `true` when that session was created here.
   */
  private async createRun(request: StartRunRequest, newSession: SessionCreate | undefined, run: RunCreate) {
    const { store } = this.options;
    if (!newSession) {
      await store.runs.create(run);
      return false;
    }
    try {
      await store.runs.create(run, { session: newSession });
      return true;
    } catch (error) {
      // Two first runs of one new session raced; the other created it, which is fine.
      if (!(error instanceof ConflictError)) throw error;
      const raced = await store.sessions.get(request.workspaceId, newSession.sessionId);
      if (!raced) throw error;
      assertSessionUser(raced, request);
    }
    await store.runs.create(run);
    return false;
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

  /** The user's relevant memories for a `memory: true` agent; a failed recall only costs the context. */
  private async recall(
    workspaceId: string,
    request: StartRunRequest,
    agent: AgentConfig,
    /** The run's trace: the recall's `embeddings` span nests under its agent span. */
    traced?: { readonly spanContext: NonNullable<AgentRunInfo['parent']> },
  ): Promise<RecallResult | undefined> {
    if (!agent.memory || !this.options.memory) return undefined;
    try {
      return await this.options.memory.recall({
        workspaceId,
        userId: request.userId ?? null,
        message: request.message,
        traceParent: traced?.spanContext,
      });
    } catch (error) {
      this.options.logger.warn({ err: error, agent: agent.id }, 'memory recall failed');
      return undefined;
    }
  }

  private async execute(context: {
    request: StartRunRequest;
    agent: RuntimeAgent;
    runId: string;
    sessionId: string;
    /** A session created for this run has no history to load. */
    newSession: boolean;
    channel: RunChannel;
    writer: EventWriter;
    controller: AbortController;
    /** Set when continuing a paused run: its conversation so far and the decisions to apply first. */
    resume?: { decisions: ToolDecision[]; messages: ModelMessage[]; tools: PausedToolExecution[] };
  }): Promise<RunRecord> {
    const { request, agent, runId, sessionId, newSession, channel, writer, controller } = context;
    const { config, logger } = this.options;
    const workspaceId = request.workspaceId;
    const modelId = agent.model ?? config.models.default;
    const provider = modelId.split(':')[0];
    let final: RunEnding;
    const traced = this.options.observability?.startAgentRun({
      ...{ workspaceId, runId, sessionId, modelId, message: request.message, agentId: agent.id },
      ...{ userId: request.userId ?? null, agentName: agent.name ?? agent.id, parent: request.traceParent },
    });
    try {
      const { resume } = context;
      if (resume) channel.emit({ event: 'RunContinued', tools: decidedTools(resume.decisions) });
      else channel.emit({ event: 'RunStarted', model: modelId, model_provider: provider });
      const [model, sessionHistory, recalled] = await Promise.all([
        this.options.models.languageModel(modelId),
        request.history
          ? Promise.resolve([...request.history])
          : newSession
            ? Promise.resolve([])
            : this.history(workspaceId, sessionId, agent),
        resume ? Promise.resolve(undefined) : this.recall(workspaceId, request, agent, traced),
      ]);
      const agentTools = this.options.tools(agent);
      // Continuing: the paused calls' results first, then the loop resumes right after them.
      const resumed = resume && [
        ...resume.messages,
        await applyDecisions({
          decisions: resume.decisions,
          tools: agentTools,
          emit: (event) => channel.emit(event),
          abortSignal: controller.signal,
          runId,
          sessionId,
          userId: request.userId ?? null,
        }),
      ];
      const history = resumed ? [...sessionHistory, ...resumed] : sessionHistory;
      const { runAgent } = await import('./agent/agent-runner.js');
      const result = await runAgent({
        runId,
        sessionId,
        workspaceId,
        userId: request.userId ?? null,
        agentName: agent.name ?? agent.id,
        instructions: agent.instructions,
        promptSections: agent.promptSections,
        model,
        modelId,
        tools: agentTools,
        history,
        message: request.message,
        messageInHistory: resumed ? true : request.messageInHistory,
        clientTools: request.clientTools,
        toolChoice: request.toolChoice,
        maxSteps: agent.max_steps,
        extraInstructions:
          [request.extraInstructions, recalled?.text]
            .filter((part) => part !== undefined && part !== '')
            .join('\n\n') || undefined,
        temperature: request.temperature ?? agent.temperature,
        maxOutputTokens: request.maxOutputTokens,
        abortSignal: controller.signal,
        blocking: request.blocking,
        emit: (event) => channel.emit(event),
        observer: traced,
      });
      if (resume && resumed) {
        result.messages = [...resumed, ...result.messages];
        result.tools = [...resume.tools, ...decidedTools(resume.decisions), ...result.tools];
      } else if (request.messageInHistory && request.history) {
        // Client-side tool results (OpenAI surface): recorded with the run, so session history stays well formed.
        result.messages = [...trailingToolResults(request.history), ...result.messages];
      }
      const references = knowledgeReferences(result.tools);
      const output = {
        tools: result.tools,
        ...(references.length > 0 ? { references } : {}),
        model: modelId,
        model_provider: provider,
        finish_reason: result.finishReason,
      };
      if (result.status === 'completed' && agent.memory && this.options.memory) {
        // Before RunCompleted, as Agno does: the update's events belong to the run's stream.
        await this.options.memory.updateAfterRun({
          workspaceId,
          sessionId,
          userId: request.userId ?? null,
          agentId: agent.id,
          model,
          modelId,
          messages: result.messages,
          emit: (event) => channel.emit(event),
          abortSignal: controller.signal,
        });
      }
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
      } else if (result.status === 'paused') {
        const paused = await openPause(this.options.hitl, {
          workspaceId,
          runId,
          sessionId,
          userId: request.userId ?? null,
          sourceType: 'agent',
          componentId: agent.id,
          componentName: agent.name ?? agent.id,
          pending: result.pending ?? [],
          tools: agentTools,
        });
        channel.emit({
          event: 'RunPaused',
          content: result.content,
          tools: paused.tools,
          requirements: paused.requirements,
        });
        final = {
          status: 'paused',
          patch: {
            content: result.content,
            messages: result.messages,
            metrics: { ...result.metrics },
            output: { ...output, paused },
          },
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
    const usage = { workspaceId, principal: request.principal, agentId: agent.id, modelId };
    try {
      const settled = await this.settle(workspaceId, runId, final, writer, (ending) =>
        this.usageIncrement({ ...usage, metrics: ending.patch.metrics }),
      );
      final = settled.final;
      return settled.record;
    } finally {
      traced?.end(runOutcome(final.status, final.patch));
      // Subscribers must see the end even if recording it failed; the lease sweep fixes the row later.
      channel.end();
    }
  }

  /**
   * Stores how a run ended: its last queued events, its final status and its usage (tokens for budgets and
   * `/api/costs`) in one transaction, one commit per run end (bench/runs: issue 4). Should that fail, the
   * usage is added alone, the events go the writer's usual way (retried when the database is busy), then the
   * status alone. A run whose events could not be stored ends `error`, since a replay would have a gap.
   * `usageOf` gives the usage of the ending finally stored. Used by agent runs and by team and workflow runs
   * (`component-run.ts`). Returns the row and the ending stored.
   */
  async settle(
    workspaceId: string,
    runId: string,
    ending: RunEnding,
    writer: EventWriter,
    usageOf?: (final: RunEnding) => UsageIncrement | undefined,
  ): Promise<{ record: RunRecord; final: RunEnding }> {
    let final = ending;
    const unstored = (error: unknown): RunEnding => ({
      status: 'error',
      patch: { ...final.patch, error: `Run events could not be stored: ${(error as Error)?.message ?? error}` },
    });
    let events: RunEventAppend[] = [];
    try {
      events = await writer.take();
    } catch (error) {
      final = unstored(error);
    }
    const usage = usageOf?.(final);
    try {
      return { record: await this.finish(workspaceId, runId, final, events, usage), final };
    } catch (error) {
      // Nothing was written: the usage on its own, the events the usual way, then the status.
      if (usage) await this.addUsage(usage);
      if (events.length === 0) throw error;
      writer.requeue(events);
      try {
        await writer.flush();
      } catch (flushError) {
        final = unstored(flushError);
      }
      return { record: await this.finish(workspaceId, runId, final), final };
    }
  }

  /**
   * What a run adds to the day's usage, from its `metrics`; `undefined` without quotas or tokens. Tokens
   * count against the caller who started the run.
   */
  usageIncrement(usage: {
    workspaceId: string;
    principal?: string | null | undefined;
    agentId: string;
    modelId: string;
    metrics: unknown;
  }): UsageIncrement | undefined {
    const { quotas } = this.options;
    const tokens = usage.metrics as { input_tokens?: unknown; output_tokens?: unknown } | undefined;
    const inputTokens = typeof tokens?.input_tokens === 'number' ? tokens.input_tokens : 0;
    const outputTokens = typeof tokens?.output_tokens === 'number' ? tokens.output_tokens : 0;
    if (!quotas || inputTokens + outputTokens === 0) return undefined;
    const { workspaceId, agentId, modelId } = usage;
    return quotas.increment({
      workspaceId,
      principal: usage.principal ?? null,
      agentId,
      modelId,
      inputTokens,
      outputTokens,
    });
  }

  /**
   * Adds a run's tokens (its `metrics`) to the day's usage before it is reported finished; used by team and
   * workflow runners for their members and leaders (agent runs add theirs as they settle).
   */
  async recordUsage(usage: Parameters<RunManager['usageIncrement']>[0]): Promise<void> {
    const increment = this.usageIncrement(usage);
    if (increment) await this.addUsage(increment);
  }

  /** A failure only logs: usage is accounting, not a reason to fail a run that already happened. */
  private async addUsage(increment: UsageIncrement): Promise<void> {
    await this.options.quotas?.add(increment).catch((error: unknown) => {
      this.options.logger.warn({ err: error, agent_id: increment.agentId }, 'recording usage failed');
    });
  }

  /** Throws `AOS_QUOTA_EXCEEDED` (429) when the caller's daily budget is used up; nothing for an unknown caller. */
  async checkCallerQuota(principal: string | undefined): Promise<void> {
    if (principal !== undefined) await this.options.quotas?.checkKey(principal);
  }

  /** Throws `AOS_QUOTA_EXCEEDED` (429) when the agent's daily budget in the workspace is used up. */
  async checkAgentQuota(workspaceId: string, agentId: string): Promise<void> {
    await this.options.quotas?.checkAgent(workspaceId, agentId);
  }

  private async finish(
    workspaceId: string,
    runId: string,
    final: RunEnding,
    events: RunEventAppend[] = [],
    usage?: UsageIncrement,
  ): Promise<RunRecord> {
    const { store } = this.options;
    const from: RunStatus[] = (['pending', 'running'] as RunStatus[]).filter((status) =>
      canTransition(status, final.status),
    );
    const record =
      (await store.runs.transition(
        workspaceId,
        runId,
        from,
        { ...final.patch, status: final.status },
        { events, ...(usage ? { usage } : {}) },
      )) ?? (await store.runs.get(workspaceId, runId));
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
    // A paused run executes nowhere: it is cancelled right here (and its approvals closed).
    const stored = await this.options.store.runs.get(workspaceId, runId);
    if (stored?.status === 'paused') {
      await this.cancelPaused(stored, ABORT_MESSAGES[reason]);
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
    let lastEvent = '';
    const deliver = async () => {
      for (const stored of await store.runEvents.list(runId, { afterIndex: last })) {
        if (stopped) return;
        subscriber.onEvent(stored.payload as RunEvent);
        last = stored.eventIndex;
        lastEvent = stored.event;
      }
    };
    // Watching starts before the first read, so a change signalled during a read is not slept through.
    const watch = this.follower.watch(runId);
    try {
      await deliver();
    } catch (error) {
      watch.close();
      throw error;
    }
    const poll = async () => {
      let closing = false;
      let graceReads = 1;
      while (!stopped) {
        const current = await store.runs.get(workspaceId, runId);
        const before = last;
        await deliver();
        if (last !== before) closing = isClosingEvent(lastEvent);
        // Following stops once the run no longer executes (finished, paused, or gone). A sweep that closes a
        // dead process's run writes the status before its RunError, so one more read waits for that event.
        if (current?.status !== 'pending' && current?.status !== 'running' && (closing || graceReads-- <= 0)) break;
        await watch.wait();
      }
      if (!stopped) subscriber.onEnd();
    };
    poll()
      .catch((error: unknown) => {
        // A store error while following another process's run ends this stream, never the process.
        this.options.logger.warn({ err: error, run_id: runId }, 'replaying run events failed');
        if (!stopped) subscriber.onEnd();
      })
      .finally(() => watch.close());
    return () => {
      stopped = true;
      watch.close();
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
      const resumer = this.resumers.get(run.componentType);
      if (resumer) {
        // Claimed by owner first: a resume moves `running` to `running`, which the status alone cannot
        // arbitrate, so of two replicas sweeping at once only the one that swapped the owner resumes the run.
        const claimed = await store.runs.transition(
          run.workspaceId,
          run.runId,
          ['pending', 'running'],
          { owner: this.instanceId, heartbeatAt: this.now() },
          { owner: run.owner },
        );
        if (!claimed) continue;
        if (await resumer(claimed).catch(() => false)) {
          recovered++;
          continue;
        }
      }
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
    const signals = this.options.store.runSignals;
    if (signals) {
      // A cancel recorded by another replica reaches the owner at once, not at the next tick (issue 12: ≤ 1 s).
      const stopCancel = signals.onCancelRequested((runId) => this.active.get(runId)?.controller.abort('cancel'));
      // Cancels pushed while the LISTEN connection was down are read from the rows.
      const stopResync = signals.onResync(() => {
        if (this.active.size === 0) return;
        this.options.store.runs
          .listCancelRequested(this.instanceId)
          .then((runIds) => {
            for (const runId of runIds) this.active.get(runId)?.controller.abort('cancel');
          })
          .catch((error: unknown) => this.options.logger.warn({ err: error }, 'reading cancel requests failed'));
      });
      this.stopSignals = () => {
        stopCancel();
        stopResync();
      };
    }
  }

  /**
   * Lets active runs finish for up to `timeoutMs`, then stops the rest; each ends as `error` with
   * a `RunError` saying the server shut down, so no run is left `running`.
   */
  async shutdown(timeoutMs: number): Promise<void> {
    this.shuttingDown = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.stopSignals?.();
    this.stopSignals = undefined;
    this.follower.close();
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
