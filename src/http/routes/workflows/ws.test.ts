import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestServer } from '../../../../test/helpers.js';
import { parseFrames } from '../../../../test/sse.js';
import type { WorkflowFunctionContext } from '../../../config/workflow-schema.js';
import type { RunningServer } from '../../../main.js';

const KEY = 'aos_workflow_ws_key_abcdefghijklmnop';

/** One received frame: a JSON control message, or a run event sent as an SSE-formatted string. */
type Frame =
  | { kind: 'control'; data: Record<string, unknown> }
  | { kind: 'event'; raw: string; data: Record<string, unknown> };

class Client {
  readonly frames: Frame[] = [];
  private waiters: (() => void)[] = [];
  constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const text = String(data);
      if (text.startsWith('id: ') || text.startsWith('event: ')) {
        const frame = parseFrames(text).frames[0];
        this.frames.push({ kind: 'event', raw: text, data: frame?.data });
      } else {
        this.frames.push({ kind: 'control', data: JSON.parse(text) });
      }
      for (const waiter of this.waiters.splice(0)) waiter();
    });
  }
  static async open(url: string): Promise<Client> {
    const socket = new WebSocket(url);
    const client = new Client(socket);
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    return client;
  }
  send(action: Record<string, unknown>): void {
    this.socket.send(JSON.stringify(action));
  }
  /** Resolves with the first frame after `from` that matches. */
  async next(match: (frame: Frame) => boolean, from = 0): Promise<Frame> {
    for (;;) {
      const found = this.frames.slice(from).find(match);
      if (found) return found;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no matching frame')), 5_000);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
  events(): Record<string, unknown>[] {
    return this.frames.filter((frame) => frame.kind === 'event').map((frame) => frame.data);
  }
}

const control = (event: string) => (frame: Frame) => frame.kind === 'control' && frame.data.event === event;
const runEvent = (event: string) => (frame: Frame) => frame.kind === 'event' && frame.data.event === event;

describe('WS /workflows/ws', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer({
      env: { AGENTOS_API_KEY: KEY },
      config: {
        functions: {
          greet: ({ input }: WorkflowFunctionContext) => `hello ${String(input)}`,
          shout: ({ input }: WorkflowFunctionContext) => String(input).toUpperCase(),
        },
        workflows: [
          { id: 'greeter', steps: [{ name: 'greet', function: 'greet' }] },
          {
            id: 'gated',
            steps: [
              { name: 'greet', function: 'greet' },
              { name: 'shout', function: 'shout', requires_confirmation: true },
            ],
          },
        ],
      },
    });
  });
  afterAll(async () => {
    await server.close();
  });
  const url = () => `${server.url.replace('http', 'ws')}/workflows/ws`;

  it('greets, requires in-band authentication, answers ping and unknown actions', async () => {
    const client = await Client.open(url());
    expect((await client.next(control('connected'))).data).toMatchObject({ requires_auth: true });
    client.send({ action: 'ping' });
    await client.next(control('pong'));
    client.send({ action: 'start-workflow', workflow_id: 'greeter', message: 'x' });
    await client.next(control('auth_required'));
    client.send({ action: 'authenticate', token: 'wrong' });
    expect((await client.next(control('auth_error'))).data.error_type).toBe('invalid_token');
    client.send({ action: 'authenticate', token: KEY });
    await client.next(control('authenticated'));
    client.send({ action: 'dance' });
    expect((await client.next(control('error'))).data.error).toBe('Unknown action: dance');
    client.socket.close();
  });

  it('closes with 1008 when a page of another origin opens the socket (browsers apply no CORS here)', async () => {
    const socket = new WebSocket(`${url()}?token=${KEY}`, { headers: { origin: 'http://evil.example' } });
    const [code] = await new Promise<[number, string]>((resolve) =>
      socket.once('close', (closeCode, reason) => resolve([closeCode, reason.toString()])),
    );
    expect(code).toBe(1008);
  });

  it('starts a workflow and streams its events as SSE-formatted text frames', async () => {
    const client = await Client.open(`${url()}?token=${KEY}`);
    expect((await client.next(control('connected'))).data.requires_auth).toBe(false);
    client.send({ action: 'start-workflow', workflow_id: 'greeter', message: 'world', session_id: 'ws-wf' });
    const completed = await client.next(runEvent('WorkflowCompleted'));
    expect(completed.data).toMatchObject({ content: 'hello world', session_id: 'ws-wf', workflow_id: 'greeter' });
    const first = client.frames.find((frame) => frame.kind === 'event') as Extract<Frame, { kind: 'event' }>;
    expect(first.raw).toMatch(/^id: 0\nevent: WorkflowStarted\ndata: \{.*\}\n\n$/);
    client.send({ action: 'start-workflow', workflow_id: 'missing', message: 'x' });
    expect((await client.next(control('error'))).data.code).toBe('AOS_NOT_FOUND');
    client.socket.close();
  });

  it('reconnects to a run and replays what came after last_event_index, then continues a paused run', async () => {
    const first = await Client.open(`${url()}?token=${KEY}`);
    first.send({ action: 'start-workflow', workflow_id: 'gated', message: 'moon' });
    const paused = await first.next(runEvent('WorkflowPaused'));
    const runId = String(paused.data.run_id);
    const seen = first.events().length;
    first.socket.close();

    // A new connection picks the run up where the old one stopped reading.
    const second = await Client.open(url());
    await second.next(control('connected'));
    second.send({ action: 'authenticate', token: KEY });
    await second.next(control('authenticated'));
    second.send({ action: 'reconnect', run_id: runId, workflow_id: 'gated', last_event_index: 1 });
    expect((await second.next(control('replay'))).data).toMatchObject({ run_id: runId, status: 'paused' });
    await second.next(runEvent('WorkflowPaused'));
    expect(second.events().map((event) => event.event_index)).toEqual(
      Array.from({ length: seen - 2 }, (_, index) => index + 2),
    );

    const mark = second.frames.length;
    second.send({
      action: 'continue-workflow',
      workflow_id: 'gated',
      run_id: runId,
      step_requirements: [{ confirmed: true }],
    });
    const done = await second.next(runEvent('WorkflowCompleted'), mark);
    expect(done.data).toMatchObject({ content: 'HELLO MOON', run_id: runId, event_index: seen + 4 });
    second.send({ action: 'reconnect', run_id: runId, workflow_id: 'other', last_event_index: -1 });
    expect((await second.next(control('error'), mark)).data.code).toBe('AOS_NOT_FOUND');
    second.socket.close();
  });
});
