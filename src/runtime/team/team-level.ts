/**
 * A team level's shapes and endings: where a level runs, how it ended ({@link TeamOutcome}), what a
 * paused team run keeps ({@link TeamPause}), and the closing events a level emits.
 * @module
 */
import type { ModelMessage } from 'ai';
import type { TeamConfig } from '../../config/index.js';
import type { RunEventInput, RunEventName, RunMetrics } from '../../events/index.js';
import type { RunRecord, RunStatus } from '../../store/types.js';
import { abortReason, type ComponentRunDeps, type ExecutionContext, type ExecutionResult } from '../component-run.js';
import type { PausedState } from '../hitl/types.js';
import type { MemberPauseTarget, MemberResponse, MemberScope } from './member-run.js';

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
export interface LeaderCall {
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
export function listed(response: MemberResponse): MemberResponse {
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

/** The paused members as `team_pause.paused_members` lists them. */
export function pausedMembers(responses: readonly MemberResponse[]): TeamPause['paused_members'] {
  return responses.map((response) => ({ member_run_id: response.run_id, agent_id: response.agent_id ?? '' }));
}

/** What one stretch of the leader's loop starts from. */
export interface LeaderInput {
  history: ModelMessage[];
  message: string;
  messageInHistory: boolean;
  /** The request the team was given. */
  original: string;
  extraInstructions?: string | undefined;
  memberResponses: MemberResponse[];
}

/** Where a team level runs: its own run id, its event sink (stamping its own fields), the run's cancel signal. */
export interface TeamLevel {
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

/** Runs one member (an agent, or a team as a nested level) as a child run (`TeamRunner.runMember`). */
export type RunMember = (memberId: string, task: string, scope: MemberScope) => Promise<MemberResponse>;

/** Agent event names the leader emits, in their `Team…` form. */
function leaderEventName(name: RunEventName): RunEventName {
  return /^(Run|ToolCall|ModelRequest)/.test(name) ? (`Team${name}` as RunEventName) : name;
}

/** A top-level team run's level: its members may pause it. */
export function topLevel(deps: ComponentRunDeps, team: TeamConfig, context: ExecutionContext): TeamLevel {
  return {
    ...context,
    pause: {
      runId: context.runId,
      componentId: team.id,
      componentName: team.name ?? team.id,
      hooks: deps.runs.hitl,
    },
  };
}

/** A top-level team run's result (its record's patch) from how its level ended. */
export function resultOf(outcome: TeamOutcome, context: ExecutionContext): ExecutionResult {
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

/** Where a level's members run: as its children, with `role: "member"`. */
export function memberScope(level: TeamLevel): MemberScope {
  return { ...level, parentRunId: level.runId, role: 'member' };
}

/** The level's event sink for the leader: agent events in their `Team…` form, with `role: "leader"`. */
export function leaderEmitter(level: TeamLevel): (event: RunEventInput) => void {
  return (event) => level.emit({ ...event, event: leaderEventName(event.event), role: 'leader' });
}

/** Ends a level as paused at `paused` members: `TeamRunPaused` with their calls. */
export function pausedOutcome(
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
  emitEnd(level, outcome);
  return outcome;
}

/** Emits a level's closing event for how it ended. */
export function emitEnd(level: TeamLevel, outcome: TeamOutcome): void {
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
