/**
 * Turns the tool calls a run stopped at into its paused state: each call flagged as Agno does
 * (`requires_confirmation`, `requires_user_input` with its schema, `external_execution_required`)
 * and one requirement per call.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { ToolExecution } from '../../events/index.js';
import type { ToolDefinition } from '../tools/types.js';
import {
  type PausedState,
  type PausedToolExecution,
  pauseTypeOf,
  type ToolHitl,
  type UserInputField,
} from './types.js';

type JsonProperty = { type?: unknown; description?: unknown };

/** The tool's parameters as JSON Schema properties (zod schemas converted). */
function propertiesOf(definition: ToolDefinition): Record<string, JsonProperty> {
  const schema =
    definition.inputSchema instanceof z.ZodType
      ? (z.toJSONSchema(definition.inputSchema) as Record<string, unknown>)
      : definition.inputSchema;
  const properties = schema.properties;
  return properties && typeof properties === 'object' ? (properties as Record<string, JsonProperty>) : {};
}

/** The fields a human fills in, pre-filled with what the model proposed. */
export function userInputSchema(
  definition: ToolDefinition,
  hitl: ToolHitl,
  args: Record<string, unknown>,
): UserInputField[] {
  const properties = propertiesOf(definition);
  const names = hitl.userInputFields ?? Object.keys(properties);
  return names.map((name) => {
    const property = properties[name] ?? {};
    return {
      name,
      field_type: typeof property.type === 'string' ? property.type : 'string',
      ...(typeof property.description === 'string' ? { description: property.description } : {}),
      ...(args[name] === undefined ? {} : { value: args[name] }),
    };
  });
}

/** Flags one pending call according to its tool's human-in-the-loop settings. */
export function flagPausedTool(
  execution: ToolExecution,
  definition: ToolDefinition,
  hitl: ToolHitl,
): PausedToolExecution {
  const kind = pauseTypeOf(hitl);
  return {
    ...execution,
    ...(kind === 'confirmation' ? { requires_confirmation: true } : {}),
    ...(kind === 'user_input'
      ? { requires_user_input: true, user_input_schema: userInputSchema(definition, hitl, execution.tool_args) }
      : {}),
    ...(kind === 'external_execution' ? { external_execution_required: true } : {}),
    approval_type: hitl.approval === 'required' ? 'required' : 'audit',
  };
}

/**
 * The paused state of a run stopped at `pending` calls. Calls to tools without human-in-the-loop
 * settings never stop a run, so every pending call has a gated tool.
 */
export function buildPausedState(
  pending: readonly ToolExecution[],
  tools: readonly ToolDefinition[],
  now: () => Date = () => new Date(),
): PausedState {
  const byName = new Map(tools.map((tool) => [tool.name, tool]));
  const paused = pending.flatMap((execution) => {
    const definition = byName.get(execution.tool_name);
    return definition?.hitl ? [flagPausedTool(execution, definition, definition.hitl)] : [];
  });
  return {
    tools: paused,
    requirements: paused.map((tool) => ({
      id: randomUUID(),
      created_at: now().toISOString(),
      tool_execution: tool,
      ...(tool.user_input_schema ? { user_input_schema: tool.user_input_schema } : {}),
    })),
  };
}

/** Stamps approval ids (by tool call id) on the paused tools and their requirements. */
export function stampApprovalIds(state: PausedState, approvalIds: ReadonlyMap<string, string>): PausedState {
  const stamp = (tool: PausedToolExecution): PausedToolExecution => {
    const id = approvalIds.get(tool.tool_call_id);
    return id === undefined ? tool : { ...tool, approval_id: id };
  };
  return {
    tools: state.tools.map(stamp),
    requirements: state.requirements.map((requirement) => ({
      ...requirement,
      tool_execution: stamp(requirement.tool_execution),
    })),
  };
}
