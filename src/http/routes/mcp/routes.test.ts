import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer } from '../../../../test/helpers.js';
import { MCP_FORBIDDEN } from '../../../interfaces/mcp-server/server.js';
import type { RunningServer } from '../../../main.js';

const FULL_KEY = 'aos_mcp_full_key_0123456789';
const LIMITED_KEY = 'aos_mcp_limited_key_0123456789';
const NO_MCP_KEY = 'aos_mcp_nompc_key_0123456789';

describe('/mcp (MCP server over Streamable HTTP)', () => {
  let server: RunningServer;
  const clients: Client[] = [];

  async function connect(key: string): Promise<Client> {
    const client = new Client({ name: 'agentos-test', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${key}` } },
    });
    await client.connect(transport);
    clients.push(client);
    return client;
  }
  const textOf = (result: unknown) =>
    ((result as { content: { type: string; text: string }[] }).content[0] as { text: string }).text;

  beforeAll(async () => {
    server = await startTestServer({
      config: {
        agents: [
          { id: 'helper', model: 'local:default' },
          { id: 'secret', model: 'local:default' },
        ],
        auth: {
          api_keys: [
            { name: 'full', key: FULL_KEY, scopes: ['mcp:connect', 'agents:run', 'sessions:read', 'config:read'] },
            { name: 'limited', key: LIMITED_KEY, scopes: ['mcp:connect', 'agents:helper:run'] },
            { name: 'no-mcp', key: NO_MCP_KEY, scopes: ['agents:run'] },
          ],
        },
      },
    });
  });
  afterAll(async () => {
    for (const client of clients) await client.close();
    await server?.close();
  });

  it('lists the tools and runs an agent; the run shows in get_session_runs and /sessions', async () => {
    const client = await connect(FULL_KEY);
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toEqual([
      'get_agentos_config',
      'run_agent',
      'run_team',
      'run_workflow',
      'continue_run',
      'cancel_run',
      'get_sessions',
      'get_session_runs',
    ]);
    expect(tools.find((tool) => tool.name === 'run_agent')?.inputSchema.required).toEqual(['agent_id', 'message']);
    const result = await client.callTool({
      name: 'run_agent',
      arguments: { agent_id: 'helper', message: 'hello over mcp', session_id: 'mcp-s1' },
    });
    expect(result.isError).toBe(false);
    const run = JSON.parse(textOf(result));
    expect(run).toMatchObject({ agent_id: 'helper', session_id: 'mcp-s1', status: 'completed' });
    expect(run.content.length).toBeGreaterThan(0);

    const runs = JSON.parse(
      textOf(await client.callTool({ name: 'get_session_runs', arguments: { session_id: 'mcp-s1' } })),
    );
    expect(runs.runs.map((entry: { run_id: string }) => entry.run_id)).toEqual([run.run_id]);
    const rest = await fetch(`${server.url}/sessions`, { headers: { authorization: `Bearer ${FULL_KEY}` } });
    expect(((await rest.json()) as { sessions: { session_id: string }[] }).sessions.map((s) => s.session_id)).toContain(
      'mcp-s1',
    );
    const config = JSON.parse(textOf(await client.callTool({ name: 'get_agentos_config', arguments: {} })));
    expect(config.agents.map((agent: { id: string }) => agent.id)).toEqual(
      expect.arrayContaining(['helper', 'secret']),
    );
  });

  it('refuses a tool call whose REST twin the token lacks the scope for, with a JSON-RPC error', async () => {
    const client = await connect(LIMITED_KEY);
    const refused = await client
      .callTool({ name: 'run_agent', arguments: { agent_id: 'secret', message: 'let me in' } })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(refused).toBeInstanceOf(McpError);
    expect((refused as McpError).code).toBe(MCP_FORBIDDEN);
    expect((refused as McpError).message).toContain('agents:secret:run');
    for (const [name, args] of [
      ['get_sessions', {}],
      ['get_agentos_config', {}],
    ] as const) {
      const error = await client.callTool({ name, arguments: args }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((error as McpError).code, name).toBe(MCP_FORBIDDEN);
    }
    // Nothing ran for the refused call.
    const runs = await server.services.store.runs.list({
      workspaceId: 'default',
      componentId: 'secret',
      page: 1,
      limit: 10,
    });
    expect(runs.total).toBe(0);
    // Its own agent works.
    const ok = await client.callTool({ name: 'run_agent', arguments: { agent_id: 'helper', message: 'hi' } });
    expect(ok.isError).toBe(false);
  });

  it('checks run ownership for cancel_run: another workspace run reads as missing', async () => {
    const client = await connect(FULL_KEY);
    const result = await client.callTool({ name: 'cancel_run', arguments: { run_id: 'no-such-run' } });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain('Run not found');
  });

  it('answers 401 without credentials, 403 without mcp:connect, 403 to a foreign Origin', async () => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    const anonymous = await fetch(`${server.url}/mcp`, { method: 'POST', headers, body });
    expect(anonymous.status).toBe(401);
    const client = new Client({ name: 'anonymous', version: '1.0.0' });
    await expect(client.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`)))).rejects.toThrow();
    const noMcp = await fetch(`${server.url}/mcp`, {
      method: 'POST',
      headers: { ...headers, authorization: `Bearer ${NO_MCP_KEY}` },
      body,
    });
    expect(noMcp.status).toBe(403);
    const foreign = await fetch(`${server.url}/mcp`, {
      method: 'POST',
      headers: { ...headers, authorization: `Bearer ${FULL_KEY}`, origin: 'https://evil.example' },
      body,
    });
    expect(foreign.status).toBe(403);
    expect(await foreign.json()).toMatchObject({ code: 'AOS_AUTH_FORBIDDEN' });
    const get = await fetch(`${server.url}/mcp`, { headers: { authorization: `Bearer ${FULL_KEY}` } });
    expect(get.status).toBe(405);
  });
});
