/**
 * Human in the loop (research/agno.md §3, CONTRACT.md §5): what makes a tool pause a run, what a
 * paused run stores so any process can continue it after a restart, and what a caller sends back.
 * Teams and workflows reuse these shapes for their own pause paths.
 * @module
 */
import type { ToolExecution } from '../../events/index.js';
import type { ApprovalType, PauseType } from '../../store/approvals-types.js';

/** The human-in-the-loop flags of one agent tool entry (config `agents[].tools[]`). */
export interface ToolHitl {
  requiresConfirmation: boolean;
  requiresUserInput: boolean;
  /** Arguments the human supplies (Agno `user_input_fields`); all of the tool's parameters when absent. */
  userInputFields?: readonly string[] | undefined;
  /** The caller runs the tool and sends its result back (declared tools without a webhook). */
  externalExecution: boolean;
  /** `required`: continue is reserved to approvers until the approval is resolved. */
  approval?: 'required' | undefined;
  /** A pending approval of this tool expires after this many seconds; its run is then cancelled. */
  approvalTimeoutS?: number | undefined;
}

/** True when a tool pauses the run before it executes. */
export function isGated(hitl: ToolHitl | undefined): hitl is ToolHitl {
  return !!hitl && (hitl.requiresConfirmation || hitl.requiresUserInput || hitl.externalExecution || !!hitl.approval);
}

/** Why a tool pauses: external execution wins over user input, which wins over a confirmation. */
export function pauseTypeOf(hitl: ToolHitl): PauseType {
  if (hitl.externalExecution) return 'external_execution';
  if (hitl.requiresUserInput) return 'user_input';
  return 'confirmation';
}

/** One field a human fills in (Agno `user_input_schema[]`). */
export interface UserInputField {
  name: string;
  field_type: string;
  description?: string;
  /** What the model proposed, replaced by the human's value on continue. */
  value?: unknown;
}

/** A paused tool call as events, run records and the continue body show it (Agno `ToolExecution`). */
export interface PausedToolExecution extends ToolExecution {
  requires_confirmation?: boolean;
  confirmed?: boolean;
  confirmation_note?: string;
  requires_user_input?: boolean;
  user_input_schema?: UserInputField[];
  external_execution_required?: boolean;
  answered?: boolean;
  approval_type?: ApprovalType;
  approval_id?: string;
}

/** One pending human decision (Agno `RunRequirement`). */
export interface RunRequirement {
  id: string;
  created_at: string;
  tool_execution: PausedToolExecution;
  confirmation?: boolean;
  confirmation_note?: string;
  user_input_schema?: UserInputField[];
  external_execution_result?: string;
  /** Set by teams when a member paused. */
  member_agent_id?: string;
  member_agent_name?: string;
  member_run_id?: string;
}

/** What a paused run keeps in `output.paused`: enough to continue it from any process. */
export interface PausedState {
  tools: PausedToolExecution[];
  requirements: RunRequirement[];
}

/** What the caller sends for one paused tool call (a subset of `ToolExecution`, Agno semantics). */
export interface ToolDecisionInput {
  tool_call_id: string;
  tool_name?: string | undefined;
  confirmed?: boolean | undefined;
  confirmation_note?: string | undefined;
  /** Values by field name; `user_input_schema[].value` is accepted as well. */
  user_input?: Record<string, unknown> | undefined;
  user_input_schema?: { name: string; value?: unknown }[] | undefined;
  /** The external execution's output (any JSON; strings are passed as is). */
  result?: unknown;
}

/** A settled decision for one paused tool call, ready to apply. */
export type ToolDecision =
  | { kind: 'execute'; tool: PausedToolExecution; args: Record<string, unknown> }
  | { kind: 'reject'; tool: PausedToolExecution; note?: string | undefined }
  | { kind: 'result'; tool: PausedToolExecution; result: string };

/** What the model is told for a rejected call (Agno's wording, plus the human's note). */
export function rejectionMessage(note: string | undefined): string {
  return note ? `Function call was rejected by the user: ${note}` : 'Function call was rejected by the user';
}
