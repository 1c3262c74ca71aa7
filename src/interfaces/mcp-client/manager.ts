/**
 * Every configured MCP server's connection, and the agent tool resolver wrapper that adds a server's tools
 * to the agents that list it (`agents[].mcp_servers`). Tools are read at run time, so a server that comes
 * back after a reconnect is used by the next run without a restart.
 * @module
 */
import type { AgentConfig, AgentOsConfig } from '../../config/index.js';
import type { Logger } from '../../logging/logger.js';
import type { ToolDefinition } from '../../runtime/tools/types.js';
import { type BackoffOptions, DEFAULT_BACKOFF, McpServerConnection } from './connection.js';

/** What health shows for one server. */
export interface McpServerHealth {
  id: string;
  available: boolean;
  tools: number;
  error?: string;
}

/** The MCP client side of agentos. */
export class McpClientManager {
  private readonly connections: Map<string, McpServerConnection>;

  constructor(config: AgentOsConfig, logger: Logger, backoff: BackoffOptions = DEFAULT_BACKOFF) {
    this.connections = new Map(
      config.mcp_servers.map((server) => [server.id, new McpServerConnection(server, logger, backoff)]),
    );
  }

  /** Configured server ids. */
  serverIds(): string[] {
    return [...this.connections.keys()];
  }

  /**
   * Connects every server; resolves when each first attempt settled or after `waitMs`, whichever is first,
   * so a slow or absent server never holds the start-up.
   */
  async start(waitMs = 5000): Promise<void> {
    if (this.connections.size === 0) return;
    const attempts = Promise.all([...this.connections.values()].map((connection) => connection.connect()));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, waitMs);
      timer.unref();
    });
    await Promise.race([attempts, timeout]);
    clearTimeout(timer);
  }

  /** The tools of one server (empty while it is unavailable or unknown). */
  tools(serverId: string): readonly ToolDefinition[] {
    return this.connections.get(serverId)?.toolDefinitions ?? [];
  }

  health(serverId: string): McpServerHealth | undefined {
    const connection = this.connections.get(serverId);
    if (!connection) return undefined;
    const available = connection.state === 'ready';
    return {
      id: serverId,
      available,
      tools: connection.toolDefinitions.length,
      ...(available ? {} : { error: `tools unavailable: ${connection.error ?? connection.state}` }),
    };
  }

  async close(): Promise<void> {
    await Promise.all([...this.connections.values()].map((connection) => connection.close()));
  }
}

/** Adds the tools of the MCP servers an agent lists to what `resolve` gives it. */
export function withMcpTools(
  resolve: (agent: AgentConfig) => ToolDefinition[],
  mcp: McpClientManager,
): (agent: AgentConfig) => ToolDefinition[] {
  return (agent) => {
    const tools = resolve(agent);
    const servers = (agent as { mcp_servers?: string[] }).mcp_servers;
    if (!servers || servers.length === 0) return tools;
    const taken = new Set(tools.map((tool) => tool.name));
    const added = servers.flatMap((id) => mcp.tools(id)).filter((tool) => !taken.has(tool.name));
    return [...tools, ...added];
  };
}
