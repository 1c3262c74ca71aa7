/**
 * Tools of database agents: built-in tools only (declarative webhook tools are trusted because an
 * operator wrote them in the config; an API caller may not point an agent at arbitrary URLs).
 * @module
 */
import type { AgentConfig, AgentOsConfig } from '../config/index.js';
import type { RuntimeAgent } from '../runtime/agent/context.js';
import { createBuiltinTool, isImplementedBuiltinTool } from '../runtime/tools/builtin/index.js';
import type { ToolDefinition } from '../runtime/tools/types.js';

/** The tool names a database agent may list. */
export function isDbAgentTool(name: string): boolean {
  return isImplementedBuiltinTool(name);
}

/** Wraps the config agents' tool resolver so database agents get their built-in tools too. */
export function withDbAgentTools(
  configTools: (agent: AgentConfig) => ToolDefinition[],
  config: AgentOsConfig,
): (agent: AgentConfig) => ToolDefinition[] {
  const http = config.builtin_tools.http_request;
  const options = {
    http_request: {
      allowedHosts: http.allowed_hosts,
      timeoutMs: http.timeout_ms,
      maxResponseBytes: http.max_response_bytes,
    },
  };
  return (agent) => {
    if ((agent as RuntimeAgent).source !== 'db') return configTools(agent);
    return agent.tools.flatMap((entry) => {
      const tool = createBuiltinTool(entry.name, options);
      return tool ? [tool] : [];
    });
  };
}
