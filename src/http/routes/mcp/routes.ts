/**
 * `/mcp`: agentos as an MCP server over Streamable HTTP (official SDK, stateless mode). The route needs the
 * `mcp:connect` scope; each tool call then checks the scope of its REST twin for the same principal and
 * workspace (see `interfaces/mcp-server/tools.ts`). The SDK transport runs on Fastify's raw request and
 * response, with the body Fastify already parsed. The SDK (and the ajv it brings) loads on the first POST,
 * so a server nobody reaches over MCP never holds it in memory (bench/startup).
 * @module
 */
import type { FastifyPluginAsync } from 'fastify';
import { AgentOsError } from '../../../errors/index.js';
import { rebindingProblem } from '../../../interfaces/mcp-server/origin-guard.js';
import type { Services } from '../../../services.js';

const MCP_ACCESS = { scope: 'mcp:connect' } as const;

/** The MCP SDK pieces the endpoint uses, imported on first use (the module cache keeps them after that). */
async function loadMcpServer() {
  const [{ StreamableHTTPServerTransport }, { JSONRPCMessageSchema }, { createAgentOsMcpServer }] = await Promise.all([
    import('@modelcontextprotocol/sdk/server/streamableHttp.js'),
    import('@modelcontextprotocol/sdk/types.js'),
    import('../../../interfaces/mcp-server/server.js'),
  ]);
  return { StreamableHTTPServerTransport, JSONRPCMessageSchema, createAgentOsMcpServer };
}

/** Route table of the MCP endpoint. */
export const mcpRoutes: FastifyPluginAsync<{ services: Services }> = async (app, { services }) => {
  app.post('/mcp', {
    config: { access: MCP_ACCESS, rateLimitClass: 'message' },
    schema: {
      summary: 'MCP endpoint (Streamable HTTP)',
      description:
        'JSON-RPC over Streamable HTTP, stateless. Tools: get_agentos_config, run_agent, run_team, run_workflow, ' +
        'continue_run, cancel_run, get_sessions, get_session_runs; each checks the scope of its REST route.',
      tags: ['Interfaces'],
      operationId: 'mcp',
    },
    handler: async (request, reply) => {
      const problem = rebindingProblem(services.config, request.headers);
      if (problem) throw new AgentOsError('AOS_AUTH_FORBIDDEN', problem);
      // What the transport would refuse in its own JSON-RPC shape is refused here in the surface's shape.
      const accept = String(request.headers.accept ?? '');
      if (!accept.includes('application/json') || !accept.includes('text/event-stream')) {
        throw new AgentOsError('AOS_NOT_ACCEPTABLE', 'Accept must list application/json and text/event-stream');
      }
      const { StreamableHTTPServerTransport, JSONRPCMessageSchema, createAgentOsMcpServer } = await loadMcpServer();
      const messages = Array.isArray(request.body) ? request.body : [request.body];
      if (messages.length === 0 || !messages.every((message) => JSONRPCMessageSchema.safeParse(message).success)) {
        throw new AgentOsError('AOS_BAD_REQUEST', 'The body is not a JSON-RPC 2.0 message or batch');
      }
      const server = createAgentOsMcpServer({ services, request });
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      reply.hijack();
      // Hooks set the security and request-id headers on the reply; the transport writes the raw response.
      for (const [name, value] of Object.entries(reply.getHeaders())) {
        if (value !== undefined) reply.raw.setHeader(name, value);
      }
      reply.raw.on('close', () => {
        void transport.close();
        void server.close();
      });
      await server.connect(transport);
      await transport.handleRequest(request.raw, reply.raw, request.body);
      return reply;
    },
  });

  // Stateless: no standalone SSE stream and no session to delete (the transport spec's 405).
  for (const method of ['GET', 'DELETE'] as const) {
    app.route({
      method,
      url: '/mcp',
      config: { access: MCP_ACCESS },
      schema: {
        summary: `MCP ${method} (not used in stateless mode)`,
        tags: ['Interfaces'],
        operationId: `mcp${method}`,
      },
      handler: async (_request, reply) => {
        reply.header('allow', 'POST');
        throw new AgentOsError('AOS_METHOD_NOT_ALLOWED', 'MCP here is stateless: POST JSON-RPC messages to /mcp');
      },
    });
  }
};
