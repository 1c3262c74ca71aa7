/**
 * Teams (research/agno.md §1.2, §2.3): a leader model and members that are agents or other teams.
 * - `coordinate`: the leader delegates through the `transfer_task_to_member` tool, as often as it
 *   likes, then writes the answer from the members' results.
 * - `route`: the leader picks one member with `route_to_member`; that member's answer is the team's.
 * - `collaborate`: every member answers the request (concurrently), then the leader merges the answers.
 * The leader speaks in `Team…` events (`role: "leader"`); member events are interleaved with their
 * `agent_id` (or `team_id`), `parent_run_id`, `member_run_id` and `role: "member"`. Every member call
 * is a child run stored with `parentRunId`; `TeamRunCompleted` lists them in `member_responses`.
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { ModelMessage } from 'ai';
import { z } from 'zod';
import type { TeamConfig } from '../../config/index.js';
import { AgentOsError, NotFoundError } from '../../errors/index.js';
import type { RunEventInput, RunEventName, RunMetrics } from '../../events/index.js';
import type { RunStatus } from '../../store/types.js';
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
import type { RunHandle } from '../run-manager.js';
import type { ToolDefinition } from '../tools/types.js';
import { type MemberResponse, type MemberScope, runMemberAgent } from './member-run.js';

/** What a caller asks for. */
export interface StartTeamRunRequest {
  workspaceId: string;
  teamId: string;
  message: string;
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
}

/** Where a team level runs: its own run id, its event sink (stamping its own fields), the run's cancel signal. */
interface TeamLevel {
  workspaceId: string;
  sessionId: string;
  userId: string | null;
  runId: string;
  emit(event: RunEventInput): void;
  abortSignal: AbortSignal;
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
  constructor(private readonly deps: ComponentRunDeps) {}

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
    const level: TeamLevel = { ...context, runId: context.runId };
    const outcome = await this.runLevel(team, message, level, history, conversation.extraInstructions);
    const output = { member_responses: outcome.memberResponses, model: outcome.model };
    const metrics = outcome.metrics ? { ...outcome.metrics } : {};
    if (outcome.status === 'cancelled' && abortReason(context.abortSignal) === 'shutdown') {
      return { status: 'error', patch: { content: outcome.content, error: 'The server shut down', output, metrics } };
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
    const { config, models } = this.deps;
    const modelId = team.model ?? config.models.default;
    const provider = modelId.split(':')[0];
    const memberResponses: MemberResponse[] = [];
    const scope: MemberScope = { ...level, parentRunId: level.runId, role: 'member' };
    const leaderEmit = (event: RunEventInput) =>
      level.emit({ ...event, event: leaderEventName(event.event), role: 'leader' });
    level.emit({ event: 'TeamRunStarted', model: modelId, model_provider: provider, mode: team.mode });

    let leaderMessage = message;
    let routed: MemberResponse | undefined;
    const tools: ToolDefinition[] = [];
    if (team.mode === 'coordinate') {
      tools.push({
        name: 'transfer_task_to_member',
        description: 'Give a task to one team member and get its answer back.',
        inputSchema: z.object({
          member_id: z.enum(team.members as [string, ...string[]]),
          task: z.string().describe('What the member should do, with the context it needs'),
        }),
        execute: async (args) => {
          const response = await this.runMember(String(args.member_id), String(args.task), scope);
          memberResponses.push(response);
          return response.status === 'completed' ? response.content : `Member failed: ${response.error ?? 'error'}`;
        },
      });
    } else if (team.mode === 'route') {
      tools.push({
        name: 'route_to_member',
        description: 'Hand the request to the one member best suited to answer it; its answer goes to the user.',
        inputSchema: z.object({ member_id: z.enum(team.members as [string, ...string[]]) }),
        execute: async (args) => {
          routed = await this.runMember(String(args.member_id), message, scope);
          memberResponses.push(routed);
          return routed.content;
        },
      });
    } else {
      const answers = await Promise.all(team.members.map((member) => this.runMember(member, message, scope)));
      memberResponses.push(...answers);
      leaderMessage = [
        `Request: ${message}`,
        ...answers.map(
          (answer) =>
            `Answer of ${answer.name}:\n${answer.status === 'completed' ? answer.content : `(failed: ${answer.error ?? 'error'})`}`,
        ),
      ].join('\n\n');
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
        history,
        message: leaderMessage,
        extraInstructions,
        maxSteps: LEADER_STEPS[team.mode],
        abortSignal: level.abortSignal,
        emit: leaderEmit,
      });
      // A routed request is answered by its member; the leader only chose.
      const content = routed?.status === 'completed' ? routed.content : result.content;
      const status: RunStatus =
        result.status === 'completed' && routed !== undefined && routed.status !== 'completed'
          ? 'error'
          : result.status;
      const error = status === 'error' ? (result.error?.message ?? routed?.error ?? 'Team run failed') : undefined;
      outcome = {
        status,
        content,
        memberResponses,
        messages: [{ role: 'user', content: message }, ...(content ? [{ role: 'assistant' as const, content }] : [])],
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
    }
    this.emitEnd(level, outcome);
    return outcome;
  }

  private emitEnd(level: TeamLevel, outcome: TeamOutcome): void {
    if (outcome.status === 'completed') {
      level.emit({
        event: 'TeamRunCompleted',
        content: outcome.content,
        content_type: 'str',
        metrics: outcome.metrics,
        member_responses: outcome.memberResponses,
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
