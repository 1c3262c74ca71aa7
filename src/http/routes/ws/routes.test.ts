import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestServer } from '../../../../test/helpers.js';
import { generateApiKey } from '../../../auth/index.js';
import type { RunningServer } from '../../../main.js';

const KEY = 'aos_ws_test_key_abcdefghijklmnop';

function collect(
  socket: WebSocket,
  until: (frame: Record<string, unknown>) => boolean,
): Promise<Record<string, unknown>[]> {
  const frames: Record<string, unknown>[] = [];
  return new Promise((resolve, reject) => {
    socket.on('message', (data) => {
      const frame = JSON.parse(String(data)) as Record<string, unknown>;
      frames.push(frame);
      if (until(frame)) resolve(frames);
    });
    socket.on('error', reject);
  });
}

describe('WS /ws/agents/{agent_id}', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer({
      env: { AGENTOS_API_KEY: KEY },
      config: { agents: [{ id: 'assistant', name: 'Assistant', model: 'local:default', tools: ['calculator'] }] },
    });
  });
  afterAll(async () => {
    await server.close();
  });
  const wsUrl = (query: string) => `${server.url.replace('http', 'ws')}/ws/agents/assistant${query}`;

  it('streams a run as JSON frames, authenticated by ?token=', async () => {
    const socket = new WebSocket(wsUrl(`?token=${KEY}`));
    await new Promise((resolve) => socket.once('open', resolve));
    const done = collect(socket, (frame) => frame.event === 'RunCompleted');
    socket.send(JSON.stringify({ message: 'what is 2+3?', session_id: 'ws-session' }));
    const frames = await done;
    expect(frames[0]).toMatchObject({ event: 'RunStarted', event_index: 0, session_id: 'ws-session' });
    expect(frames.some((frame) => frame.event === 'ToolCallCompleted')).toBe(true);
    expect(String(frames.at(-1)?.content)).toContain('5');
    const invalid = collect(socket, (frame) => frame.event === 'error');
    socket.send(JSON.stringify({ nothing: true }));
    expect((await invalid).at(-1)?.error).toContain('Invalid message');
    socket.close();
  });

  it('refuses a socket without a valid token', async () => {
    for (const query of ['', '?token=wrong']) {
      const socket = new WebSocket(wsUrl(query));
      socket.on('error', () => {});
      const status = await new Promise<number | undefined>((resolve) => {
        socket.on('unexpected-response', (_request, response) => resolve(response.statusCode));
        socket.on('open', () => resolve(undefined));
      });
      expect(status).toBe(401);
      socket.terminate();
    }
    // A refused upgrade must not leave its socket open (it would hold shutdown for the full timeout).
    const started = Date.now();
    await server.close();
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe('WS /ws/agents/{agent_id} after its key is revoked', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer({
      env: { AGENTOS_API_KEY: KEY },
      config: { agents: [{ id: 'assistant', name: 'Assistant', model: 'local:default' }] },
    });
  });
  afterAll(async () => {
    await server.close();
  });

  it('refuses the next run on an open socket and closes it', async () => {
    const key = generateApiKey();
    await server.services.store.apiKeys.create({ ...key, name: 'revoked-later', scopes: ['admin'] });
    const socket = new WebSocket(`${server.url.replace('http', 'ws')}/ws/agents/assistant?token=${key.plaintext}`);
    await new Promise((resolve) => socket.once('open', resolve));
    const first = collect(socket, (frame) => frame.event === 'RunCompleted');
    socket.send(JSON.stringify({ message: 'hello' }));
    expect((await first).at(-1)).toMatchObject({ event: 'RunCompleted' });

    await server.services.store.apiKeys.revoke(key.id);
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    const refused = collect(socket, (frame) => frame.event === 'error');
    socket.send(JSON.stringify({ message: 'hello again' }));
    expect((await refused).at(-1)).toMatchObject({ event: 'error', code: 'AOS_AUTH_INVALID' });
    expect(await closed).toBe(1008);
  });
});
