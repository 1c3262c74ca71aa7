import { AgentCard, SendMessageRequest, TaskState } from '@a2a-js/sdk';
import { ClientFactory, DefaultAgentCardResolver, RestTransportFactory } from '@a2a-js/sdk/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeOpenAI, startFakeOpenAI } from '../../../../test/fake-openai.js';
import { startTestServer } from '../../../../test/helpers.js';
import type { RunningServer } from '../../../main.js';

const KEY = 'aos_a2a_full_key_0123456789';
const HELPER_ONLY = 'aos_a2a_helper_only_0123456789';

/** fetch with a bearer token, as an A2A client configured with credentials sends it. */
function authFetch(key: string | undefined): typeof fetch {
  return (input, init) => {
    const headers = new Headers(init?.headers);
    if (key) headers.set('authorization', `Bearer ${key}`);
    return fetch(input, { ...init, headers });
  };
}

function factoryFor(key: string | undefined): ClientFactory {
  const fetchImpl = authFetch(key);
  return new ClientFactory({
    transports: [new RestTransportFactory({ fetchImpl })],
    cardResolver: new DefaultAgentCardResolver({ fetchImpl }),
  });
}

function request(text: string, contextId = ''): SendMessageRequest {
  return SendMessageRequest.fromJSON({
    message: { messageId: `m-${Math.random()}`, role: 'ROLE_USER', contextId, parts: [{ text }] },
  });
}

describe('A2A (HTTP+JSON) with the @a2a-js/sdk client', () => {
  let server: RunningServer;
  let fake: FakeOpenAI;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    server = await startTestServer({
      env: { OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'test-key' },
      config: {
        agents: [
          { id: 'helper', name: 'Helper', description: 'Helps.', model: 'openai:gpt-4o-mini' },
          { id: 'secret', model: 'openai:gpt-4o-mini' },
        ],
        auth: {
          api_keys: [
            { name: 'full', key: KEY, scopes: ['agents:read', 'agents:run', 'sessions:read'] },
            { name: 'helper-only', key: HELPER_ONLY, scopes: ['agents:helper:read', 'agents:helper:run'] },
          ],
        },
      },
    });
  });
  afterAll(async () => {
    await server?.close();
    await fake?.close();
  });

  it('fetches the card and sends a message; the task is a run of a session visible in /sessions', async () => {
    const card = await new DefaultAgentCardResolver({ fetchImpl: authFetch(KEY) }).resolve(
      `${server.url}/a2a/agents/helper/`,
    );
    expect(card).toMatchObject({ name: 'Helper', description: 'Helps.' });
    expect(card.supportedInterfaces[0]).toMatchObject({
      url: `${server.url}/a2a/agents/helper/v1`,
      protocolBinding: 'HTTP+JSON',
      protocolVersion: '1.0',
    });
    expect(AgentCard.toJSON(card)).toHaveProperty('capabilities.streaming', true);

    fake.script({ text: 'Hello from helper' });
    const client = await factoryFor(KEY).createFromUrl(`${server.url}/a2a/agents/helper/`);
    const result = await client.sendMessage(request('hi over a2a', 'a2a-session-1'));
    const task = result as unknown as {
      id: string;
      contextId: string;
      status: { state: TaskState };
      artifacts: { parts: { content: { value: string } }[] }[];
    };
    expect(task.contextId).toBe('a2a-session-1');
    expect(task.status.state).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(task.artifacts[0]?.parts[0]?.content.value).toBe('Hello from helper');

    const sessions = (await (
      await fetch(`${server.url}/sessions`, { headers: { authorization: `Bearer ${KEY}` } })
    ).json()) as { sessions: { session_id: string }[] };
    expect(sessions.sessions.map((session) => session.session_id)).toContain('a2a-session-1');
    const runs = (await (
      await fetch(`${server.url}/sessions/a2a-session-1/runs`, { headers: { authorization: `Bearer ${KEY}` } })
    ).json()) as { runs: { run_id: string; content: string }[] };
    expect(runs.runs).toMatchObject([{ run_id: task.id, content: 'Hello from helper' }]);

    const fetched = await client.getTask({ id: task.id, tenant: '' } as never);
    expect(fetched.id).toBe(task.id);
    expect(fetched.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
  });

  it('streams a message as task, artifact chunks and a final status', async () => {
    fake.script({ text: 'one two three' });
    const client = await factoryFor(KEY).createFromUrl(`${server.url}/a2a/agents/helper/`);
    const kinds: string[] = [];
    let text = '';
    let finalState: TaskState | undefined;
    for await (const event of client.sendMessageStream(request('stream please'))) {
      const payload = event.payload;
      if (!payload) continue;
      kinds.push(payload.$case);
      if (payload.$case === 'artifactUpdate') {
        text += (payload.value.artifact?.parts ?? [])
          .map((part) => (part.content?.$case === 'text' ? part.content.value : ''))
          .join('');
      }
      if (payload.$case === 'statusUpdate') finalState = payload.value.status?.state;
    }
    expect(text).toBe('one two three');
    expect(finalState).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(kinds[0]).toBe('task');
    expect(kinds.at(-1)).toBe('statusUpdate');
    expect(kinds.filter((kind) => kind === 'artifactUpdate').length).toBeGreaterThanOrEqual(2);
  });

  it('cancels a running task', async () => {
    fake.script({ text: 'slow reply that never ends', hang: true });
    const response = fetch(`${server.url}/a2a/agents/helper/v1/message:stream`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ message: { messageId: 'm-c', role: 'ROLE_USER', parts: [{ text: 'wait' }] } }),
    });
    const reader = (await response).body?.getReader();
    const first = new TextDecoder().decode((await reader?.read())?.value);
    const taskId = (JSON.parse(first.replace(/^data: /, '')) as { task: { id: string } }).task.id;
    const client = await factoryFor(KEY).createFromUrl(`${server.url}/a2a/agents/helper/`);
    const cancelled = await client.cancelTask({ id: taskId, tenant: '', metadata: {} } as never);
    expect(cancelled.status?.state).toBe(TaskState.TASK_STATE_CANCELED);
    await reader?.cancel();
  });

  it('refuses without credentials, and for an agent the key has no scope on', async () => {
    await expect(factoryFor(undefined).createFromUrl(`${server.url}/a2a/agents/helper/`)).rejects.toThrow();
    const anonymous = await fetch(`${server.url}/a2a/agents/helper/v1/message:send`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message: { messageId: 'x', role: 'ROLE_USER', parts: [{ text: 'hi' }] } }),
    });
    expect(anonymous.status).toBe(401);
    const card = await fetch(`${server.url}/a2a/agents/secret/.well-known/agent-card.json`, {
      headers: { authorization: `Bearer ${HELPER_ONLY}` },
    });
    expect(card.status).toBe(403);
    const send = await fetch(`${server.url}/a2a/agents/secret/v1/message:send`, {
      method: 'POST',
      headers: { authorization: `Bearer ${HELPER_ONLY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ message: { messageId: 'x', role: 'ROLE_USER', parts: [{ text: 'hi' }] } }),
    });
    expect(send.status).toBe(403);
    const runs = await server.services.store.runs.list({
      workspaceId: 'default',
      componentId: 'secret',
      page: 1,
      limit: 5,
    });
    expect(runs.total).toBe(0);
    // A task of another agent reads as missing through this agent's path.
    const other = await fetch(`${server.url}/a2a/agents/helper/v1/tasks/nope`, {
      headers: { authorization: `Bearer ${KEY}` },
    });
    expect(other.status).toBe(404);
  });
});
