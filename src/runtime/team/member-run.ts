/**
 * One agent run on behalf of a parent run (a team member, a workflow step): its own row in `runs`
 * with `parentRunId`, in the parent's session, while its events go into the parent's one sequence,
 * marked with the member's `agent_id`, the `parent_run_id`, its own `member_run_id` and a `role`, so a
 * client can always tell who speaks (Agno #8154: member output indistinguishable).
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { AgentConfig } from '../../config/index.js';
import type { RunEventInput, RunMetrics } from '../../events/index.js';
import type { RunStatus } from '../../store/types.js';
import type { ComponentRunDeps } from '../component-run.js';

/** Where a member run sits: its parent run, the session and the parent's event sink. */
export interface MemberScope {
  workspaceId: string;
  sessionId: string;
  userId: string | null;
  parentRunId: string;
  /** The parent's event sink (already stamping the parent's own fields). */
  emit(event: RunEventInput): void;
  abortSignal: AbortSignal;
  /** Extra fields for every event of the member (`step_name` for workflow steps). */
  fields?: Record<string, unknown>;
  /** `member` for team members, `step` for workflow steps. */
  role: 'member' | 'step';
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
}

/** Runs `agent` on `message` as a child run of `scope.parentRunId`. Never throws for model failures. */
export async function runMemberAgent(
  deps: ComponentRunDeps,
  scope: MemberScope,
  agent: AgentConfig,
  message: string,
): Promise<MemberResponse> {
  const { store, config, models, runs } = deps;
  const runId = randomUUID();
  const name = agent.name ?? agent.id;
  const modelId = agent.model ?? config.models.default;
  const provider = modelId.split(':')[0];
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
  const stamp = {
    ...scope.fields,
    agent_id: agent.id,
    agent_name: name,
    parent_run_id: scope.parentRunId,
    member_run_id: runId,
    role: scope.role,
  };
  const emit = (event: RunEventInput) => scope.emit({ ...event, ...stamp });
  emit({ event: 'RunStarted', model: modelId, model_provider: provider });
  let response: MemberResponse;
  try {
    const model = await models.languageModel(modelId);
    const { runAgent } = await import('../agent/agent-runner.js');
    const result = await runAgent({
      runId,
      sessionId: scope.sessionId,
      userId: scope.userId,
      agentName: name,
      instructions: agent.instructions,
      model,
      modelId,
      tools: deps.tools(agent),
      history: [],
      message,
      maxSteps: agent.max_steps,
      abortSignal: scope.abortSignal,
      emit,
    });
    const timedOut = result.status === 'cancelled' && scope.abortSignal.reason === 'timeout';
    const status: RunStatus = timedOut ? 'error' : result.status;
    const error = timedOut ? 'Step timed out' : result.error?.message;
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
      messages: result.messages,
      metrics: { ...result.metrics },
      output: { tools: result.tools, model: modelId, model_provider: provider, finish_reason: result.finishReason },
      ...(error === undefined ? {} : { error }),
    });
    response = {
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
    response = { run_id: runId, agent_id: agent.id, name, status: 'error', content: '', error: text };
  }
  return response;
}
