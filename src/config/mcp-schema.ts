/**
 * `mcp_servers` (issue 11): MCP servers whose tools agents may use, reached over Streamable HTTP (`url`,
 * with optional `headers`) or started as a child process over stdio (`command` + `args`). An agent lists
 * the server ids it uses under `agents[].mcp_servers`; each tool is offered as `<tool_prefix><tool name>`.
 * @module
 */
import { z } from 'zod';

// The id pattern of `schema.ts`, repeated here because that module imports this one.
const ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;
/** Prefixed names must stay valid tool names for every provider. */
const PREFIX = /^[A-Za-z_][A-Za-z0-9_-]{0,31}$/;

const mcpServerSchema = z
  .strictObject({
    id: z.string().regex(ID, { error: `invalid id (expected ${ID.source})` }),
    url: z
      .string()
      .refine((value) => /^https?:\/\//i.test(value) && URL.canParse(value), 'expected an http:// or https:// URL')
      .optional(),
    /** Sent on every request to a `url` server; `${VAR}` was filled from the environment at load. */
    headers: z.record(z.string(), z.string()).optional(),
    command: z.string().min(1).optional(),
    args: z.array(z.string()).default([]),
    env: z.record(z.string(), z.string()).optional(),
    /** Defaults to `<id>_` with characters other than letters, digits, `_` and `-` replaced by `_`. */
    tool_prefix: z
      .string()
      .regex(PREFIX, { error: `invalid tool_prefix (expected ${PREFIX.source})` })
      .optional(),
    /** A tool call that takes longer fails (the model sees the error). */
    timeout_ms: z.number().int().min(1).max(600_000).default(60_000),
  })
  .refine((server) => (server.url === undefined) !== (server.command === undefined), {
    error: 'expected exactly one of url or command',
  });

/** The `mcp_servers` section. */
export const mcpServersSchema = z.array(mcpServerSchema).default([]);

/** One configured MCP server. */
export type McpServerConfig = z.infer<typeof mcpServerSchema>;

/** The prefix a server's tools carry. */
export function toolPrefixOf(server: McpServerConfig): string {
  return server.tool_prefix ?? `${server.id.replace(/[^A-Za-z0-9_-]/g, '_')}_`;
}

/** Cross-checks: unique server ids, and every id an agent lists is configured. */
export function checkMcpServers(
  config: { mcp_servers: McpServerConfig[]; agents: { mcp_servers?: string[] | undefined }[] },
  report: (path: PropertyKey[], message: string) => void,
): void {
  const ids = new Set<string>();
  config.mcp_servers.forEach((server, index) => {
    if (ids.has(server.id)) report(['mcp_servers', index, 'id'], `duplicate MCP server id "${server.id}"`);
    ids.add(server.id);
  });
  config.agents.forEach((agent, agentIndex) => {
    agent.mcp_servers?.forEach((id, index) => {
      if (!ids.has(id)) report(['agents', agentIndex, 'mcp_servers', index], `unknown MCP server "${id}"`);
    });
  });
}
