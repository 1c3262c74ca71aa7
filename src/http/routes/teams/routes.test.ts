import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeOpenAI, type RecordedRequest, startFakeOpenAI } from '../../../../test/fake-openai.js';
import { buildTestApp, type TestApp } from '../../../../test/helpers.js';
import { parseFrames } from '../../../../test/sse.js';

/** The system prompt of a model request: who is being asked. */
function systemOf(request: RecordedRequest): string {
  const system = request.body.messages?.find((message) => message.role === 'system');
  return String(system?.content ?? '');
}

function lastMessage(request: RecordedRequest): Record<string, unknown> {
  return request.body.messages?.at(-1) ?? {};
}

function lastUser(request: RecordedRequest): string {
  const users = (request.body.messages ?? []).filter((message) => message.role === 'user');
  return String(users.at(-1)?.content ?? '');
}

/**
 * The scripted upstream plays every part: members answer in their own voice, the leaders call their
 * tools first and then write the final answer from the tool result.
 */
function teamUpstream(request: RecordedRequest) {
  const system = systemOf(request);
  const toolResult = lastMessage(request).role === 'tool' ? String(lastMessage(request).content) : undefined;
  if (system.startsWith('You are Researcher.')) return { text: `facts about ${lastUser(request)}` };
  if (system.startsWith('You are Writer.')) return { text: `prose about ${lastUser(request)}` };
  if (system.startsWith('You are Coordinators.')) {
    if (toolResult !== undefined) return { text: `Synthesis: ${toolResult}` };
    return {
      toolCalls: [{ name: 'transfer_task_to_member', arguments: { member_id: 'researcher', task: 'tides' } }],
    };
  }
  if (system.startsWith('You are Router.')) {
    return { toolCalls: [{ name: 'route_to_member', arguments: { member_id: 'writer' } }] };
  }
  if (system.startsWith('You are Panel.')) return { text: `Merged: ${lastUser(request).replace(/\n+/g, ' | ')}` };
  if (system.startsWith('You are Outer.')) {
    if (toolResult !== undefined) return { text: `Outer done: ${toolResult}` };
    return { toolCalls: [{ name: 'transfer_task_to_member', arguments: { member_id: 'panel', task: 'moon' } }] };
  }
  return { text: 'unexpected' };
}

describe('team runs', () => {
  let fake: FakeOpenAI;
  let test: TestApp;

  beforeAll(async () => {
    fake = await startFakeOpenAI({ defaultReply: teamUpstream });
    test = await buildTestApp(
      {
        agents: [
          { id: 'researcher', name: 'Researcher', model: 'openai:gpt-4o-mini' },
          { id: 'writer', name: 'Writer', model: 'openai:gpt-4o-mini' },
        ],
        teams: [
          {
            id: 'coord',
            name: 'Coordinators',
            mode: 'coordinate',
            model: 'openai:gpt-4o',
            members: ['researcher', 'writer'],
          },
          { id: 'router', name: 'Router', mode: 'route', model: 'openai:gpt-4o', members: ['researcher', 'writer'] },
          {
            id: 'panel',
            name: 'Panel',
            mode: 'collaborate',
            model: 'openai:gpt-4o',
            members: ['researcher', 'writer'],
          },
          { id: 'outer', name: 'Outer', mode: 'coordinate', model: 'openai:gpt-4o', members: ['panel', 'writer'] },
        ],
      },
      { OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'test-key' },
    );
  });
  afterAll(async () => {
    await test.close();
    await fake.close();
  });
  beforeEach(() => fake.reset());

  const run = (teamId: string, body: Record<string, unknown>) =>
    test.app.inject({ method: 'POST', url: `/teams/${teamId}/runs`, payload: body });

  it('coordinate: the leader delegates through the transfer tool, then synthesizes', async () => {
    const response = await run('coord', { message: 'tell me about tides' });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({ team_id: 'coord', team_name: 'Coordinators', status: 'completed' });
    expect(body.content).toBe('Synthesis: facts about tides');
    expect(body.member_responses).toHaveLength(1);
    expect(body.member_responses[0]).toMatchObject({ agent_id: 'researcher', content: 'facts about tides' });
    // Leader, member, leader again: three model calls, the member asked with the leader's task.
    expect(fake.modelRequests.map((request) => systemOf(request).split('.')[0])).toEqual([
      'You are Coordinators',
      'You are Researcher',
      'You are Coordinators',
    ]);
    // The member call is a child run stored with its parent.
    const child = await test.services.store.runs.get('default', body.member_responses[0].run_id);
    expect(child).toMatchObject({ parentRunId: body.run_id, componentType: 'agent', componentId: 'researcher' });
    expect(child?.status).toBe('completed');
  });

  it('route: the chosen member answers and its answer is the team answer', async () => {
    const body = (await run('router', { message: 'a poem on rain' })).json();
    expect(body.content).toBe('prose about a poem on rain');
    expect(body.member_responses.map((member: { agent_id: string }) => member.agent_id)).toEqual(['writer']);
    // One leader call (it only chooses), one member call: the researcher is never asked.
    expect(fake.modelRequests.map((request) => systemOf(request).split('.')[0])).toEqual([
      'You are Router',
      'You are Writer',
    ]);
  });

  it('collaborate: every member answers, the leader merges their answers', async () => {
    const body = (await run('panel', { message: 'volcanoes' })).json();
    expect(body.member_responses.map((member: { agent_id: string }) => member.agent_id).sort()).toEqual([
      'researcher',
      'writer',
    ]);
    expect(body.content).toContain('facts about volcanoes');
    expect(body.content).toContain('prose about volcanoes');
    expect(body.content.startsWith('Merged: ')).toBe(true);
    expect(fake.modelRequests).toHaveLength(3);
    expect(systemOf(fake.modelRequests.at(-1) as RecordedRequest)).toMatch(/^You are Panel\./);
  });

  it('streams one numbered sequence in which every event says who speaks', async () => {
    const response = await run('coord', { message: 'tides', stream: true });
    expect(response.headers['content-type']).toContain('text/event-stream');
    const { frames } = parseFrames(response.body);
    const events = frames.map((frame) => frame.data);
    expect(events.map((event) => event.event_index)).toEqual(events.map((_, index) => index));
    expect(events[0]).toMatchObject({ event: 'TeamRunStarted', team_id: 'coord' });
    const last = events.at(-1);
    expect(last).toMatchObject({ event: 'TeamRunCompleted', content: 'Synthesis: facts about tides' });
    expect(last.member_responses[0].agent_id).toBe('researcher');
    const runId = events[0].run_id;
    // Leader events are Team… events; member events keep agent names and carry agent_id, parent_run_id and role.
    expect(events.some((event) => event.event === 'TeamToolCallStarted' && event.role === 'leader')).toBe(true);
    const memberEvents = events.filter((event) => event.role === 'member');
    expect(memberEvents.map((event) => event.event)).toEqual(
      expect.arrayContaining(['RunStarted', 'RunContent', 'RunCompleted']),
    );
    for (const event of memberEvents) {
      expect(event).toMatchObject({ agent_id: 'researcher', parent_run_id: runId, run_id: runId });
      expect(event.member_run_id).toEqual(expect.any(String));
    }
    for (const event of events.filter((item) => item.role !== 'member')) expect(event.agent_id).toBeUndefined();
  });

  it('a team can be a member: nested events name their team and their own parent', async () => {
    const response = await run('outer', { message: 'moon', stream: true });
    const events = parseFrames(response.body).frames.map((frame) => frame.data);
    const outerRunId = events[0].run_id;
    const nestedStart = events.find((event) => event.event === 'TeamRunStarted' && event.team_id === 'panel');
    expect(nestedStart).toMatchObject({ parent_run_id: outerRunId, role: 'member' });
    const nestedMembers = events.filter((event) => event.role === 'member' && event.agent_id !== undefined);
    expect(nestedMembers.length).toBeGreaterThan(0);
    for (const event of nestedMembers) {
      expect(event.team_id).toBe('panel');
      expect(event.parent_run_id).toBe(nestedStart.member_run_id);
    }
    const final = events.at(-1);
    expect(final.event).toBe('TeamRunCompleted');
    expect(final.content).toMatch(/^Outer done: Merged: /);
    expect(final.member_responses[0]).toMatchObject({ team_id: 'panel' });
  });

  it('lists, gets, runs in the background and replays a team run', async () => {
    const accepted = await run('panel', { message: 'ice', background: true, session_id: 'team-session' });
    expect(accepted.statusCode).toBe(202);
    const { run_id: runId } = accepted.json();
    await test.services.runs.replay('default', runId, -1, { onEvent: () => {}, onEnd: () => {} });
    let polled = await test.app.inject({ method: 'GET', url: `/teams/panel/runs/${runId}` });
    for (let attempt = 0; attempt < 100 && polled.json().status !== 'completed'; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      polled = await test.app.inject({ method: 'GET', url: `/teams/panel/runs/${runId}` });
    }
    expect(polled.json()).toMatchObject({ status: 'completed', session_id: 'team-session' });
    const list = (await test.app.inject({ method: 'GET', url: '/teams/panel/runs?session_id=team-session' })).json();
    expect(list.runs.map((item: { run_id: string }) => item.run_id)).toEqual([runId]);
    const resumed = await test.app.inject({
      method: 'POST',
      url: `/teams/panel/runs/${runId}/resume`,
      payload: { last_event_index: 2 },
    });
    const replayed = parseFrames(resumed.body).frames.map((frame) => frame.data);
    expect(replayed[0].event_index).toBe(3);
    expect(replayed.at(-1).event).toBe('TeamRunCompleted');
    // The session belongs to the team: an agent run cannot join it.
    const clash = await test.app.inject({
      method: 'POST',
      url: '/agents/writer/runs',
      payload: { message: 'hi', session_id: 'team-session' },
    });
    expect(clash.statusCode).toBe(409);
  });

  it('answers 404 for an unknown team or run and 422 for a bad body', async () => {
    expect((await run('nope', { message: 'x' })).statusCode).toBe(404);
    expect((await test.app.inject({ method: 'GET', url: '/teams/coord/runs/missing' })).statusCode).toBe(404);
    const invalid = await run('coord', { message: '' });
    expect(invalid.statusCode).toBe(422);
    expect(invalid.json().detail[0].loc).toEqual(['body', 'message']);
  });

  it('cancels a running team run; its stream ends with TeamRunCancelled then TeamRunCompleted', async () => {
    fake.setDefault((request) =>
      systemOf(request).startsWith('You are Coordinators.') && lastMessage(request).role !== 'tool'
        ? { toolCalls: [{ name: 'transfer_task_to_member', arguments: { member_id: 'writer', task: 'slow' } }] }
        : { text: 'never finishes', hang: true },
    );
    const accepted = (await run('coord', { message: 'slow', background: true })).json();
    // Wait until the member is mid-answer, then cancel.
    for (let attempt = 0; attempt < 100 && fake.modelRequests.length < 2; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const cancelled = await test.app.inject({ method: 'POST', url: `/teams/coord/runs/${accepted.run_id}/cancel` });
    expect(cancelled.statusCode).toBe(200);
    const replay = await test.app.inject({ method: 'GET', url: `/teams/coord/runs/${accepted.run_id}/resume` });
    const names = parseFrames(replay.body).frames.map((frame) => frame.data.event);
    expect(names.slice(-2)).toEqual(['TeamRunCancelled', 'TeamRunCompleted']);
    const stored = (await test.app.inject({ method: 'GET', url: `/teams/coord/runs/${accepted.run_id}` })).json();
    expect(stored.status).toBe('cancelled');
    fake.setDefault(teamUpstream);
  });
});
