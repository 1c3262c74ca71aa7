import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type FakeOpenAI, type RequestBody, startFakeOpenAI } from '../../../test/fake-openai.js';
import { startTestServer } from '../../../test/helpers.js';
import type { RunningServer } from '../../main.js';

/** A real MCP server (the SDK's McpServer over stateless Streamable HTTP) with one tool. */
async function startColorServer(port = 0): Promise<{ url: string; calls: unknown[]; close(): Promise<void> }> {
  const calls: unknown[] = [];
  const http: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = chunks.length > 0 ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
    const mcp = new McpServer({ name: 'colors', version: '1.0.0' });
    mcp.registerTool(
      'lookup_color',
      { description: 'The color of a thing.', inputSchema: { thing: z.string() } },
      async ({ thing }) => {
        calls.push({ thing, auth: req.headers['x-test-token'] });
        return { content: [{ type: 'text', text: thing === 'sky' ? 'blue' : 'grey' }] };
      },
    );
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on('close', () => {
      void transport.close();
      void mcp.close();
    });
    await mcp.connect(transport);
    await transport.handleRequest(req, res, body);
  });
  await new Promise<void>((resolve) => http.listen(port, '127.0.0.1', resolve));
  const address = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}/mcp`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}

/** A port nothing listens on (yet). */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

function toolResults(body: RequestBody | undefined): Record<string, string> {
  const results: Record<string, string> = {};
  for (const message of body?.messages ?? []) {
    if (message.role === 'tool') results[String(message.tool_call_id)] = String(message.content);
  }
  return results;
}

const MODEL = 'openai:gpt-4o-mini';
const STDIO_FIXTURE = fileURLToPath(new URL('./fixtures/stdio-server.mjs', import.meta.url));

describe('MCP client: tools of configured MCP servers as agent tools', () => {
  let fake: FakeOpenAI;
  let colors: Awaited<ReturnType<typeof startColorServer>>;
  let server: RunningServer | undefined;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    colors = await startColorServer();
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
    fake.reset();
  });
  afterAll(async () => {
    await colors?.close();
    await fake?.close();
  });

  it('offers the server tools, prefixed, to agents that list the server, and runs them', async () => {
    server = await startTestServer({
      env: { OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'test-key' },
      config: {
        mcp_servers: [{ id: 'colors', url: colors.url, headers: { 'x-test-token': 'secret-1' } }],
        agents: [
          { id: 'painter', model: MODEL, mcp_servers: ['colors'], tools: ['calculator'] },
          { id: 'plain', model: MODEL },
        ],
      },
    });
    fake.script(
      { toolCalls: [{ id: 'call_m1', name: 'colors_lookup_color', arguments: { thing: 'sky' } }] },
      { text: 'The sky is blue.' },
    );
    const response = await fetch(`${server.url}/agents/painter/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'What color is the sky?' }),
    });
    const run = (await response.json()) as {
      status: string;
      content: string;
      tools: { tool_name: string; result: string }[];
    };
    expect(response.status).toBe(200);
    expect(run).toMatchObject({ status: 'completed', content: 'The sky is blue.' });
    expect(run.tools).toMatchObject([{ tool_name: 'colors_lookup_color', result: 'blue' }]);
    const offered = (fake.modelRequests[0]?.body.tools ?? []).map((tool) => (tool.function as { name: string }).name);
    expect(offered.sort()).toEqual(['calculator', 'colors_lookup_color']);
    expect(toolResults(fake.modelRequests[1]?.body).call_m1).toBe('blue');
    expect(colors.calls).toEqual([{ thing: 'sky', auth: 'secret-1' }]);

    // An agent that does not list the server does not see its tools.
    fake.script({ text: 'ok' });
    await fetch(`${server.url}/agents/plain/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'hi' }),
    });
    expect(fake.modelRequests[2]?.body.tools ?? []).toEqual([]);
    const health = (await (await fetch(`${server.url}/api/health`)).json()) as {
      services: Record<string, { status: string }>;
    };
    expect(health.services['mcp-colors']?.status).toBe('healthy');
  });

  it('a server that is down shows "tools unavailable" in health, runs go on, and it reconnects with backoff', async () => {
    const port = await freePort();
    server = await startTestServer({
      env: { OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'test-key' },
      config: {
        mcp_servers: [{ id: 'late', url: `http://127.0.0.1:${port}/mcp`, tool_prefix: 'late_' }],
        agents: [{ id: 'painter', model: MODEL, mcp_servers: ['late'] }],
      },
    });
    const health = await fetch(`${server.url}/api/health`);
    expect(health.status).toBe(503);
    const body = (await health.json()) as {
      status: string;
      services: Record<string, { status: string; error?: string }>;
    };
    expect(body.status).toBe('degraded');
    expect(body.services['mcp-late']).toMatchObject({ status: 'unhealthy' });
    expect(body.services['mcp-late']?.error).toContain('tools unavailable');
    expect(body.services.db?.status).toBe('healthy');

    fake.script({ text: 'no tools today' });
    const run = await fetch(`${server.url}/agents/painter/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'hi' }),
    });
    expect(await run.json()).toMatchObject({ status: 'completed', content: 'no tools today' });
    expect(fake.modelRequests[0]?.body.tools ?? []).toEqual([]);

    // The server comes up: the reconnect loop finds it and the next run is offered its tools.
    const late = await startColorServer(port);
    try {
      let status = '';
      for (let i = 0; i < 100 && status !== 'healthy'; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        const check = (await (await fetch(`${server.url}/api/health`)).json()) as {
          services: Record<string, { status: string }>;
        };
        status = check.services['mcp-late']?.status ?? '';
      }
      expect(status).toBe('healthy');
      fake.script({ text: 'now with tools' });
      await fetch(`${server.url}/agents/painter/runs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ message: 'hi again' }),
      });
      const offered = (fake.modelRequests[1]?.body.tools ?? []).map((tool) => (tool.function as { name: string }).name);
      expect(offered).toEqual(['late_lookup_color']);
    } finally {
      await late.close();
    }
  });

  it('starts a stdio MCP server (command + args + env) and uses its tools', async () => {
    server = await startTestServer({
      env: { OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'test-key' },
      config: {
        mcp_servers: [
          {
            id: 'shout',
            command: process.execPath,
            args: [STDIO_FIXTURE],
            env: { SHOUT_SUFFIX: '!' },
            tool_prefix: 'x_',
          },
        ],
        agents: [{ id: 'loud', model: MODEL, mcp_servers: ['shout'] }],
      },
    });
    fake.script({ toolCalls: [{ id: 'call_s1', name: 'x_shout', arguments: { text: 'hello' } }] }, { text: 'done' });
    const run = await fetch(`${server.url}/agents/loud/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'shout hello' }),
    });
    expect(await run.json()).toMatchObject({
      status: 'completed',
      tools: [{ tool_name: 'x_shout', result: 'HELLO!' }],
    });
  });

  it('rejects a config naming an unknown MCP server or both url and command', async () => {
    await expect(startTestServer({ config: { agents: [{ id: 'a', mcp_servers: ['nope'] }] } })).rejects.toThrow(
      /unknown MCP server "nope"/,
    );
    await expect(
      startTestServer({ config: { mcp_servers: [{ id: 'x', url: 'http://127.0.0.1:1/mcp', command: 'node' }] } }),
    ).rejects.toThrow(/exactly one of url or command/);
  });
});
