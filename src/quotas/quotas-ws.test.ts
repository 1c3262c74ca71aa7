import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestServer } from '../../test/helpers.js';
import type { RunningServer } from '../main.js';
import { utcDay } from './utc-day.js';

const KEY = 'aos_quota_ws_key_abcdefghijklmnop';
const LIMITED = 'aos_quota_ws_limited_abcdefghijk';
const MCP_KEY = 'aos_quota_mcp_key_abcdefghijklmn';

function nextFrame(socket: WebSocket, until: (frame: Record<string, unknown>) => boolean) {
  return new Promise<Record<string, unknown>>((resolve, reject) => {
    socket.on('message', (data) => {
      const frame = JSON.parse(String(data)) as Record<string, unknown>;
      if (until(frame)) resolve(frame);
    });
    socket.on('error', reject);
  });
}

describe('quotas over an open socket and MCP', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer({
      config: {
        auth: {
          api_keys: [
            { name: 'socket-key', key: KEY, scopes: ['admin'] },
            { name: 'limited-key', key: LIMITED, scopes: ['admin'] },
            { name: 'mcp-key', key: MCP_KEY, scopes: ['admin'] },
          ],
        },
        agents: [{ id: 'assistant', model: 'local:default' }],
        quotas: { keys: { 'socket-key': { daily_tokens: 100 }, 'mcp-key': { daily_tokens: 500 } } },
        rate_limits: { message: '100/h', keys: { 'limited-key': { message: '2/h' } } },
      },
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it("checks the caller's budget for each run, not only at the upgrade", async () => {
    const socket = new WebSocket(`${server.url.replace('http', 'ws')}/ws/agents/assistant?token=${KEY}`);
    await new Promise((resolve) => socket.once('open', resolve));
    await server.services.store.usage.add({
      day: utcDay(Date.now()),
      workspaceId: 'default',
      principal: 'config_key:socket-key',
      agentId: 'assistant',
      modelId: 'local:default',
      inputTokens: 100,
      outputTokens: 0,
      costUsd: 0,
    });
    const refused = nextFrame(socket, (frame) => frame.event === 'error');
    socket.send(JSON.stringify({ message: 'hello' }));
    expect(await refused).toMatchObject({ code: 'AOS_QUOTA_EXCEEDED' });
    socket.close();
  });

  it("counts socket runs under the caller's own message rule", async () => {
    const socket = new WebSocket(`${server.url.replace('http', 'ws')}/ws/agents/assistant?token=${LIMITED}`);
    await new Promise((resolve) => socket.once('open', resolve));
    // Each run counts in the caller's own message bucket: 2 per hour.
    for (const message of ['one', 'two']) {
      const completed = nextFrame(socket, (frame) => frame.event === 'RunCompleted');
      socket.send(JSON.stringify({ message }));
      await completed;
    }
    const limited = nextFrame(socket, (frame) => frame.event === 'error');
    socket.send(JSON.stringify({ message: 'three' }));
    expect(await limited).toMatchObject({ code: 'AOS_RATE_LIMITED' });
    socket.close();
  });

  it('refuses an MCP tool run of a caller whose budget is used up, and records MCP runs against the caller', async () => {
    const client = new Client({ name: 'quota-test', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${MCP_KEY}` } },
    });
    await client.connect(transport);
    try {
      const ran = await client.callTool({ name: 'run_agent', arguments: { agent_id: 'assistant', message: 'hi' } });
      expect(ran.isError).toBe(false);
      expect((await server.services.store.usage.totals({ principal: 'config_key:mcp-key' })).runs).toBeGreaterThan(0);

      await server.services.store.usage.add({
        day: utcDay(Date.now()),
        workspaceId: 'default',
        principal: 'config_key:mcp-key',
        agentId: 'assistant',
        modelId: 'local:default',
        inputTokens: 1000,
        outputTokens: 0,
        costUsd: 0,
      });
      const refused = await client
        .callTool({ name: 'run_agent', arguments: { agent_id: 'assistant', message: 'again' } })
        .then(
          (result) => JSON.stringify(result),
          (error: unknown) => String(error),
        );
      expect(refused).toMatch(/Daily token budget of caller mcp-key is used up/);
    } finally {
      await client.close();
    }
  });
});
