/**
 * The built-in tools every config can name, and the declarative webhook tool. `knowledge_search` and
 * `memory_search` arrive with the memory and knowledge work.
 * @module
 */

import type { ToolDefinition } from '../types.js';
import { createCalculatorTool } from './calculator.js';
import { type CurrentTimeToolOptions, createCurrentTimeTool } from './current-time.js';
import { createHttpRequestTool, type HttpRequestToolOptions } from './http-request.js';

export {
  type CalculatorResult,
  createCalculatorTool,
  evaluateExpression,
  MAX_EXPRESSION_LENGTH,
} from './calculator.js';
export { type CurrentTimeResult, type CurrentTimeToolOptions, createCurrentTimeTool } from './current-time.js';
export {
  blockedAddressReason,
  createHttpRequestTool,
  type HttpRequestResult,
  type HttpRequestToolOptions,
} from './http-request.js';
export { createWebhookTool, type WebhookToolConfig, type WebhookToolOptions } from './webhook-tool.js';

/** Options for each built-in tool, keyed by tool name. */
export interface BuiltinToolOptions {
  current_time?: CurrentTimeToolOptions;
  http_request?: HttpRequestToolOptions;
}

/** Factories of the built-in tools implemented here, keyed by the name a config uses. */
export const BUILTIN_TOOL_FACTORIES = {
  calculator: (_options: BuiltinToolOptions = {}) => createCalculatorTool(),
  current_time: (options: BuiltinToolOptions = {}) => createCurrentTimeTool(options.current_time),
  http_request: (options: BuiltinToolOptions = {}) => createHttpRequestTool(options.http_request),
} as const satisfies Record<string, (options?: BuiltinToolOptions) => ToolDefinition>;

/** A built-in tool name this module can build. */
export type ImplementedBuiltinToolName = keyof typeof BUILTIN_TOOL_FACTORIES;

/** True when {@link createBuiltinTool} can build a tool of this name. */
export function isImplementedBuiltinTool(name: string): name is ImplementedBuiltinToolName {
  return Object.hasOwn(BUILTIN_TOOL_FACTORIES, name);
}

/**
 * Builds the built-in tool `name` with its options; `undefined` for names this room does not build
 * (`knowledge_search` and `memory_search` belong to the memory and knowledge room).
 * @example createBuiltinTool('http_request', { http_request: { allowedHosts: ['127.0.0.1:8080'] } })
 */
export function createBuiltinTool(name: string, options: BuiltinToolOptions = {}): ToolDefinition | undefined {
  return isImplementedBuiltinTool(name) ? BUILTIN_TOOL_FACTORIES[name](options) : undefined;
}
