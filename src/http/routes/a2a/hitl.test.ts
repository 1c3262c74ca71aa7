/**
 * Human in the loop over A2A with the official @a2a-js/sdk client (issue 11): a run that pauses at a gated
 * tool call ends its task `input-required`, and a reply on the same task continues it through the REST
 * continue path, approvals gate included. The offline `local:default` model calls the calculator for
 * "What is 6*7?".
 */
import { type Message, SendMessageRequest, type Task, TaskState } from '@a2a-js/sdk';
import { type Client, ClientFactory, DefaultAgentCardResolver, RestTransportFactory } from '@a2a-js/sdk/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer } from '../../../../test/helpers.js';
import type { AgentOsConfigInput } from '../../../config/index.js';
import type { RunningServer } from '../../../main.js';

const RUNNER_KEY = 'aos_a2a_hitl_runner_key_0123456789';
const APPROVER_KEY = 'aos_a2a_hitl_approver_key_0123456789';

const AGENTS: AgentOsConfigInput['agents'] = [
  { id: 'audited', model: 'local:default', tools: [{ name: 'calculator', requires_confirmation: true }] },
  { id: 'guarded', model: 'local:default', tools: [{ name: 'calculator', approval: 'required' }] },
];

function authFetch(key: string): typeof fetch {
  return (input, init) => {
    const headers = new Headers(init?.headers);
    headers.set('authorization', `Bearer ${key}`);
    return fetch(input, { ...init, headers });
  };
}

function request(parts: unknown[], ids: { taskId?: string; contextId?: string } = {}): SendMessageRequest {
  return SendMessageRequest.fromJSON({
    message: { messageId: `m-${Math.random()}`, role: 'ROLE_USER', ...ids, parts },
  });
}

function textOf(message: Message | undefined): string {
  return (message?.parts ?? []).map((part) => (part.content?.$case === 'text' ? part.content.value : '')).join('');
}

function dataOf(message: Message | undefined): unknown {
  const part = message?.parts.find((candidate) => candidate.content?.$case === 'data');
  return part?.content?.$case === 'data' ? part.content.value : undefined;
}

function replyOf(task: Task): string {
  return (task.artifacts[0]?.parts ?? [])
    .map((part) => (part.content?.$case === 'text' ? part.content.value : ''))
    .join('');
}

describe('A2A human in the loop (input-required, continue on the same task)', () => {
  let server: RunningServer;
  const clients = new Map<string, Client>();

  async function clientFor(key: string, agentId: string): Promise<Client> {
    const cached = clients.get(`${key}/${agentId}`);
    if (cached) return cached;
    const fetchImpl = authFetch(key);
    const factory = new ClientFactory({
      transports: [new RestTransportFactory({ fetchImpl })],
      cardResolver: new DefaultAgentCardResolver({ fetchImpl }),
    });
    const client = await factory.createFromUrl(`${server.url}/a2a/agents/${agentId}/`);
    clients.set(`${key}/${agentId}`, client);
    return client;
  }

  async function send(key: string, agentId: string, body: SendMessageRequest): Promise<Task> {
    return (await (await clientFor(key, agentId)).sendMessage(body)) as Task;
  }

  /** A raw send, for the refusals' exact status and code. */
  async function rawSend(key: string, agentId: string, message: Record<string, unknown>) {
    const response = await fetch(`${server.url}/a2a/agents/${agentId}/v1/message:send`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ message: { messageId: `m-${Math.random()}`, role: 'ROLE_USER', ...message } }),
    });
    return { status: response.status, body: (await response.json()) as { code?: string } };
  }

  beforeAll(async () => {
    server = await startTestServer({
      config: {
        agents: AGENTS,
        auth: {
          api_keys: [
            { name: 'runner', key: RUNNER_KEY, scopes: ['agents:read', 'agents:run'] },
            { name: 'approver', key: APPROVER_KEY, scopes: ['agents:read', 'agents:run', 'approvals:write'] },
          ],
        },
      },
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('ends a paused run input-required, naming the call, and "yes" on the task runs it', async () => {
    const paused = await send(RUNNER_KEY, 'audited', request([{ text: 'What is 6*7?' }], { contextId: 'a2a-hitl-1' }));
    expect(paused.status?.state).toBe(TaskState.TASK_STATE_INPUT_REQUIRED);
    expect(paused.contextId).toBe('a2a-hitl-1');
    expect(textOf(paused.status?.message)).toContain('calculator(');
    expect(dataOf(paused.status?.message)).toMatchObject({
      pending_tools: [{ tool_name: 'calculator', requires_confirmation: true }],
    });
    // tasks/get shows the same question.
    const fetched = await (await clientFor(RUNNER_KEY, 'audited')).getTask({ id: paused.id, tenant: '' } as never);
    expect(fetched.status?.state).toBe(TaskState.TASK_STATE_INPUT_REQUIRED);

    const done = await send(
      RUNNER_KEY,
      'audited',
      request([{ text: 'yes' }], { taskId: paused.id, contextId: paused.contextId }),
    );
    expect(done.id).toBe(paused.id);
    expect(done.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(replyOf(done)).toContain('42');
    const run = await server.services.store.runs.get('default', paused.id);
    expect(run?.status).toBe('completed');

    // A finished task takes no reply (as the REST continue route: 409).
    const again = await rawSend(RUNNER_KEY, 'audited', { taskId: paused.id, parts: [{ text: 'yes' }] });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('AOS_RUN_INVALID_TRANSITION');
  });

  it('streams input-required with the question, and a data part {confirmed: false} refuses the call', async () => {
    const client = await clientFor(RUNNER_KEY, 'audited');
    let taskId = '';
    let contextId = '';
    let last: { state?: TaskState; message?: Message } = {};
    for await (const event of client.sendMessageStream(request([{ text: 'What is 6*7?' }]))) {
      const payload = event.payload;
      if (payload?.$case === 'task') ({ id: taskId, contextId } = payload.value);
      if (payload?.$case === 'statusUpdate')
        last = { state: payload.value.status?.state, message: payload.value.status?.message };
    }
    expect(last.state).toBe(TaskState.TASK_STATE_INPUT_REQUIRED);
    expect(textOf(last.message)).toContain('calculator(');

    let finalState: TaskState | undefined;
    for await (const event of client.sendMessageStream(
      request([{ data: { confirmed: false, note: 'not now' } }], { taskId, contextId }),
    )) {
      if (event.payload?.$case === 'statusUpdate') finalState = event.payload.value.status?.state;
    }
    expect(finalState).toBe(TaskState.TASK_STATE_COMPLETED);
    const events = await server.services.store.runEvents.list(taskId);
    const continued = events.find((entry) => entry.event === 'RunContinued')?.payload as
      | { tools?: { confirmed?: boolean; confirmation_note?: string }[] }
      | undefined;
    expect(continued?.tools?.[0]).toMatchObject({ confirmed: false, confirmation_note: 'not now' });
  });

  it('gates approval: required tools: 403 without approvals:write, then an approver continues the task', async () => {
    const paused = await send(RUNNER_KEY, 'guarded', request([{ text: 'What is 6*7?' }]));
    expect(paused.status?.state).toBe(TaskState.TASK_STATE_INPUT_REQUIRED);
    expect(textOf(paused.status?.message)).toContain('approver');

    const refused = await rawSend(RUNNER_KEY, 'guarded', {
      taskId: paused.id,
      contextId: paused.contextId,
      parts: [{ text: 'yes' }],
    });
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('AOS_APPROVAL_PENDING');
    await expect(
      send(RUNNER_KEY, 'guarded', request([{ text: 'yes' }], { taskId: paused.id, contextId: paused.contextId })),
    ).rejects.toThrow();
    expect((await server.services.store.runs.get('default', paused.id))?.status).toBe('paused');

    const done = await send(
      APPROVER_KEY,
      'guarded',
      request([{ text: 'yes' }], { taskId: paused.id, contextId: paused.contextId }),
    );
    expect(done.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(replyOf(done)).toContain('42');
    const [approval] = await server.services.store.approvals.listByRun('default', paused.id);
    expect(approval?.status).toBe('approved');
  });

  it('refuses replies it cannot apply with 4xx: another context, an unknown task, a malformed data part', async () => {
    const paused = await send(RUNNER_KEY, 'audited', request([{ text: 'What is 6*7?' }]));
    const otherContext = await rawSend(RUNNER_KEY, 'audited', {
      taskId: paused.id,
      contextId: 'not-the-tasks-context',
      parts: [{ text: 'yes' }],
    });
    expect(otherContext.status).toBe(404);
    expect((await rawSend(RUNNER_KEY, 'audited', { taskId: 'missing', parts: [{ text: 'yes' }] })).status).toBe(404);
    // A task of another agent reads as missing through this agent's path.
    expect((await rawSend(RUNNER_KEY, 'guarded', { taskId: paused.id, parts: [{ text: 'yes' }] })).status).toBe(404);
    const malformed = await rawSend(RUNNER_KEY, 'audited', { taskId: paused.id, parts: [{ data: { ok: 1 } }] });
    expect(malformed.status).toBe(400);
    // No decision in the text and no resolved approval: the call stays undecided (400), the run paused.
    const undecided = await rawSend(RUNNER_KEY, 'audited', { taskId: paused.id, parts: [{ text: 'hmm' }] });
    expect(undecided.status).toBe(400);
    expect((await server.services.store.runs.get('default', paused.id))?.status).toBe('paused');
  });
});
