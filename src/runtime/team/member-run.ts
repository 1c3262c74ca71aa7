/**
 * One agent run on behalf of a parent run (a team member, a workflow step): its own row in `runs`
 * with `parentRunId`, in the parent's session, while its events go into the parent's one sequence,
 * marked with the member's `agent_id`, the `parent_run_id`, its own `member_run_id` and a `role`, so a
 * client can always tell who speaks (Agno #8154: member output indistinguishable).
 * A member of a top-level team may pause at a human-in-the-loop tool (issue 8): its run is stored
 * `paused`, the approvals open against the team run, and {@link continueMemberAgent} finishes it.
 * @module
 */
import type { ModelMessage } from 'ai';
import type { AgentConfig } from '../../config/index.js';
import type { RunEventInput, RunMetrics, ToolExecution } from '../../events/index.js';
import type { RunRecord, RunStatus } from '../../store/types.js';
import type { RuntimeAgent } from '../agent/context.js';
import type { ComponentRunDeps } from '../component-run.js';
import { applyDecisions, decidedTools } from '../hitl/decisions.js';
import { type HitlHooks, openPause } from '../hitl/pause.js';
import type { PausedState, PausedToolExecution, ToolDecision } from '../hitl/types.js';
import { newRunId } from '../ids.js';

/** Where a member run sits: its parent run, the session and the parent's event sink. */
export interface MemberScope {
  workspaceId: string;
  sessionId: string;
  userId: string | null;
  /** Who started the top-level run, for usage accounting. */
  principal?: string | undefined;
  parentRunId: string;
  /** The parent's event sink (already stamping the parent's own fields). */
  emit(event: RunEventInput): void;
  abortSignal: AbortSignal;
  /** Extra fields for every event of the member (`step_name` for workflow steps). */
  fields?: Record<string, unknown>;
  /** `member` for team members, `step` for workflow steps. */
  role: 'member' | 'step';
  /**
   * Set where a member may pause (members of a top-level team): its approvals open against `runId`,
   * the run a human continues. Elsewhere a pause is a member error.
   */
  pause?: MemberPauseTarget | undefined;
}

/** The run a member's pause is continued through. */
export interface MemberPauseTarget {
  runId: string;
  componentId: string;
  componentName: string;
  hooks: HitlHooks | undefined;
}

/** What a member produced, as `member_responses` lists it. */
export interface MemberResponse {
  run_id: string;
  agent_id?: string;
  team_id?: string;
  name: string;
  status: RunStatus;
  content: string;
  error?: string;
  metrics?: RunMetrics | Record<string, unknown>;
  /** With `paused`: the calls awaiting a human, with approval ids and member fields. */
  paused?: PausedState;
}

/** Where a member's paused state is kept on its own row: not `output.paused`, so it is continued only through its team. */
interface MemberOutput {
  tools?: ToolExecution[];
  member_paused?: PausedState;
}

/** The paused state of a member run, or undefined. */
export function memberPausedState(run: RunRecord): PausedState | undefined {
  return (run.output as MemberOutput).member_paused;
}

function stampOf(scope: MemberScope, agent: AgentConfig, runId: string): Record<string, unknown> {
  return {
    ...scope.fields,
    agent_id: agent.id,
    agent_name: agent.name ?? agent.id,
    parent_run_id: scope.parentRunId,
    member_run_id: runId,
    role: scope.role,
  };
}

/**
 * What a member may get besides its message: the turns before it and extra system text (a workflow
 * started from an OpenAI conversation hands both to its agent steps).
 */
export interface MemberConversation {
  history?: readonly ModelMessage[] | undefined;
  extraInstructions?: string | undefined;
}

/** Runs `agent` on `message` as a child run of `scope.parentRunId`. Never throws for model failures. */
export async function runMemberAgent(
  deps: ComponentRunDeps,
  scope: MemberScope,
  agent: AgentConfig,
  message: string,
  conversation: MemberConversation = {},
): Promise<MemberResponse> {
  const { store, config, runs } = deps;
  const runId = newRunId();
  const modelId = agent.model ?? config.models.default;
  // A member whose agent's daily budget is used up does not start (AOS_QUOTA_EXCEEDED).
  await runs.checkAgentQuota(scope.workspaceId, agent.id);
  await store.runs.create({
    runId,
    sessionId: scope.sessionId,
    workspaceId: scope.workspaceId,
    componentType: 'agent',
    componentId: agent.id,
    parentRunId: scope.parentRunId,
    userId: scope.userId,
    input: { message },
    owner: runs.instanceId,
    status: 'running',
  });
  const stamp = stampOf(scope, agent, runId);
  scope.emit({ event: 'RunStarted', model: modelId, model_provider: modelId.split(':')[0], ...stamp });
  return driveMember(deps, scope, agent, runId, { message, conversation });
}

/**
 * Finishes a paused member run with settled decisions (the team's continue): claims it from `paused`,
 * emits `RunContinued`, applies the decisions and resumes the member's loop right after them. The
 * member may pause again.
 */
export async function continueMemberAgent(
  deps: ComponentRunDeps,
  scope: MemberScope,
  agent: AgentConfig,
  run: RunRecord,
  decisions: readonly ToolDecision[],
): Promise<MemberResponse> {
  const { store, runs } = deps;
  const name = agent.name ?? agent.id;
  // A fresh heartbeat: the paused row's is as old as the pause, and a lease sweep would take it for dead.
  const claimed = await store.runs.transition(scope.workspaceId, run.runId, ['paused'], {
    status: 'running',
    owner: runs.instanceId,
    heartbeatAt: (deps.now ?? Date.now)(),
    error: null,
  });
  if (!claimed) {
    const error = 'The member run is no longer paused';
    return { run_id: run.runId, agent_id: agent.id, name, status: 'error', content: '', error };
  }
  const stamp = stampOf(scope, agent, run.runId);
  const emit = (event: RunEventInput) => scope.emit({ ...event, ...stamp });
  emit({ event: 'RunContinued', tools: decidedTools(decisions) });
  const toolMessage = await applyDecisions({
    decisions,
    tools: deps.tools(agent),
    emit,
    abortSignal: scope.abortSignal,
    runId: run.runId,
    sessionId: scope.sessionId,
    userId: scope.userId,
  });
  const decidedIds = new Set(decisions.map((decision) => decision.tool.tool_call_id));
  const earlier = ((run.output as MemberOutput).tools ?? []).filter((tool) => !decidedIds.has(tool.tool_call_id));
  return driveMember(deps, scope, agent, run.runId, {
    message: String(run.input.message ?? ''),
    resumed: {
      messages: [...(run.messages as ModelMessage[]), toolMessage],
      tools: [...earlier, ...decidedTools(decisions)],
    },
  });
}

/** Runs the member's loop (fresh, or resumed after decisions) and stores how it ended. */
async function driveMember(
  deps: ComponentRunDeps,
  scope: MemberScope,
  agent: AgentConfig,
  runId: string,
  input: {
    message: string;
    resumed?: { messages: ModelMessage[]; tools: PausedToolExecution[] };
    conversation?: MemberConversation;
  },
): Promise<MemberResponse> {
  const { store, config, models } = deps;
  const name = agent.name ?? agent.id;
  const modelId = agent.model ?? config.models.default;
  const provider = modelId.split(':')[0];
  const emit = (event: RunEventInput) => scope.emit({ ...event, ...stampOf(scope, agent, runId) });
  const { resumed } = input;
  try {
    const model = await models.languageModel(modelId);
    const tools = deps.tools(agent);
    const { runAgent } = await import('../agent/agent-runner.js');
    const result = await runAgent({
      runId,
      sessionId: scope.sessionId,
      userId: scope.userId,
      agentName: name,
      instructions: agent.instructions,
      // A database agent's persona and skills, and its temperature (`agents/runtime-agent.ts`).
      promptSections: (agent as RuntimeAgent).promptSections,
      temperature: (agent as RuntimeAgent).temperature,
      extraInstructions: input.conversation?.extraInstructions,
      model,
      modelId,
      tools,
      history: resumed?.messages ?? input.conversation?.history ?? [],
      message: input.message,
      messageInHistory: resumed !== undefined,
      maxSteps: agent.max_steps,
      abortSignal: scope.abortSignal,
      emit,
    });
    const usage = { workspaceId: scope.workspaceId, agentId: agent.id, modelId, metrics: result.metrics };
    await deps.runs.recordUsage({ ...usage, principal: scope.principal });
    const messages = resumed ? [...resumed.messages, ...result.messages] : result.messages;
    const toolRecords = resumed ? [...resumed.tools, ...result.tools] : result.tools;
    const output = { tools: toolRecords, model: modelId, model_provider: provider, finish_reason: result.finishReason };
    if (result.status === 'paused' && scope.pause) {
      const paused = await openPause(scope.pause.hooks, {
        workspaceId: scope.workspaceId,
        runId: scope.pause.runId,
        sessionId: scope.sessionId,
        userId: scope.userId,
        sourceType: 'team',
        componentId: scope.pause.componentId,
        componentName: scope.pause.componentName,
        pending: result.pending ?? [],
        tools,
        member: { agentId: agent.id, agentName: name, runId },
      });
      emit({ event: 'RunPaused', content: result.content, tools: paused.tools, requirements: paused.requirements });
      await store.runs.transition(scope.workspaceId, runId, ['running'], {
        status: 'paused',
        content: result.content,
        messages,
        metrics: { ...result.metrics },
        output: { ...output, member_paused: paused },
      });
      return {
        run_id: runId,
        agent_id: agent.id,
        name,
        status: 'paused',
        content: result.content,
        metrics: result.metrics,
        paused,
      };
    }
    const timedOut = result.status === 'cancelled' && scope.abortSignal.reason === 'timeout';
    const unpausable = result.status === 'paused';
    const status: RunStatus = timedOut || unpausable ? 'error' : result.status;
    const error = timedOut
      ? 'Step timed out'
      : unpausable
        ? `Tool ${result.pending?.[0]?.tool_name ?? ''} needs a human decision, which only a top-level team can wait for`
        : result.error?.message;
    if (status === 'completed') {
      emit({ event: 'RunCompleted', content: result.content, content_type: 'str', metrics: result.metrics });
    } else if (status === 'cancelled') {
      emit({ event: 'RunCancelled', reason: 'Run cancelled' });
    } else {
      emit({ event: 'RunError', content: error ?? 'Run failed', error_type: result.error?.type ?? 'Error' });
    }
    await store.runs.transition(scope.workspaceId, runId, ['running'], {
      status,
      content: result.content,
      messages,
      metrics: { ...result.metrics },
      output,
      ...(error === undefined ? {} : { error }),
    });
    return {
      run_id: runId,
      agent_id: agent.id,
      name,
      status,
      content: result.content,
      metrics: result.metrics,
      ...(error === undefined ? {} : { error }),
    };
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error);
    emit({ event: 'RunError', content: text, error_type: (error as Error)?.name ?? 'Error' });
    await store.runs.transition(scope.workspaceId, runId, ['running'], { status: 'error', error: text });
    return { run_id: runId, agent_id: agent.id, name, status: 'error', content: '', error: text };
  }
}
