/**
 * The team leader: its instructions, one stretch of its loop (with the members' delegation tools), and,
 * when a member pauses inside a delegation, the leader's paused turn rebuilt from its events.
 * @module
 */
import type { ModelMessage } from 'ai';
import type { TeamConfig } from '../../config/index.js';
import type { RunEventInput } from '../../events/index.js';
import type { RunStatus } from '../../store/types.js';
import type { ComponentRunDeps } from '../component-run.js';
import type { MemberResponse } from './member-run.js';
import { delegationResult, delegationTools } from './team-delegation.js';
import {
  emitEnd,
  type LeaderCall,
  type LeaderInput,
  leaderEmitter,
  listed,
  memberScope,
  pausedMembers,
  pausedOutcome,
  type RunMember,
  type TeamLevel,
  type TeamOutcome,
  type TeamPause,
} from './team-level.js';

const LEADER_STEPS = { coordinate: 10, route: 1, collaborate: 1 } as const;

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

/**
 * One stretch of the leader's loop, fresh or resumed after members finished. A member that pauses
 * inside a delegation stops the leader (its own abort, not the run's); the other delegations of that
 * turn finish, and the turn, rebuilt from the leader's events, is kept to be answered on continue.
 */
export async function leaderTurn(
  deps: ComponentRunDeps,
  runMember: RunMember,
  team: TeamConfig,
  level: TeamLevel,
  input: LeaderInput,
): Promise<TeamOutcome> {
  const { config, models } = deps;
  const modelId = team.model ?? config.models.default;
  const { memberResponses } = input;
  const scope = memberScope(level);
  const emitLeader = leaderEmitter(level);
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
    const response = await runMember(memberId, task, scope);
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
  const tools = delegationTools(
    team,
    input.original,
    (memberId, task, toolCallId) => tracked(delegate(memberId, task, toolCallId)),
    (response) => {
      routed = response;
    },
  );

  let outcome: TeamOutcome;
  try {
    const model = await models.languageModel(modelId);
    const { runAgent } = await import('../agent/agent-runner.js');
    const result = await runAgent({
      runId: level.runId,
      sessionId: level.sessionId,
      userId: level.userId,
      agentName: team.name ?? team.id,
      instructions: leaderInstructions(deps, team),
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
    await deps.runs.recordUsage({ ...leaderUsage, principal: level.principal });
    if (pausedCalls.size > 0 && !level.abortSignal.aborted) {
      return pauseLeader(level, team, input, turns, { pausedCalls, answered, modelId });
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
  emitEnd(level, outcome);
  return outcome;
}

/** Keeps the leader's conversation up to the turn whose delegations wait on paused members. */
function pauseLeader(
  level: TeamLevel,
  team: TeamConfig,
  input: LeaderInput,
  turns: readonly { text: string; calls: LeaderCall[] }[],
  state: { pausedCalls: Map<string, MemberResponse>; answered: Map<string, string>; modelId: string },
): TeamOutcome {
  const emitLeader = leaderEmitter(level);
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
  return pausedOutcome(level, pause, paused, input.memberResponses, state.modelId);
}
