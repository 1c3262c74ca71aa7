/**
 * What the runtime knows about a tool: a name, a description, an input schema the model sees, and
 * `execute`. Built-in tools, declarative webhook tools and (later) MCP and code tools all become this
 * shape; the agent runner turns them into AI SDK tools.
 * @module
 */
import type { z } from 'zod';
import type { SpanOptions } from '../../observability/spans.js';
import type { ToolHitl } from '../hitl/types.js';

/** Context passed to every tool execution. */
export interface ToolExecutionContext {
  /** Aborted when the run is cancelled or the client disconnects; tools must stop promptly. */
  abortSignal: AbortSignal;
  /** Id of the tool call the model made. */
  toolCallId: string;
  runId: string;
  sessionId: string;
  userId: string | null;
  /** The run's workspace; tools that read tenant data (knowledge_search) refuse to run without it. */
  workspaceId?: string;
  /** Opens a span under this call's `execute_tool` span (e.g. `retrieval`); absent when the run is not traced. */
  withSpan?: ToolSpanOpener;
}

/**
 * See {@link ToolExecutionContext.withSpan}. `fn` gets the new span's context: hand it on (e.g. as
 * `traceParent` of an embedder call) so spans opened below nest under it.
 */
export type ToolSpanOpener = <T>(
  options: SpanOptions,
  fn: (spanContext: SpanOptions['parent']) => Promise<T>,
) => Promise<T>;

/** A JSON Schema object (as written in declarative tool configs). */
export type JsonSchemaObject = Record<string, unknown>;

/** A tool the runtime can offer to a model. */
export interface ToolDefinition {
  name: string;
  description: string;
  /** A zod object schema (built-ins) or a JSON Schema object (declarative tools). */
  inputSchema: z.ZodType | JsonSchemaObject;
  /**
   * Runs the tool. The resolved value is the tool result the model sees (strings are passed as is,
   * anything else as JSON). A thrown error becomes a `ToolCallError` and is shown to the model.
   */
  execute(args: Record<string, unknown>, context: ToolExecutionContext): Promise<unknown>;
  /**
   * Human-in-the-loop settings of this agent's entry (`runtime/hitl`): a gated tool is offered to the
   * model but never executed by the loop; the run pauses at its call and `execute` runs on continue.
   */
  hitl?: ToolHitl;
}
