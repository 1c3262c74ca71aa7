/**
 * Resolves an agent's configured tool list into runnable tools. Tools flagged for a human
 * (confirmation, user input, external execution, approval) carry their `hitl` settings: the runner
 * pauses the run at their calls instead of executing them (fail closed). Tools of rooms not built yet
 * are left out and named in a start-up warning.
 * @module
 */
import type { AgentConfig, AgentOsConfig, AgentToolConfig, ToolConfig } from '../../config/index.js';
import type { Logger } from '../../logging/logger.js';
import { isGated, type ToolHitl } from '../hitl/types.js';
import { createBuiltinTool, createWebhookTool } from './builtin/index.js';
import type { ToolDefinition } from './types.js';

/** Options of {@link createAgentToolResolver}. */
export interface AgentToolResolverOptions {
  config: AgentOsConfig;
  logger: Logger;
}

/** The entry's human-in-the-loop flags, or undefined for a tool that runs without a human. */
function hitlOf(entry: AgentToolConfig, external: boolean): ToolHitl | undefined {
  const hitl: ToolHitl = {
    requiresConfirmation: entry.requires_confirmation ?? false,
    requiresUserInput: entry.requires_user_input ?? false,
    userInputFields: entry.user_input_fields,
    externalExecution: (entry.external_execution ?? false) || external,
    approval: entry.approval,
    approvalTimeoutS: entry.approval_timeout_s,
  };
  // `approval: required` alone means "confirm before running" (Agno's @approval implies confirmation).
  if (hitl.approval && !hitl.requiresUserInput && !hitl.externalExecution) hitl.requiresConfirmation = true;
  return isGated(hitl) ? hitl : undefined;
}

/**
 * A declared tool without a webhook (CONTRACT.md §2): the caller executes it and sends the result on
 * continue, so agentos never runs it.
 */
function externalTool(declaration: ToolConfig): ToolDefinition {
  return {
    name: declaration.name,
    description: declaration.description,
    inputSchema: declaration.parameters,
    execute: async () => {
      throw new Error(`${declaration.name} is executed by the caller (external execution)`);
    },
  };
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
      const declaration = declared.get(entry.name);
      const hitl = hitlOf(entry, declaration !== undefined && !declaration.webhook);
      let definition: ToolDefinition | undefined;
      if (declaration?.webhook) definition = createWebhookTool({ ...declaration, webhook: declaration.webhook });
      else if (declaration) definition = externalTool(declaration);
      else definition = createBuiltinTool(entry.name, builtinOptions);
      // knowledge_search is added by `withKnowledgeTools` (knowledge-search.ts), bound to the agent's base.
      if (!definition) {
        // memory_search likewise, by `withMemoryTools` (memory/memory-search-tool.ts).
        if (entry.name !== 'knowledge_search' && entry.name !== 'memory_search') {
          withheld.push(`${entry.name} (arrives with the memory and knowledge work)`);
        }
      }
      // A gated tool is offered with its flags: the runner never executes it without a human's decision.
      else tools.push(hitl ? { ...definition, hitl } : definition);
    }
    if (withheld.length > 0) logger.warn({ agent: agent.id, withheld }, 'agent tools not offered to the model yet');
    byAgent.set(agent.id, tools);
  }
  return (agent) => byAgent.get(agent.id) ?? [];
}
