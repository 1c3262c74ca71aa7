/**
 * The two ends of a pause that do not continue: opening it (paused state + approval rows, through
 * {@link HitlHooks}) and closing a paused run without continuing it (cancel, expired approval).
 * Teams and workflows call the same functions with their own `sourceType`.
 * @module
 */
import type { ToolExecution } from '../../events/index.js';
import type { ApprovalSourceType } from '../../store/approvals-types.js';
import type { RunRecord, Store } from '../../store/types.js';
import type { ToolDefinition } from '../tools/types.js';
import { buildPausedState, stampApprovalIds } from './requirements.js';
import type { PausedState } from './types.js';

/** What the approvals room learns about a pause. */
export interface PauseInfo {
  workspaceId: string;
  runId: string;
  sessionId: string;
  userId: string | null;
  sourceType: ApprovalSourceType;
  /** The agent, team or workflow id. */
  componentId: string;
  componentName: string;
  state: PausedState;
  /** Seconds until each call's approval expires, by tool call id (tools with `approval_timeout_s`). */
  expiresInS: ReadonlyMap<string, number>;
}

/** How the runtime tells the approvals room about pauses; `services.ts` wires the approval service in. */
export interface HitlHooks {
  /** Opens one approval row per paused call; returns the approval ids by tool call id. */
  onPause(info: PauseInfo): Promise<ReadonlyMap<string, string>>;
  /** A paused run ended without continuing: its still-pending approvals close with `status`. */
  onClosed(workspaceId: string, runId: string, status: 'cancelled' | 'expired'): Promise<void>;
}

/**
 * Builds the paused state of a run stopped at `pending` calls and opens its approvals; the returned
 * state carries the approval ids and is what `RunPaused` and `output.paused` hold.
 */
export async function openPause(
  hooks: HitlHooks | undefined,
  info: Omit<PauseInfo, 'state' | 'expiresInS'> & {
    pending: readonly ToolExecution[];
    tools: readonly ToolDefinition[];
    /** Set when a team member paused: its requirements name the member (Agno `member_agent_id`, …). */
    member?: { agentId: string; agentName: string; runId: string } | undefined;
  },
): Promise<PausedState> {
  const { pending, tools, member, ...rest } = info;
  const built = buildPausedState(pending, tools);
  const state: PausedState = member
    ? {
        tools: built.tools,
        requirements: built.requirements.map((requirement) => ({
          ...requirement,
          member_agent_id: member.agentId,
          member_agent_name: member.agentName,
          member_run_id: member.runId,
        })),
      }
    : built;
  if (!hooks) return state;
  const expiresInS = new Map<string, number>();
  for (const tool of state.tools) {
    const timeout = tools.find((definition) => definition.name === tool.tool_name)?.hitl?.approvalTimeoutS;
    if (timeout !== undefined) expiresInS.set(tool.tool_call_id, timeout);
  }
  return stampApprovalIds(state, await hooks.onPause({ ...rest, state, expiresInS }));
}

/** The paused state stored on a run, or undefined when the run did not pause at tool calls. */
export function pausedStateOf(run: RunRecord): PausedState | undefined {
  const paused = (run.output as { paused?: PausedState }).paused;
  return paused && Array.isArray(paused.tools) ? paused : undefined;
}

/** The member runs a paused team run waits on (`output.team_pause.paused_members`). */
export function pausedChildRunIds(run: RunRecord): string[] {
  const pause = (run.output as { team_pause?: { paused_members?: { member_run_id?: unknown }[] } }).team_pause;
  return (pause?.paused_members ?? []).flatMap((member) =>
    typeof member.member_run_id === 'string' ? [member.member_run_id] : [],
  );
}

/**
 * Ends a paused run as `cancelled` without continuing it (a cancel request, an expired approval):
 * compare-and-set from `paused`, so it cannot race a continue, then `RunCancelled` and `RunCompleted`
 * appended after the run's last event. `null` when the run was no longer paused.
 */
export async function cancelPausedRun(
  store: Store,
  run: RunRecord,
  reason: string,
  now: () => number = Date.now,
): Promise<RunRecord | null> {
  const cancelled = await store.runs.transition(run.workspaceId, run.runId, ['paused'], {
    status: 'cancelled',
    error: reason,
  });
  if (!cancelled) return null;
  // A paused team also leaves its paused members' runs behind; they end with it.
  for (const childRunId of pausedChildRunIds(run)) {
    await store.runs.transition(run.workspaceId, childRunId, ['paused'], { status: 'cancelled', error: reason });
  }
  const first = (await store.runEvents.lastIndex(run.runId)) + 1;
  const base = {
    run_id: run.runId,
    session_id: run.sessionId,
    ...(run.componentType === 'agent' ? { agent_id: run.componentId } : {}),
    ...(run.componentType === 'team' ? { team_id: run.componentId } : {}),
    created_at: new Date(now()).toISOString(),
  };
  const prefix = run.componentType === 'team' ? 'Team' : '';
  await store.runEvents.append(run.runId, [
    {
      eventIndex: first,
      event: `${prefix}RunCancelled`,
      payload: { event: `${prefix}RunCancelled`, event_index: first, ...base, reason },
    },
    {
      eventIndex: first + 1,
      event: `${prefix}RunCompleted`,
      payload: {
        event: `${prefix}RunCompleted`,
        event_index: first + 1,
        ...base,
        ...(run.content === null ? {} : { content: run.content }),
        content_type: 'str',
      },
    },
  ]);
  return cancelled;
}
