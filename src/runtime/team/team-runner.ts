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
import type { ModelMessage } from 'ai';
import type { TeamConfig } from '../../config/index.js';
import { NotFoundError } from '../../errors/index.js';
import { assertMayRunReferences, memberReferences } from '../component-definitions.js';
import {
  type ComponentRunDeps,
  type ExecutionContext,
  type ExecutionResult,
  launchComponentRun,
} from '../component-run.js';
import { newRunId } from '../ids.js';
import type { ContinueRunRequest, RunHandle } from '../run-manager.js';
import { type MemberResponse, type MemberScope, runMemberAgent } from './member-run.js';
import { continueTeamRun } from './team-continue.js';
import { collaborateMessage } from './team-delegation.js';
import { leaderTurn } from './team-leader.js';
import {
  listed,
  memberScope,
  pausedMembers,
  pausedOutcome,
  type RunMember,
  resultOf,
  type TeamLevel,
  type TeamOutcome,
  type TeamPause,
  topLevel,
} from './team-level.js';
import { type ResolvedTeam, resolveTeam } from './team-resolve.js';

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

/** Runs teams: starts top-level team runs and executes team levels (also nested and as workflow steps). */
export class TeamRunner {
  /** Runs a member for the leader and the continue path: {@link TeamRunner.runMember}. */
  private readonly memberRunner: RunMember = (memberId, task, scope) => this.runMember(memberId, task, scope);

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
    return resolveTeam(this.deps, workspaceId, teamId, version);
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
    const level = topLevel(this.deps, team, context);
    const outcome = await this.runLevel(team, message, level, history, conversation.extraInstructions);
    return resultOf(outcome, context);
  }

  /**
   * Continues a paused team run with settled decisions, in this process whichever process paused it:
   * claims the run from `paused` (409 when another continue won), emits `TeamRunContinued`, finishes
   * the paused members, then the leader. The team may pause again.
   */
  async continueRun(request: ContinueRunRequest): Promise<RunHandle> {
    return continueTeamRun(this.deps, this.memberRunner, request);
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
      return leaderTurn(this.deps, this.memberRunner, team, level, {
        ...input,
        history: [...history],
        message,
        memberResponses: [],
      });
    }
    const scope = memberScope(level);
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
      return pausedOutcome(level, pause, paused, answers, modelId);
    }
    const merged = collaborateMessage(message, answers);
    return leaderTurn(this.deps, this.memberRunner, team, level, {
      ...input,
      history: [...history],
      message: merged,
      memberResponses: answers,
    });
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
    const runId = newRunId();
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
