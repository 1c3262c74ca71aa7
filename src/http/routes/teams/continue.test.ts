/**
 * Team pause paths over real HTTP (issue 8): a member of a team calls a tool that needs a human, the
 * team run pauses (TeamRunPaused, an approvals row), and `/teams/{id}/runs/{run_id}/continue`
 * finishes the member and then the team, also on a new server process over the same database.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeOpenAI, type RecordedRequest, startFakeOpenAI } from '../../../../test/fake-openai.js';
import { startTestServer } from '../../../../test/helpers.js';
import { SseReader } from '../../../../test/sse.js';
import type { AgentOsConfigInput } from '../../../config/index.js';
import type { RunningServer } from '../../../main.js';

// biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field
type Json = any;

const MODEL = 'openai:gpt-4o-mini';

function systemOf(request: RecordedRequest): string {
  return String(request.body.messages?.find((message) => message.role === 'system')?.content ?? '');
}

function lastToolResult(request: RecordedRequest): string | undefined {
  const last = request.body.messages?.at(-1);
  return last?.role === 'tool' ? String(last.content) : undefined;
}

/** Leaders delegate 6*7 to Calc; Calc calls the calculator, then reports its result. */
function upstream(request: RecordedRequest) {
  const system = systemOf(request);
  const toolResult = lastToolResult(request);
  if (system.startsWith('You are Calc.')) {
    if (toolResult !== undefined) return { text: `Calc says ${toolResult}` };
    return { toolCalls: [{ id: 'call_calc', name: 'calculator', arguments: { expression: '6*7' } }] };
  }
  if (system.startsWith('You are Crew.')) {
    if (toolResult !== undefined) return { text: `Crew: ${toolResult}` };
    // The member the leader's instructions list as Calc.
    const memberId = /- ([\w-]+): Calc/.exec(system)?.[1] ?? 'calc';
    return {
      toolCalls: [
        { id: 'call_lead', name: 'transfer_task_to_member', arguments: { member_id: memberId, task: 'What is 6*7?' } },
      ],
    };
  }
  if (system.startsWith('You are Panel.')) return { text: 'Panel merged the answers' };
  if (system.startsWith('You are Router.')) {
    return { toolCalls: [{ id: 'call_route', name: 'route_to_member', arguments: { member_id: 'calc' } }] };
  }
  return { text: 'unexpected' };
}

function configOf(extra: Partial<AgentOsConfigInput> = {}): AgentOsConfigInput {
  return {
    agents: [{ id: 'calc', name: 'Calc', model: MODEL, tools: [{ name: 'calculator', requires_confirmation: true }] }],
    teams: [
      { id: 'crew', name: 'Crew', model: MODEL, mode: 'coordinate', members: ['calc'] },
      { id: 'panel', name: 'Panel', model: MODEL, mode: 'collaborate', members: ['calc'] },
      { id: 'router', name: 'Router', model: MODEL, mode: 'route', members: ['calc'] },
    ],
    ...extra,
  };
}

async function call(server: RunningServer, path: string, body: unknown): Promise<{ status: number; body: Json }> {
  const response = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

async function get(server: RunningServer, path: string): Promise<Json> {
  return (await fetch(`${server.url}${path}`)).json();
}

async function eventsOf(server: RunningServer, teamId: string, runId: string): Promise<Json[]> {
  const response = await fetch(`${server.url}/teams/${teamId}/runs/${runId}/resume`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ last_event_index: -1 }),
  });
  return (await new SseReader(response).all()).map((frame) => frame.data);
}

describe('team runs pause at a member tool and continue', () => {
  let fake: FakeOpenAI;
  let server: RunningServer;

  beforeAll(async () => {
    fake = await startFakeOpenAI({ defaultReply: upstream });
    server = await startTestServer({
      env: { OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'test-key' },
      config: configOf(),
    });
  });
  afterAll(async () => {
    await server?.close();
    await fake?.close();
  });

  it('pauses the team, then a confirmation finishes the member and the team', async () => {
    const paused = await call(server, '/teams/crew/runs', { message: 'What is 6*7?' });
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({
      status: 'paused',
      tools: [{ tool_call_id: 'call_calc', tool_name: 'calculator', requires_confirmation: true }],
      requirements: [
        { tool_execution: { tool_call_id: 'call_calc' }, member_agent_id: 'calc', member_agent_name: 'Calc' },
      ],
    });
    const memberRunId = paused.body.requirements[0].member_run_id;
    expect(await get(server, `/agents/calc/runs/${memberRunId}`)).toMatchObject({ status: 'paused' });
    const approval = await get(server, `/approvals/${paused.body.tools[0].approval_id}`);
    expect(approval).toMatchObject({
      status: 'pending',
      source_type: 'team',
      team_id: 'crew',
      run_id: paused.body.run_id,
      tool_name: 'calculator',
      run_status: 'paused',
    });
    // The member run is continued through its team only.
    expect((await call(server, `/agents/calc/runs/${memberRunId}/continue`, { tools: [] })).status).toBe(409);

    const done = await call(server, `/teams/crew/runs/${paused.body.run_id}/continue`, {
      tools: [{ tool_call_id: 'call_calc', confirmed: true }],
    });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({
      status: 'completed',
      member_responses: [{ agent_id: 'calc', status: 'completed' }],
    });
    expect(done.body.content).toMatch(/^Crew: Calc says .*42/);
    expect(await get(server, `/agents/calc/runs/${memberRunId}`)).toMatchObject({ status: 'completed' });
    expect((await get(server, `/approvals/${approval.id}`)).status).toBe('approved');

    const names = (await eventsOf(server, 'crew', paused.body.run_id)).map((event) => `${event.event}:${event.role}`);
    const from = names.indexOf('RunPaused:member');
    expect(names.slice(from, from + 5)).toEqual([
      'RunPaused:member',
      'TeamRunPaused:undefined',
      'TeamRunContinued:undefined',
      'RunContinued:member',
      'ToolCallStarted:member',
    ]);
    // The delegation completes once, with the member's answer, after the member finished.
    expect(names.filter((name) => name === 'TeamToolCallCompleted:leader')).toHaveLength(1);
    expect(names.indexOf('RunCompleted:member')).toBeLessThan(names.indexOf('TeamToolCallCompleted:leader'));
    expect(names.at(-1)).toBe('TeamRunCompleted:undefined');
    // A run continues once.
    const again = await call(server, `/teams/crew/runs/${paused.body.run_id}/continue`, {
      tools: [{ tool_call_id: 'call_calc', confirmed: true }],
    });
    expect(again.status).toBe(409);
  });

  it('does not run a rejected tool and tells the member why', async () => {
    const paused = await call(server, '/teams/crew/runs', { message: 'What is 6*7?' });
    const done = await call(server, `/teams/crew/runs/${paused.body.run_id}/continue`, {
      requirements: [
        { tool_execution: { tool_call_id: 'call_calc' }, confirmation: false, confirmation_note: 'not today' },
      ],
    });
    expect(done.body).toMatchObject({
      status: 'completed',
      content: 'Crew: Calc says Function call was rejected by the user: not today',
    });
    const events = await eventsOf(server, 'crew', paused.body.run_id);
    expect(events.some((event) => event.event === 'ToolCallCompleted' && event.role === 'member')).toBe(false);
    expect((await get(server, `/approvals/${paused.body.tools[0].approval_id}`)).status).toBe('rejected');
  });

  it('streams the continue and pauses a collaborating team too', async () => {
    const paused = await call(server, '/teams/panel/runs', { message: 'What is 6*7?' });
    expect(paused.body).toMatchObject({ status: 'paused', member_responses: [{ status: 'paused' }] });
    const response = await fetch(`${server.url}/teams/panel/runs/${paused.body.run_id}/continue`, {
      method: 'POST',
      body: new URLSearchParams({
        tools: JSON.stringify([{ tool_call_id: 'call_calc', confirmed: true }]),
        stream: 'true',
      }),
    });
    expect(response.headers.get('content-type')).toMatch(/text\/event-stream/);
    const frames = (await new SseReader(response).all()).map((frame) => frame.data);
    expect(frames[0].event).toBe('TeamRunContinued');
    expect(frames.at(-1)).toMatchObject({ event: 'TeamRunCompleted', content: 'Panel merged the answers' });
    expect((await get(server, `/teams/panel/runs/${paused.body.run_id}`)).status).toBe('completed');
  });

  it('a routed member that pauses answers the request once continued', async () => {
    const paused = await call(server, '/teams/router/runs', { message: 'What is 6*7?' });
    expect(paused.body).toMatchObject({ status: 'paused', requirements: [{ member_agent_id: 'calc' }] });
    const done = await call(server, `/teams/router/runs/${paused.body.run_id}/continue`, {
      tools: [{ tool_call_id: 'call_calc', confirmed: true }],
    });
    expect(done.body).toMatchObject({ status: 'completed', member_responses: [{ agent_id: 'calc' }] });
    expect(done.body.content).toMatch(/^Calc says .*42/);
  });

  it('answers 400 for malformed decisions, 404 for an unknown run, and cancels a paused team with its member', async () => {
    const paused = await call(server, '/teams/crew/runs', { message: 'What is 6*7?' });
    const path = `/teams/crew/runs/${paused.body.run_id}/continue`;
    expect((await call(server, path, { tools: '[{' })).status).toBe(400);
    expect((await call(server, path, { tools: [{ tool_call_id: 'nope', confirmed: true }] })).status).toBe(400);
    expect((await call(server, path, { tools: [] })).status).toBe(400);
    expect((await call(server, `/teams/crew/runs/missing/continue`, { tools: [] })).status).toBe(404);
    const cancelled = await call(server, `/teams/crew/runs/${paused.body.run_id}/cancel`, {});
    expect(cancelled.status).toBe(200);
    expect((await get(server, `/teams/crew/runs/${paused.body.run_id}`)).status).toBe('cancelled');
    const memberRunId = paused.body.requirements[0].member_run_id;
    expect((await get(server, `/agents/calc/runs/${memberRunId}`)).status).toBe('cancelled');
    expect((await get(server, `/approvals/${paused.body.tools[0].approval_id}`)).status).toBe('cancelled');
  });
});

describe('a team member tool with a required approval', () => {
  const RUNNER_KEY = 'runner-key-0123456789abcdef';
  const APPROVER_KEY = 'approver-key-0123456789abcdef';
  let fake: FakeOpenAI;
  let server: RunningServer;
  const as = async (key: string, path: string, body: unknown): Promise<{ status: number; body: Json }> => {
    const response = await fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: await response.json() };
  };

  beforeAll(async () => {
    fake = await startFakeOpenAI({ defaultReply: upstream });
    server = await startTestServer({
      env: { OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'test-key', AGENTOS_API_KEY: 'admin-key-0123456789abcdef' },
      config: {
        agents: [{ id: 'gated', name: 'Calc', model: MODEL, tools: [{ name: 'calculator', approval: 'required' }] }],
        teams: [{ id: 'gated-crew', name: 'Crew', model: MODEL, mode: 'coordinate', members: ['gated'] }],
        auth: {
          api_keys: [
            { name: 'runner', key: RUNNER_KEY, scopes: ['teams:run', 'teams:read'] },
            { name: 'approver', key: APPROVER_KEY, scopes: ['approvals:read', 'approvals:write'] },
          ],
        },
      },
    });
  });
  afterAll(async () => {
    await server?.close();
    await fake?.close();
  });

  it('refuses continue with 403 while the approval is pending, then applies the resolution', async () => {
    const paused = await as(RUNNER_KEY, '/teams/gated-crew/runs', { message: 'What is 6*7?' });
    expect(paused.body).toMatchObject({ status: 'paused', tools: [{ approval_type: 'required' }] });
    const path = `/teams/gated-crew/runs/${paused.body.run_id}/continue`;
    const refused = await as(RUNNER_KEY, path, { tools: [{ tool_call_id: 'call_calc', confirmed: true }] });
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('AOS_APPROVAL_PENDING');
    const approvalId = paused.body.tools[0].approval_id;
    expect((await as(APPROVER_KEY, `/approvals/${approvalId}/resolve`, { status: 'approved' })).status).toBe(200);
    const done = await as(RUNNER_KEY, path, { tools: [] });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ status: 'completed', content: expect.stringContaining('42') });
  });
});

describe('a paused team run across a restart', () => {
  const dir = mkdtempSync(join(tmpdir(), 'agentos-team-hitl-'));
  let fake: FakeOpenAI;
  let server: RunningServer | undefined;

  beforeAll(async () => {
    fake = await startFakeOpenAI({ defaultReply: upstream });
  });
  afterAll(async () => {
    await server?.close();
    await fake?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('continues on a new server a team run paused before the old one stopped', async () => {
    const options = {
      env: { OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'test-key' },
      config: configOf({ database: { url: `sqlite:${join(dir, 'agentos.db')}` } }),
    };
    server = await startTestServer(options);
    const paused = await call(server, '/teams/crew/runs', { message: 'What is 6*7?' });
    expect(paused.body.status).toBe('paused');
    await server.close();
    server = await startTestServer(options);
    expect((await get(server, `/teams/crew/runs/${paused.body.run_id}`)).status).toBe('paused');
    const done = await call(server, `/teams/crew/runs/${paused.body.run_id}/continue`, {
      tools: [{ tool_call_id: 'call_calc', confirmed: true }],
    });
    expect(done.body).toMatchObject({ status: 'completed', run_id: paused.body.run_id });
    expect(done.body.content).toMatch(/42/);
    const indexes = (await eventsOf(server, 'crew', paused.body.run_id)).map((event) => event.event_index);
    expect(indexes).toEqual(indexes.map((_, index) => index));
  });
});
