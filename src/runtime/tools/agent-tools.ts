/**
 * Resolves an agent's configured tool list into runnable tools. Tools agentos cannot run safely yet
 * are left out and named in a start-up warning rather than offered: a tool that needs a human's
 * confirmation must never run without it (fail closed).
 * @module
 */
import type { AgentConfig, AgentOsConfig } from '../../config/index.js';
import type { Logger } from '../../logging/logger.js';
import { createBuiltinTool, createWebhookTool } from './builtin/index.js';
import type { ToolDefinition } from './types.js';

/** Options of {@link createAgentToolResolver}. */
export interface AgentToolResolverOptions {
  config: AgentOsConfig;
  logger: Logger;
}

/** Builds every agent's tools once (at start-up) and returns a lookup by agent. */
export function createAgentToolResolver({
  config,
  logger,
}: AgentToolResolverOptions): (agent: AgentConfig) => ToolDefinition[] {
  const http = config.builtin_tools.http_request;
  const builtinOptions = {
    http_request: {
      allowedHosts: http.allowed_hosts,
      timeoutMs: http.timeout_ms,
      maxResponseBytes: http.max_response_bytes,
    },
  };
  const declared = new Map(config.tools.map((tool) => [tool.name, tool]));
  const byAgent = new Map<string, ToolDefinition[]>();

  for (const agent of config.agents) {
    const tools: ToolDefinition[] = [];
    const withheld: string[] = [];
    for (const entry of agent.tools) {
      const gated =
        entry.requires_confirmation || entry.requires_user_input || entry.external_execution || entry.approval;
      const declaration = declared.get(entry.name);
      if (gated || (declaration && !declaration.webhook)) {
        withheld.push(`${entry.name} (needs human-in-the-loop support)`);
      } else if (declaration?.webhook) {
        tools.push(createWebhookTool({ ...declaration, webhook: declaration.webhook }));
      } else {
        const builtin = createBuiltinTool(entry.name, builtinOptions);
        if (builtin) tools.push(builtin);
        else withheld.push(`${entry.name} (arrives with the memory and knowledge work)`);
      }
    }
    if (withheld.length > 0) logger.warn({ agent: agent.id, withheld }, 'agent tools not offered to the model yet');
    byAgent.set(agent.id, tools);
  }
  return (agent) => byAgent.get(agent.id) ?? [];
}
