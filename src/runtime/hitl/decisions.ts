/**
 * Settles what happens to each paused tool call on continue (the caller's `tools`, else a resolved
 * approval) and applies it: confirmed calls run, rejected ones are not run and the model is told why,
 * external results are passed through. The loop then resumes exactly from these calls.
 * @module
 */
import type { ModelMessage, ToolResultPart } from 'ai';
import { AgentOsError } from '../../errors/index.js';
import type { RunEventInput } from '../../events/index.js';
import type { ApprovalRecord } from '../../store/approvals-types.js';
import type { ToolDefinition } from '../tools/types.js';
import {
  type PausedState,
  type PausedToolExecution,
  rejectionMessage,
  type ToolDecision,
  type ToolDecisionInput,
} from './types.js';

function badRequest(message: string): AgentOsError {
  return new AgentOsError('AOS_BAD_REQUEST', message);
}

function asText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value ?? null);
}

/** The human's values for a user-input call: `user_input`, else the filled `user_input_schema`. */
function inputValues(input: ToolDecisionInput): Record<string, unknown> | undefined {
  if (input.user_input) return input.user_input;
  if (!input.user_input_schema) return undefined;
  const values: Record<string, unknown> = {};
  for (const field of input.user_input_schema) if (field.value !== undefined) values[field.name] = field.value;
  return values;
}

/** An approval's resolution as if the caller had sent it (Agno applies resolved approvals on continue). */
function fromApproval(tool: PausedToolExecution, approval: ApprovalRecord): ToolDecisionInput | undefined {
  if (approval.status !== 'approved' && approval.status !== 'rejected') return undefined;
  const data = approval.resolutionData ?? {};
  const note = typeof data.note === 'string' ? data.note : undefined;
  return {
    tool_call_id: tool.tool_call_id,
    confirmed: approval.status === 'approved',
    ...(note === undefined ? {} : { confirmation_note: note }),
    ...(data.values && typeof data.values === 'object' ? { user_input: data.values as Record<string, unknown> } : {}),
    ...('result' in data ? { result: data.result } : {}),
  };
}

function settleOne(tool: PausedToolExecution, input: ToolDecisionInput): ToolDecision {
  // A human may refuse any kind of pause; the call then never runs.
  if (input.confirmed === false) return { kind: 'reject', tool, note: input.confirmation_note };
  if (tool.external_execution_required) {
    if (input.result === undefined) throw badRequest(`Tool call ${tool.tool_call_id} needs its external \`result\``);
    return { kind: 'result', tool, result: asText(input.result) };
  }
  if (tool.requires_user_input) {
    const values = inputValues(input);
    if (!values) throw badRequest(`Tool call ${tool.tool_call_id} needs \`user_input\` values`);
    const missing = (tool.user_input_schema ?? [])
      .filter((field) => values[field.name] === undefined && field.value === undefined)
      .map((field) => field.name);
    if (missing.length > 0)
      throw badRequest(`Tool call ${tool.tool_call_id} needs user input for: ${missing.join(', ')}`);
    return { kind: 'execute', tool, args: { ...tool.tool_args, ...values } };
  }
  if (input.confirmed !== true) throw badRequest(`Tool call ${tool.tool_call_id} needs \`confirmed\` true or false`);
  return { kind: 'execute', tool, args: tool.tool_args };
}

/**
 * One decision per paused call, from the caller's `tools` (matched by `tool_call_id`) or else from the
 * call's resolved approval. Throws `AOS_BAD_REQUEST` for an unknown call id or a call left undecided.
 */
export function settleDecisions(
  state: PausedState,
  inputs: readonly ToolDecisionInput[],
  approvals: readonly ApprovalRecord[] = [],
): ToolDecision[] {
  const known = new Set(state.tools.map((tool) => tool.tool_call_id));
  const unknown = inputs.find((input) => !known.has(input.tool_call_id));
  if (unknown) throw badRequest(`Tool call ${unknown.tool_call_id} is not pending in this run`);
  return state.tools.map((tool) => {
    const given = inputs.find((input) => input.tool_call_id === tool.tool_call_id);
    const approval = approvals.find((row) => row.toolCallId === tool.tool_call_id);
    const input = given ?? (approval ? fromApproval(tool, approval) : undefined);
    if (!input) throw badRequest(`Tool call ${tool.tool_call_id} (${tool.tool_name}) has no decision`);
    return settleOne(tool, input);
  });
}

/** The decided calls as `RunContinued` shows them (Agno fields filled in). */
export function decidedTools(decisions: readonly ToolDecision[]): PausedToolExecution[] {
  return decisions.map((decision) => {
    const { tool } = decision;
    if (decision.kind === 'reject') {
      return { ...tool, confirmed: false, ...(decision.note ? { confirmation_note: decision.note } : {}) };
    }
    if (decision.kind === 'result') return { ...tool, result: decision.result, answered: true };
    return {
      ...tool,
      tool_args: decision.args,
      ...(tool.requires_confirmation ? { confirmed: true } : {}),
      ...(tool.requires_user_input ? { answered: true } : {}),
    };
  });
}

/** Options of {@link applyDecisions}. */
export interface ApplyDecisionsOptions {
  decisions: readonly ToolDecision[];
  tools: readonly ToolDefinition[];
  emit(event: RunEventInput): void;
  abortSignal: AbortSignal;
  runId: string;
  sessionId: string;
  userId: string | null;
}

/**
 * Runs the confirmed calls and collects every call's result into one tool message, in the order the
 * model made the calls. Tool failures become error results (the model sees them), never exceptions.
 */
export async function applyDecisions(options: ApplyDecisionsOptions): Promise<ModelMessage> {
  const byName = new Map(options.tools.map((tool) => [tool.name, tool]));
  const parts: ToolResultPart[] = [];
  for (const decision of options.decisions) {
    const { tool } = decision;
    const base = { type: 'tool-result' as const, toolCallId: tool.tool_call_id, toolName: tool.tool_name };
    if (decision.kind === 'reject') {
      const message = rejectionMessage(decision.note);
      options.emit({
        event: 'ToolCallError',
        tool: { ...tool, confirmed: false, tool_call_error: true, result: message },
        error: message,
      });
      parts.push({ ...base, output: { type: 'error-text', value: message } });
      continue;
    }
    if (decision.kind === 'result') {
      options.emit({
        event: 'ToolCallCompleted',
        tool: { ...tool, result: decision.result },
        content: decision.result,
      });
      parts.push({ ...base, output: { type: 'text', value: decision.result } });
      continue;
    }
    const started = performance.now();
    const running = { ...tool, tool_args: decision.args };
    options.emit({ event: 'ToolCallStarted', tool: running });
    const definition = byName.get(tool.tool_name);
    try {
      if (!definition) throw new Error(`Tool ${tool.tool_name} is no longer available to this agent`);
      const value = await definition.execute(decision.args, {
        abortSignal: options.abortSignal,
        toolCallId: tool.tool_call_id,
        runId: options.runId,
        sessionId: options.sessionId,
        userId: options.userId,
      });
      const result = asText(value);
      const metrics = { time: Math.round(performance.now() - started) / 1000 };
      options.emit({ event: 'ToolCallCompleted', tool: { ...running, result, metrics }, content: result });
      parts.push({
        ...base,
        output: typeof value === 'string' ? { type: 'text', value } : { type: 'json', value: (value ?? null) as never },
      });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const metrics = { time: Math.round(performance.now() - started) / 1000 };
      options.emit({
        event: 'ToolCallError',
        tool: { ...running, tool_call_error: true, result: message, metrics },
        error: message,
      });
      parts.push({ ...base, output: { type: 'error-text', value: message } });
    }
  }
  return { role: 'tool', content: parts };
}
