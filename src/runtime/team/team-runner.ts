/**
 * Teams (research/agno.md §1.2, §2.3): a leader model and members that are agents or other teams.
 * - `coordinate`: the leader delegates through the `transfer_task_to_member` tool, as often as it
 *   likes, then writes the answer from the members' results.
 * - `route`: the leader picks one member with `route_to_member`; that member's answer is the team's.
 * - `collaborate`: every member answers the request (concurrently), then the leader merges the answers.
 * The leader speaks in `Team…` events (`role: "leader"`); member events are interleaved with their
 * `agent_id` (or `team_id`), `parent_run_id`, `member_run_id` and `role: "member"`. Every member call
 * is a child run stored with `parentRunId`; `TeamRunCompleted` lists them in `member_responses`.
 * A member of a top-level team that calls a human-in-the-loop tool pauses the team run (issue 8):
 * `TeamRunPaused` with the member's `tools` and `requirements` (naming the member), approvals opened
 * against the team run, and the leader's conversation stored in `output.team_pause`, so
 * {@link TeamRunner.continueRun} can finish the member and then the leader in any process.
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { ModelMessage } from 'ai';
import { z } from 'zod';
import type { AgentConfig, TeamConfig } from '../../config/index.js';
import { AgentOsError, NotFoundError } from '../../errors/index.js';
import type { RunEventInput, RunEventName, RunMetrics } from '../../events/index.js';
import type { RunRecord, RunStatus } from '../../store/types.js';
import {
  assertMayRunReferences,
  loadComponentVersion,
  memberReferences,
  teamOfComponent,
} from '../component-definitions.js';
import {
  abortReason,
  type ComponentRunDeps,
  type ExecutionContext,
  type ExecutionResult,
  launchComponentRun,
} from '../component-run.js';
import { decidedTools } from '../hitl/decisions.js';
import { pausedStateOf } from '../hitl/pause.js';
import type { PausedState, ToolDecision } from '../hitl/types.js';
import type { ContinueRunRequest, RunHandle } from '../run-manager.js';
import type { ToolDefinition } from '../tools/types.js';
import {
  continueMemberAgent,
  type MemberPauseTarget,
  type MemberResponse,
  type MemberScope,
  runMemberAgent,
} from './member-run.js';

/** What a caller asks for. */
export interface StartTeamRunRequest {
  workspaceId: string;
  teamId: string;
  message: string;
  /** Who asked, for usage accounting (quotas). */
  principal?: string | undefined;
  sessionId?: string | undefined;
  userId?: string | null | undefined;
  userPinned?: boolean | undefined;
  /** A config version of a team component (config teams have none). */
  version?: number | undefined;
  /**
   * The conversation before `message` (an OpenAI request's earlier turns); when given it replaces the
   * session's stored history for this run.
   */
  history?: ModelMessage[] | undefined;
  /** Appended to the leader's instructions for this run only (an OpenAI request's system messages). */
  extraInstructions?: string | undefined;
  /**
   * Whether the caller may run an agent or team: a team component runs only when its caller may run
   * every member (absent: refused, fail closed). Config teams are the operator's and are not checked.
   */
  mayRun?: ((resource: 'agents' | 'teams', id: string) => boolean) | undefined;
}

/** A team as a run resolves it: from the config, or a team component at one config version. */
export interface ResolvedTeam {
  team: TeamConfig;
  source: 'config' | 'component';
  /** The component config version (components only). */
  version?: number;
}

/** How one team level ended. */
export interface TeamOutcome {
  status: RunStatus;
  content: string;
  memberResponses: MemberResponse[];
  messages: ModelMessage[];
  metrics: RunMetrics | undefined;
  model: string;
  error?: string;
  /** With `paused`: the calls awaiting a human (every paused member's) and what continuing needs. */
  paused?: PausedState;
  pause?: TeamPause;
}

/** One tool call of the leader's last turn: answered (`result`) or waiting on a paused member. */
interface LeaderCall {
  tool_call_id: string;
  tool_name: string;
  tool_args: Record<string, unknown>;
  result?: string;
  member_run_id?: string;
}

/** What a paused team run keeps in `output.team_pause` (beside the human-facing `output.paused`). */
export interface TeamPause {
  mode: TeamConfig['mode'];
  /** The request the team was given. */
  message: string;
  /** The run's extra leader instructions (an OpenAI request's system messages), kept for the rest of the run. */
  extra_instructions?: string;
  /**
   * The leader's conversation so far. `coordinate` / `route`: it ends with the leader's turn whose
   * `calls` wait on members; `collaborate`: the team's history, the leader not yet asked.
   */
  leader: { messages: ModelMessage[]; calls: LeaderCall[] };
  /** Member calls so far; `collaborate` lists every member, the paused ones with status `paused`. */
  member_responses: MemberResponse[];
  paused_members: { member_run_id: string; agent_id: string }[];
}

/** The pause state of a paused team run, or undefined. */
export function teamPauseOf(run: RunRecord): TeamPause | undefined {
  return (run.output as { team_pause?: TeamPause }).team_pause;
}

/** A member response as `member_responses` shows it (without its paused state). */
function listed(response: MemberResponse): MemberResponse {
  const { paused: _paused, ...rest } = response;
  return rest;
}

/** Every paused member's calls in one paused state. */
function mergePaused(responses: readonly MemberResponse[]): PausedState {
  return {
    tools: responses.flatMap((response) => response.paused?.tools ?? []),
    requirements: responses.flatMap((response) => response.paused?.requirements ?? []),
  };
}

function pausedMembers(responses: readonly MemberResponse[]): TeamPause['paused_members'] {
  return responses.map((response) => ({ member_run_id: response.run_id, agent_id: response.agent_id ?? '' }));
}

function collaborateMessage(message: string, answers: readonly MemberResponse[]): string {
  return [
    `Request: ${message}`,
    ...answers.map(
      (answer) =>
        `Answer of ${answer.name}:\n${answer.status === 'completed' ? answer.content : `(failed: ${answer.error ?? 'error'})`}`,
    ),
  ].join('\n\n');
}

function delegationResult(response: MemberResponse): string {
  return response.status === 'completed' ? response.content : `Member failed: ${response.error ?? 'error'}`;
}

/** What one stretch of the leader's loop starts from. */
interface LeaderInput {
  history: ModelMessage[];
  message: string;
  messageInHistory: boolean;
  /** The request the team was given. */
  original: string;
  extraInstructions?: string | undefined;
  memberResponses: MemberResponse[];
}

/** Where a team level runs: its own run id, its event sink (stamping its own fields), the run's cancel signal. */
interface TeamLevel {
  workspaceId: string;
  sessionId: string;
  userId: string | null;
  principal?: string | undefined;
  runId: string;
  emit(event: RunEventInput): void;
  abortSignal: AbortSignal;
  /** Set on a top-level team run: its members may pause it. */
  pause?: MemberPauseTarget | undefined;
}

const LEADER_STEPS = { coordinate: 10, route: 1, collaborate: 1 } as const;

/** Agent event names the leader emits, in their `Team…` form. */
function leaderEventName(name: RunEventName): RunEventName {
  return /^(Run|ToolCall|ModelRequest)/.test(name) ? (`Team${name}` as RunEventName) : name;
}

function describeMembers(deps: ComponentRunDeps, team: TeamConfig): string {
  return team.members
    .map((id) => {
      const member =
        deps.config.agents.find((agent) => agent.id === id) ?? deps.config.teams.find((other) => other.id === id);
      const description = member?.description ? ` — ${member.description}` : '';
      return `- ${id}: ${member?.name ?? id}${description}`;
    })
    .join('\n');
}

function leaderInstructions(deps: ComponentRunDeps, team: TeamConfig): string {
  const own = Array.isArray(team.instructions) ? team.instructions.join('\n') : (team.instructions ?? '');
  const members = `Team members:\n${describeMembers(deps, team)}`;
  const how = {
    coordinate:
      'Delegate work to members with the transfer_task_to_member tool (member_id and task), then answer the user ' +
      'with a synthesis of their results.',
    route: 'Choose the single member best suited to the request and call route_to_member once with its member_id.',
    collaborate: 'Every member has answered the request. Merge their answers into one final answer.',
  }[team.mode];
  return [own, members, how].filter((part) => part !== '').join('\n\n');
}

/** Runs teams: starts top-level team runs and executes team levels (also nested and as workflow steps). */
export class TeamRunner {
  constructor(private readonly deps: ComponentRunDeps) {
    // A continue of a paused team run (approvals room -> run manager) lands here.
    deps.runs.registerContinuer('team', (request) => this.continueRun(request));
  }

  /** The configured team, or `AOS_NOT_FOUND`. */
  team(teamId: string): TeamConfig {
    const team = this.deps.config.teams.find((candidate) => candidate.id === teamId);
    if (!team) throw new NotFoundError('Team not found');
    return team;
  }

  /**
   * The team of the config, else the workspace's team component at `version` (else its current one);
   * `AOS_NOT_FOUND` when neither. A stored config that no longer validates is a 400 naming the problem.
   */
  async resolve(workspaceId: string, teamId: string, version?: number): Promise<ResolvedTeam> {
    const configured = this.deps.config.teams.find((candidate) => candidate.id === teamId);
    if (configured) {
      if (version !== undefined) {
        throw new AgentOsError('AOS_BAD_REQUEST', `Team ${teamId} is defined in the config and has no versions`);
      }
      return { team: configured, source: 'config' };
    }
    const stored = await loadComponentVersion(this.deps.store, workspaceId, 'team', teamId, version);
    if (!stored) throw new NotFoundError('Team not found');
    return {
      team: teamOfComponent(stored.component, stored.config.config),
      source: 'component',
      version: stored.config.version,
    };
  }

  /** Creates the team run (and its session when new) and starts it off the caller's stack. */
  async start(request: StartTeamRunRequest): Promise<RunHandle> {
    const { team, source, version } = await this.resolve(request.workspaceId, request.teamId, request.version);
    if (source === 'component') {
      assertMayRunReferences(memberReferences(team, this.deps.config), request.mayRun, `team ${team.id}`);
    }
    const conversation = { history: request.history, extraInstructions: request.extraInstructions };
    return launchComponentRun(
      this.deps,
      {
        workspaceId: request.workspaceId,
        componentType: 'team',
        componentId: team.id,
        fields: { team_id: team.id, team_name: team.name ?? team.id },
        input: { message: request.message, ...(version === undefined ? {} : { version }) },
        sessionId: request.sessionId,
        userId: request.userId,
        userPinned: request.userPinned,
        principal: request.principal,
      },
      (context) => this.execute(team, request.message, context, conversation),
    );
  }

  private async execute(
    team: TeamConfig,
    message: string,
    context: ExecutionContext,
    conversation: { history?: ModelMessage[] | undefined; extraInstructions?: string | undefined } = {},
  ): Promise<ExecutionResult> {
    const history = conversation.history ?? (context.newSession ? [] : await this.history(context, team));
    const level = this.topLevel(team, context);
    const outcome = await this.runLevel(team, message, level, history, conversation.extraInstructions);
    return this.resultOf(outcome, context);
  }

  /** A top-level team run's level: its members may pause it. */
  private topLevel(team: TeamConfig, context: ExecutionContext): TeamLevel {
    return {
      ...context,
      pause: {
        runId: context.runId,
        componentId: team.id,
        componentName: team.name ?? team.id,
        hooks: this.deps.runs.hitl,
      },
    };
  }

  private resultOf(outcome: TeamOutcome, context: ExecutionContext): ExecutionResult {
    const output = { member_responses: outcome.memberResponses.map(listed), model: outcome.model };
    const metrics = outcome.metrics ? { ...outcome.metrics } : {};
    if (outcome.status === 'cancelled' && abortReason(context.abortSignal) === 'shutdown') {
      return { status: 'error', patch: { content: outcome.content, error: 'The server shut down', output, metrics } };
    }
    if (outcome.status === 'paused') {
      const paused = { ...output, paused: outcome.paused, team_pause: outcome.pause };
      return { status: 'paused', patch: { content: outcome.content, metrics, output: paused } };
    }
    return {
      status: outcome.status,
      patch: {
        content: outcome.content,
        messages: outcome.messages,
        metrics,
        output,
        ...(outcome.error === undefined ? {} : { error: outcome.error }),
      },
    };
  }

  /**
   * Continues a paused team run with settled decisions, in this process whichever process paused it:
   * claims the run from `paused` (409 when another continue won), emits `TeamRunContinued`, finishes
   * the paused members, then the leader. The team may pause again.
   */
  async continueRun(request: ContinueRunRequest): Promise<RunHandle> {
    const { run, decisions } = request;
    const pause = teamPauseOf(run);
    if (run.status !== 'paused' || !pause) {
      throw new AgentOsError('AOS_RUN_INVALID_TRANSITION', 'Run is not paused (already continued or ended)');
    }
    const version = typeof run.input.version === 'number' ? run.input.version : undefined;
    const { team, source } = await this.resolve(run.workspaceId, run.componentId, version);
    // The caller who continues must be able to run the members as much as the one who started.
    if (source === 'component') {
      assertMayRunReferences(memberReferences(team, this.deps.config), request.mayRun, `team ${team.id}`);
    }
    return launchComponentRun(
      this.deps,
      {
        workspaceId: run.workspaceId,
        componentType: 'team',
        componentId: team.id,
        fields: { team_id: team.id, team_name: team.name ?? team.id },
        input: run.input,
        existing: { run, from: ['paused'] },
      },
      async (context) => {
        const outcome = await this.continueLevel(team, run, pause, decisions, this.topLevel(team, context));
        return this.resultOf(outcome, context);
      },
    );
  }

  /** A member agent of the config, else a database agent of the workspace; null when gone. */
  private async memberAgent(workspaceId: string, agentId: string): Promise<AgentConfig | null> {
    const configured = this.deps.config.agents.find((candidate) => candidate.id === agentId);
    if (configured) return configured;
    return this.deps.runs.resolveAgent(workspaceId, agentId).catch(() => null);
  }

  /** Finishes the paused members of `run` with `decisions`, then the leader's part. */
  private async continueLevel(
    team: TeamConfig,
    run: RunRecord,
    pause: TeamPause,
    decisions: readonly ToolDecision[],
    level: TeamLevel,
  ): Promise<TeamOutcome> {
    const { store, config } = this.deps;
    const requirements = pausedStateOf(run)?.requirements ?? [];
    const memberRunOf = (decision: ToolDecision) =>
      requirements.find((requirement) => requirement.tool_execution.tool_call_id === decision.tool.tool_call_id)
        ?.member_run_id;
    level.emit({ event: 'TeamRunContinued', tools: decidedTools(decisions), requirements });
    const scope = this.memberScope(level);
    const continued = await Promise.all(
      pause.paused_members.map(async (paused): Promise<MemberResponse> => {
        const agent = await this.memberAgent(level.workspaceId, paused.agent_id);
        const memberRun = await store.runs.get(level.workspaceId, paused.member_run_id);
        if (!agent || !memberRun) {
          const error = `Member ${paused.agent_id} or its run no longer exists`;
          const name = paused.agent_id;
          return { run_id: paused.member_run_id, agent_id: name, name, status: 'error', content: '', error };
        }
        const own = decisions.filter((decision) => memberRunOf(decision) === paused.member_run_id);
        return continueMemberAgent(this.deps, scope, agent, memberRun, own);
      }),
    );
    const byRun = new Map(continued.map((response) => [response.run_id, response]));
    const stillPaused = continued.filter((response) => response.status === 'paused');
    const modelId = team.model ?? config.models.default;
    const extra = pause.extra_instructions;

    if (team.mode === 'collaborate') {
      const answers = pause.member_responses.map((answer) => byRun.get(answer.run_id) ?? answer);
      if (stillPaused.length > 0) {
        const again = { ...pause, member_responses: answers.map(listed), paused_members: pausedMembers(stillPaused) };
        return this.pausedOutcome(level, again, stillPaused, answers, modelId);
      }
      return this.leaderTurn(team, level, {
        history: pause.leader.messages,
        message: collaborateMessage(pause.message, answers),
        messageInHistory: false,
        original: pause.message,
        extraInstructions: extra,
        memberResponses: answers,
      });
    }

    const memberResponses = [...pause.member_responses];
    const leaderEmit = this.leaderEmitter(level);
    const calls = pause.leader.calls.map((call): LeaderCall => {
      const response = call.member_run_id === undefined ? undefined : byRun.get(call.member_run_id);
      if (!response || response.status === 'paused') return call;
      memberResponses.push(response);
      const result = delegationResult(response);
      const { member_run_id: _member, ...tool } = call;
      leaderEmit({ event: 'ToolCallCompleted', tool: { ...tool, result }, content: result });
      return { ...tool, result };
    });
    if (stillPaused.length > 0) {
      const again: TeamPause = {
        ...pause,
        leader: { messages: pause.leader.messages, calls },
        member_responses: memberResponses.map(listed),
        paused_members: pausedMembers(stillPaused),
      };
      return this.pausedOutcome(level, again, stillPaused, memberResponses, modelId);
    }
    if (team.mode === 'route') {
      // The routed member answers the request; the leader only chose.
      const routed = pause.leader.calls
        .map((call) => (call.member_run_id === undefined ? undefined : byRun.get(call.member_run_id)))
        .find((response) => response !== undefined);
      const status: RunStatus = routed?.status === 'completed' ? 'completed' : 'error';
      const content = routed?.content ?? '';
      const outcome: TeamOutcome = {
        status,
        content,
        memberResponses,
        messages: [
          { role: 'user', content: pause.message },
          ...(content ? [{ role: 'assistant' as const, content }] : []),
        ],
        metrics: undefined,
        model: modelId,
        ...(status === 'error' ? { error: routed?.error ?? 'Team run failed' } : {}),
      };
      this.emitEnd(level, outcome);
      return outcome;
    }
    const toolMessage: ModelMessage = {
      role: 'tool',
      content: calls.map((call) => ({
        type: 'tool-result' as const,
        toolCallId: call.tool_call_id,
        toolName: call.tool_name,
        output: { type: 'text' as const, value: call.result ?? '' },
      })),
    };
    return this.leaderTurn(team, level, {
      history: [...pause.leader.messages, toolMessage],
      message: pause.message,
      messageInHistory: true,
      original: pause.message,
      extraInstructions: extra,
      memberResponses,
    });
  }

  private async history(context: ExecutionContext, team: TeamConfig): Promise<ModelMessage[]> {
    const page = await this.deps.store.runs.list({
      workspaceId: context.workspaceId,
      sessionId: context.sessionId,
      componentType: 'team',
      componentId: team.id,
      status: 'completed',
      order: 'desc',
      limit: 3,
    });
    return page.items.reverse().flatMap((run) => run.messages as ModelMessage[]);
  }

  /**
   * Runs one team level from `TeamRunStarted` to its closing event and returns what it produced.
   * Never throws for model or member failures.
   */
  async runLevel(
    team: TeamConfig,
    message: string,
    level: TeamLevel,
    history: readonly ModelMessage[] = [],
    extraInstructions?: string,
  ): Promise<TeamOutcome> {
    const modelId = team.model ?? this.deps.config.models.default;
    level.emit({ event: 'TeamRunStarted', model: modelId, model_provider: modelId.split(':')[0], mode: team.mode });
    const input = { original: message, extraInstructions, messageInHistory: false };
    if (team.mode !== 'collaborate') {
      return this.leaderTurn(team, level, { ...input, history: [...history], message, memberResponses: [] });
    }
    const scope = this.memberScope(level);
    const answers = await Promise.all(team.members.map((member) => this.runMember(member, message, scope)));
    const paused = answers.filter((answer) => answer.status === 'paused');
    if (paused.length > 0) {
      const pause: TeamPause = {
        mode: team.mode,
        message,
        ...(extraInstructions === undefined ? {} : { extra_instructions: extraInstructions }),
        leader: { messages: [...history], calls: [] },
        member_responses: answers.map(listed),
        paused_members: pausedMembers(paused),
      };
      return this.pausedOutcome(level, pause, paused, answers, modelId);
    }
    const merged = collaborateMessage(message, answers);
    return this.leaderTurn(team, level, { ...input, history: [...history], message: merged, memberResponses: answers });
  }

  private memberScope(level: TeamLevel): MemberScope {
    return { ...level, parentRunId: level.runId, role: 'member' };
  }

  private leaderEmitter(level: TeamLevel): (event: RunEventInput) => void {
    return (event) => level.emit({ ...event, event: leaderEventName(event.event), role: 'leader' });
  }

  /** Ends a level as paused at `paused` members: `TeamRunPaused` with their calls. */
  private pausedOutcome(
    level: TeamLevel,
    pause: TeamPause,
    paused: readonly MemberResponse[],
    memberResponses: readonly MemberResponse[],
    model: string,
  ): TeamOutcome {
    const outcome: TeamOutcome = {
      status: 'paused',
      content: '',
      memberResponses: memberResponses.map(listed),
      messages: [],
      metrics: undefined,
      model,
      paused: mergePaused(paused),
      pause,
    };
    this.emitEnd(level, outcome);
    return outcome;
  }

  /**
   * One stretch of the leader's loop, fresh or resumed after members finished. A member that pauses
   * inside a delegation stops the leader (its own abort, not the run's); the other delegations of that
   * turn finish, and the turn, rebuilt from the leader's events, is kept to be answered on continue.
   */
  private async leaderTurn(team: TeamConfig, level: TeamLevel, input: LeaderInput): Promise<TeamOutcome> {
    const { config, models } = this.deps;
    const modelId = team.model ?? config.models.default;
    const { memberResponses } = input;
    const scope = this.memberScope(level);
    const emitLeader = this.leaderEmitter(level);
    // The leader's turns as its events show them, to rebuild its conversation if a member pauses.
    const turns: { text: string; calls: LeaderCall[] }[] = [];
    const leaderController = new AbortController();
    const leaderEmit = (event: RunEventInput) => {
      // Once a member paused, the leader's stream is winding down: what it still says is not the run's.
      if (leaderController.signal.reason === 'member-paused') return;
      const turn = turns.at(-1);
      if (event.event === 'ModelRequestStarted') turns.push({ text: '', calls: [] });
      else if (event.event === 'RunContent' && turn) turn.text += String(event.content ?? '');
      else if (event.event === 'ToolCallStarted' && turn) {
        const tool = event.tool as LeaderCall;
        turn.calls.push({ tool_call_id: tool.tool_call_id, tool_name: tool.tool_name, tool_args: tool.tool_args });
      } else if ((event.event === 'ToolCallCompleted' || event.event === 'ToolCallError') && turn) {
        const tool = event.tool as LeaderCall;
        const call = turn.calls.find((candidate) => candidate.tool_call_id === tool.tool_call_id);
        if (call) call.result = String(event.content ?? event.error ?? '');
      }
      emitLeader(event);
    };
    const forward = () => leaderController.abort(level.abortSignal.reason);
    if (level.abortSignal.aborted) forward();
    else level.abortSignal.addEventListener('abort', forward, { once: true });
    const pausedCalls = new Map<string, MemberResponse>();
    const answered = new Map<string, string>();
    const inflight = new Set<Promise<unknown>>();
    let routed: MemberResponse | undefined;
    const delegate = async (memberId: string, task: string, toolCallId: string) => {
      const response = await this.runMember(memberId, task, scope);
      if (response.status === 'paused' && level.pause) {
        pausedCalls.set(toolCallId, response);
        leaderController.abort('member-paused');
        return undefined;
      }
      memberResponses.push(response);
      answered.set(toolCallId, delegationResult(response));
      return response;
    };
    const tracked = <T>(promise: Promise<T>): Promise<T> => {
      inflight.add(promise);
      return promise.finally(() => inflight.delete(promise));
    };
    const waiting = 'Paused: the member waits for a human decision';

    const tools: ToolDefinition[] = [];
    if (team.mode === 'coordinate') {
      tools.push({
        name: 'transfer_task_to_member',
        description: 'Give a task to one team member and get its answer back.',
        inputSchema: z.object({
          member_id: z.enum(team.members as [string, ...string[]]),
          task: z.string().describe('What the member should do, with the context it needs'),
        }),
        execute: async (args, context) => {
          const response = await tracked(delegate(String(args.member_id), String(args.task), context.toolCallId));
          return response ? delegationResult(response) : waiting;
        },
      });
    } else if (team.mode === 'route') {
      tools.push({
        name: 'route_to_member',
        description: 'Hand the request to the one member best suited to answer it; its answer goes to the user.',
        inputSchema: z.object({ member_id: z.enum(team.members as [string, ...string[]]) }),
        execute: async (args, context) => {
          const response = await tracked(delegate(String(args.member_id), input.original, context.toolCallId));
          if (response) routed = response;
          return response ? response.content : waiting;
        },
      });
    }

    let outcome: TeamOutcome;
    try {
      const model = await models.languageModel(modelId);
      const { runAgent } = await import('../agent/agent-runner.js');
      const result = await runAgent({
        runId: level.runId,
        sessionId: level.sessionId,
        userId: level.userId,
        agentName: team.name ?? team.id,
        instructions: leaderInstructions(this.deps, team),
        model,
        modelId,
        tools,
        history: input.history,
        message: input.message,
        messageInHistory: input.messageInHistory,
        extraInstructions: input.extraInstructions,
        maxSteps: LEADER_STEPS[team.mode],
        abortSignal: leaderController.signal,
        emit: leaderEmit,
      });
      // Delegations of a paused turn that are still running finish first; their answers are kept.
      await Promise.allSettled([...inflight]);
      // The leader's own tokens; each member records its own (member-run.ts).
      const leaderUsage = { workspaceId: level.workspaceId, agentId: team.id, modelId, metrics: result.metrics };
      await this.deps.runs.recordUsage({ ...leaderUsage, principal: level.principal });
      if (pausedCalls.size > 0 && !level.abortSignal.aborted) {
        return this.pauseLeader(level, team, input, turns, { pausedCalls, answered, modelId });
      }
      // A routed request is answered by its member; the leader only chose.
      const content = routed?.status === 'completed' ? routed.content : result.content;
      const status: RunStatus =
        (result.status === 'completed' && routed !== undefined && routed.status !== 'completed') ||
        result.status === 'paused'
          ? 'error'
          : result.status;
      const error = status === 'error' ? (result.error?.message ?? routed?.error ?? 'Team run failed') : undefined;
      outcome = {
        status,
        content,
        memberResponses,
        messages: [
          { role: 'user', content: input.original },
          ...(content ? [{ role: 'assistant' as const, content }] : []),
        ],
        metrics: result.metrics,
        model: modelId,
        ...(error === undefined ? {} : { error }),
      };
    } catch (error) {
      const text = error instanceof Error ? error.message : String(error);
      outcome = {
        status: 'error',
        content: '',
        memberResponses,
        messages: [],
        metrics: undefined,
        model: modelId,
        error: text,
      };
    } finally {
      level.abortSignal.removeEventListener('abort', forward);
    }
    this.emitEnd(level, outcome);
    return outcome;
  }

  /** Keeps the leader's conversation up to the turn whose delegations wait on paused members. */
  private pauseLeader(
    level: TeamLevel,
    team: TeamConfig,
    input: LeaderInput,
    turns: readonly { text: string; calls: LeaderCall[] }[],
    state: { pausedCalls: Map<string, MemberResponse>; answered: Map<string, string>; modelId: string },
  ): TeamOutcome {
    const emitLeader = this.leaderEmitter(level);
    const messages: ModelMessage[] = [
      ...input.history,
      ...(input.messageInHistory ? [] : [{ role: 'user' as const, content: input.message }]),
    ];
    const last = turns.findLast((turn) => turn.calls.some((call) => state.pausedCalls.has(call.tool_call_id)));
    for (const turn of turns) {
      messages.push({
        role: 'assistant',
        content: [
          ...(turn.text ? [{ type: 'text' as const, text: turn.text }] : []),
          ...turn.calls.map((call) => ({
            type: 'tool-call' as const,
            toolCallId: call.tool_call_id,
            toolName: call.tool_name,
            input: call.tool_args,
          })),
        ],
      });
      if (turn === last) break;
      messages.push({
        role: 'tool',
        content: turn.calls.map((call) => ({
          type: 'tool-result' as const,
          toolCallId: call.tool_call_id,
          toolName: call.tool_name,
          output: { type: 'text' as const, value: call.result ?? '' },
        })),
      });
    }
    const calls = (last?.calls ?? []).map((call): LeaderCall => {
      const paused = state.pausedCalls.get(call.tool_call_id);
      if (paused) return { ...call, member_run_id: paused.run_id };
      const answer = call.result ?? state.answered.get(call.tool_call_id) ?? '';
      // A delegation that finished after the leader stopped listening shows its completion now.
      if (call.result === undefined)
        emitLeader({ event: 'ToolCallCompleted', tool: { ...call, result: answer }, content: answer });
      return { ...call, result: answer };
    });
    const paused = [...state.pausedCalls.values()];
    const pause: TeamPause = {
      mode: team.mode,
      message: input.original,
      ...(input.extraInstructions === undefined ? {} : { extra_instructions: input.extraInstructions }),
      leader: { messages, calls },
      member_responses: input.memberResponses.map(listed),
      paused_members: pausedMembers(paused),
    };
    return this.pausedOutcome(level, pause, paused, input.memberResponses, state.modelId);
  }

  private emitEnd(level: TeamLevel, outcome: TeamOutcome): void {
    if (outcome.status === 'paused') {
      level.emit({
        event: 'TeamRunPaused',
        content: outcome.content,
        tools: outcome.paused?.tools ?? [],
        requirements: outcome.paused?.requirements ?? [],
        member_responses: outcome.memberResponses,
      });
    } else if (outcome.status === 'completed') {
      level.emit({
        event: 'TeamRunCompleted',
        content: outcome.content,
        content_type: 'str',
        metrics: outcome.metrics,
        member_responses: outcome.memberResponses.map(listed),
      });
    } else if (outcome.status === 'cancelled') {
      level.emit({ event: 'TeamRunCancelled', reason: 'Run cancelled' });
      level.emit({
        event: 'TeamRunCompleted',
        content: outcome.content,
        content_type: 'str',
        member_responses: outcome.memberResponses,
      });
    } else {
      level.emit({ event: 'TeamRunError', content: outcome.error ?? 'Team run failed', error_type: 'Error' });
    }
  }

  /**
   * Runs one member (an agent, or a team as a nested level) as a child run. A member that is neither a
   * config agent nor a config team is a database agent of the workspace (team components may name them).
   */
  async runMember(memberId: string, task: string, scope: MemberScope): Promise<MemberResponse> {
    const agent = this.deps.config.agents.find((candidate) => candidate.id === memberId);
    if (agent) return runMemberAgent(this.deps, scope, agent, task);
    const team = this.deps.config.teams.find((candidate) => candidate.id === memberId);
    if (team) return this.runNestedTeam(team, task, scope);
    return runMemberAgent(this.deps, scope, await this.deps.runs.resolveAgent(scope.workspaceId, memberId), task);
  }

  /** A team as a member or a workflow step: its own child run, its events stamped with its `team_id`. */
  async runNestedTeam(team: TeamConfig, task: string, scope: MemberScope): Promise<MemberResponse> {
    const { store, runs } = this.deps;
    const runId = randomUUID();
    const name = team.name ?? team.id;
    await store.runs.create({
      runId,
      sessionId: scope.sessionId,
      workspaceId: scope.workspaceId,
      componentType: 'team',
      componentId: team.id,
      parentRunId: scope.parentRunId,
      userId: scope.userId,
      input: { message: task },
      owner: runs.instanceId,
      status: 'running',
    });
    const stamp = {
      ...scope.fields,
      team_id: team.id,
      team_name: name,
      parent_run_id: scope.parentRunId,
      member_run_id: runId,
    };
    const level: TeamLevel = {
      workspaceId: scope.workspaceId,
      sessionId: scope.sessionId,
      userId: scope.userId,
      runId,
      abortSignal: scope.abortSignal,
      // Inner fields win: a member of the nested team keeps its own agent_id and parent_run_id.
      emit: (event) => scope.emit({ ...stamp, role: scope.role, ...event }),
    };
    const outcome = await this.runLevel(team, task, level);
    await store.runs.transition(scope.workspaceId, runId, ['running'], {
      status: outcome.status,
      content: outcome.content,
      messages: outcome.messages,
      metrics: outcome.metrics ? { ...outcome.metrics } : {},
      output: { member_responses: outcome.memberResponses, model: outcome.model },
      ...(outcome.error === undefined ? {} : { error: outcome.error }),
    });
    return {
      run_id: runId,
      team_id: team.id,
      name,
      status: outcome.status,
      content: outcome.content,
      ...(outcome.metrics ? { metrics: outcome.metrics } : {}),
      ...(outcome.error === undefined ? {} : { error: outcome.error }),
    };
  }
}
