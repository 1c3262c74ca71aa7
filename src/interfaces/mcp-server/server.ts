/**
 * The MCP server of one HTTP request (stateless Streamable HTTP: a server and a transport per request, so
 * every call is bound to the principal that request authenticated as, and nothing is shared between
 * callers). `tools/call` checks the REST twin's scope first and answers a JSON-RPC error when it fails.
 * @module
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  type CallToolResult,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
} from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { formatRequirement } from '../../auth/scopes.js';
import { isAgentOsError } from '../../errors/index.js';
import { VERSION } from '../../version.js';
import { allowed, MCP_TOOLS, type McpCallContext } from './tools.js';

/** JSON-RPC error code of a refused call (implementation-defined server range), the twin of HTTP 403. */
export const MCP_FORBIDDEN = -32003;

function textResult(value: unknown, isError = false): CallToolResult {
  return { content: [{ type: 'text', text: typeof value === 'string' ? value : JSON.stringify(value) }], isError };
}

/** Builds the server for one request's caller. */
export function createAgentOsMcpServer(context: McpCallContext): Server {
  const server = new Server(
    { name: context.services.config.name ?? 'agentos', version: VERSION },
    { capabilities: { tools: {} } },
  );
  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: MCP_TOOLS.map((tool) => ({
      name: tool.name,
      description: tool.description,
      inputSchema: z.toJSONSchema(tool.input, { io: 'input' }) as { type: 'object' },
    })),
  }));
  server.setRequestHandler(CallToolRequestSchema, async (request) => {
    const tool = MCP_TOOLS.find((candidate) => candidate.name === request.params.name);
    if (!tool) throw new McpError(ErrorCode.InvalidParams, `Tool ${request.params.name} not found`);
    const parsed = tool.input.safeParse(request.params.arguments ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new McpError(ErrorCode.InvalidParams, `${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
    }
    try {
      const requirement = await tool.scope(parsed.data, context);
      if (!allowed(context, requirement)) {
        const required = formatRequirement(requirement);
        throw new McpError(MCP_FORBIDDEN, `Insufficient permissions. Required scope: ${required}`, {
          status: 403,
          required,
        });
      }
      return textResult(await tool.run(parsed.data, context));
    } catch (error) {
      if (error instanceof McpError) throw error;
      // A typed 4xx (unknown agent, missing run, run not paused) is the tool's own failure, shown to the model.
      if (isAgentOsError(error) && error.status < 500) return textResult(`${error.code}: ${error.message}`, true);
      context.request.log.warn({ err: error, tool: tool.name }, 'MCP tool call failed');
      return textResult('Internal error', true);
    }
  });
  return server;
}
