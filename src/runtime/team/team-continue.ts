/**
 * Continuing a paused team run (issue 8): the paused members finish with the human's decisions (each
 * gets the requirements of its own calls), then the leader answers its paused turn, in any process.
 * @module
 */
import type { ModelMessage } from 'ai';
import type { AgentConfig, TeamConfig } from '../../config/index.js';
import { AgentOsError } from '../../errors/index.js';
import type { RunRecord, RunStatus } from '../../store/types.js';
import { assertMayRunReferences, memberReferences } from '../component-definitions.js';
import { type ComponentRunDeps, launchComponentRun } from '../component-run.js';
import { decidedTools } from '../hitl/decisions.js';
import { pausedStateOf } from '../hitl/pause.js';
import type { ToolDecision } from '../hitl/types.js';
import type { ContinueRunRequest, RunHandle } from '../run-manager.js';
import { continueMemberAgent, type MemberResponse } from './member-run.js';
import { collaborateMessage, delegationResult } from './team-delegation.js';
import { leaderTurn } from './team-leader.js';
import {
  emitEnd,
  type LeaderCall,
  leaderEmitter,
  listed,
  memberScope,
  pausedMembers,
  pausedOutcome,
  type RunMember,
  resultOf,
  type TeamLevel,
  type TeamOutcome,
  type TeamPause,
  teamPauseOf,
  topLevel,
} from './team-level.js';
import { resolveTeam } from './team-resolve.js';

/**
 * Continues a paused team run with settled decisions, in this process whichever process paused it:
 * claims the run from `paused` (409 when another continue won), emits `TeamRunContinued`, finishes
 * the paused members, then the leader. The team may pause again.
 */
export async function continueTeamRun(
  deps: ComponentRunDeps,
  runMember: RunMember,
  request: ContinueRunRequest,
): Promise<RunHandle> {
  const { run, decisions } = request;
  const pause = teamPauseOf(run);
  if (run.status !== 'paused' || !pause) {
    throw new AgentOsError('AOS_RUN_INVALID_TRANSITION', 'Run is not paused (already continued or ended)');
  }
  const version = typeof run.input.version === 'number' ? run.input.version : undefined;
  const { team, source } = await resolveTeam(deps, run.workspaceId, run.componentId, version);
  // The caller who continues must be able to run the members as much as the one who started.
  if (source === 'component') {
    assertMayRunReferences(memberReferences(team, deps.config), request.mayRun, `team ${team.id}`);
  }
  return launchComponentRun(
    deps,
    {
      workspaceId: run.workspaceId,
      componentType: 'team',
      componentId: team.id,
      fields: { team_id: team.id, team_name: team.name ?? team.id },
      input: run.input,
      existing: { run, from: ['paused'] },
    },
    async (context) => {
      const outcome = await continueLevel(deps, runMember, team, run, pause, decisions, topLevel(deps, team, context));
      return resultOf(outcome, context);
    },
  );
}

/** A member agent of the config, else a database agent of the workspace; null when gone. */
async function memberAgent(deps: ComponentRunDeps, workspaceId: string, agentId: string): Promise<AgentConfig | null> {
  const configured = deps.config.agents.find((candidate) => candidate.id === agentId);
  if (configured) return configured;
  return deps.runs.resolveAgent(workspaceId, agentId).catch(() => null);
}

/** Finishes the paused members of `run` with `decisions`, then the leader's part. */
async function continueLevel(
  deps: ComponentRunDeps,
  runMember: RunMember,
  team: TeamConfig,
  run: RunRecord,
  pause: TeamPause,
  decisions: readonly ToolDecision[],
  level: TeamLevel,
): Promise<TeamOutcome> {
  const { store, config } = deps;
  const requirements = pausedStateOf(run)?.requirements ?? [];
  const memberRunOf = (decision: ToolDecision) =>
    requirements.find((requirement) => requirement.tool_execution.tool_call_id === decision.tool.tool_call_id)
      ?.member_run_id;
  level.emit({ event: 'TeamRunContinued', tools: decidedTools(decisions), requirements });
  const scope = memberScope(level);
  const continued = await Promise.all(
    pause.paused_members.map(async (paused): Promise<MemberResponse> => {
      const agent = await memberAgent(deps, level.workspaceId, paused.agent_id);
      const memberRun = await store.runs.get(level.workspaceId, paused.member_run_id);
      if (!agent || !memberRun) {
        const error = `Member ${paused.agent_id} or its run no longer exists`;
        const name = paused.agent_id;
        return { run_id: paused.member_run_id, agent_id: name, name, status: 'error', content: '', error };
      }
      const own = decisions.filter((decision) => memberRunOf(decision) === paused.member_run_id);
      return continueMemberAgent(deps, scope, agent, memberRun, own);
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
      return pausedOutcome(level, again, stillPaused, answers, modelId);
    }
    return leaderTurn(deps, runMember, team, level, {
      history: pause.leader.messages,
      message: collaborateMessage(pause.message, answers),
      messageInHistory: false,
      original: pause.message,
      extraInstructions: extra,
      memberResponses: answers,
    });
  }

  const memberResponses = [...pause.member_responses];
  const leaderEmit = leaderEmitter(level);
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
    return pausedOutcome(level, again, stillPaused, memberResponses, modelId);
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
    emitEnd(level, outcome);
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
  return leaderTurn(deps, runMember, team, level, {
    history: [...pause.leader.messages, toolMessage],
    message: pause.message,
    messageInHistory: true,
    original: pause.message,
    extraInstructions: extra,
    memberResponses,
  });
}
