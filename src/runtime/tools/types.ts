/**
 * What the runtime knows about a tool: a name, a description, an input schema the model sees, and
 * `execute`. Built-in tools, declarative webhook tools and (later) MCP and code tools all become this
 * shape; the agent runner turns them into AI SDK tools.
 * @module
 */
import type { z } from 'zod';

/** Context passed to every tool execution. */
export interface ToolExecutionContext {
  /** Aborted when the run is cancelled or the client disconnects; tools must stop promptly. */
  abortSignal: AbortSignal;
  /** Id of the tool call the model made. */
  toolCallId: string;
  runId: string;
  sessionId: string;
  userId: string | null;
}

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
}
