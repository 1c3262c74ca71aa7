import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeOpenAI, type RecordedRequest, startFakeOpenAI } from '../../../../test/fake-openai.js';
import { buildTestApp, type TestApp } from '../../../../test/helpers.js';

const ADMIN = 'admin-key-for-team-workflow-components';
/** May run the teams and workflows, but of the agents only the writer. */
const LIMITED = 'limited-key-for-team-workflow-components';

function systemOf(request: RecordedRequest): string {
  const system = request.body.messages?.find((message) => message.role === 'system');
  return String(system?.content ?? '');
}

function lastUser(request: RecordedRequest): string {
  const users = (request.body.messages ?? []).filter((message) => message.role === 'user');
  return String(users.at(-1)?.content ?? '');
}

/** Members answer in their own voice; a collaborating leader merges what it was given. */
function upstream(request: RecordedRequest) {
  const system = systemOf(request);
  if (system.startsWith('You are Researcher.')) return { text: `facts about ${lastUser(request)}` };
  if (system.startsWith('You are Writer.')) return { text: `prose from ${lastUser(request)}` };
  if (system.startsWith('You are Crew.')) return { text: `Merged: ${lastUser(request).replace(/\n+/g, ' | ')}` };
  return { text: 'unexpected' };
}

describe('team and workflow components', () => {
  let fake: FakeOpenAI;
  let test: TestApp;
  const request = (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: unknown, key = ADMIN) =>
    test.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${key}` },
      ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
    });
  const leaderRequests = () => fake.modelRequests.filter((entry) => systemOf(entry).startsWith('You are Crew.'));

  beforeAll(async () => {
    fake = await startFakeOpenAI({ defaultReply: upstream });
    test = await buildTestApp(
      {
        agents: [
          { id: 'researcher', name: 'Researcher', model: 'openai:gpt-4o-mini' },
          { id: 'writer', name: 'Writer', model: 'openai:gpt-4o-mini' },
        ],
        auth: {
          api_keys: [
            { name: 'admin', key: ADMIN, scopes: ['admin'] },
            {
              name: 'limited',
              key: LIMITED,
              scopes: ['teams:run', 'teams:read', 'workflows:run', 'workflows:read', 'agents:writer:run'],
            },
          ],
        },
      },
      { OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'test-key' },
    );

    // A team component: version 1 asks the researcher only, version 2 (current) both members.
    const team = await request('POST', '/components', {
      component_id: 'crew',
      component_type: 'team',
      name: 'Crew',
      config: { mode: 'collaborate', model: 'openai:gpt-4o', members: ['researcher'], instructions: 'V1 rules.' },
      stage: 'published',
    });
    expect(team.statusCode).toBe(201);
    const teamV2 = await request('POST', '/components/crew/configs', {
      config: { mode: 'collaborate', model: 'openai:gpt-4o', members: ['researcher', 'writer'], instructions: 'V2.' },
      stage: 'published',
    });
    expect(teamV2.statusCode).toBe(201);

    // A workflow component: version 1 researches only, version 2 (current) researches then writes.
    const workflow = await request('POST', '/components', {
      component_id: 'pipeline',
      component_type: 'workflow',
      name: 'Pipeline',
      config: { steps: [{ name: 'research', agent: 'researcher' }] },
      stage: 'published',
    });
    expect(workflow.statusCode).toBe(201);
    const workflowV2 = await request('POST', '/components/pipeline/configs', {
      config: {
        steps: [
          { name: 'research', agent: 'researcher' },
          { name: 'write', agent: 'writer', input: 'Write: {{input}}' },
        ],
      },
      stage: 'published',
    });
    expect(workflowV2.statusCode).toBe(201);
  });
  afterAll(async () => {
    await test?.close();
    await fake?.close();
  });
  beforeEach(() => fake.reset());

  it('lists and gets team and workflow components with is_component: true', async () => {
    const teams = (await request('GET', '/teams')).json();
    expect(teams.teams).toEqual([
      {
        id: 'crew',
        name: 'Crew',
        mode: 'collaborate',
        model: 'openai:gpt-4o',
        members: [
          { id: 'researcher', name: 'Researcher' },
          { id: 'writer', name: 'Writer' },
        ],
        is_component: true,
      },
    ]);
    expect((await request('GET', '/teams/crew')).json()).toMatchObject({ id: 'crew', is_component: true });

    const workflows = (await request('GET', '/workflows')).json();
    expect(workflows.workflows).toEqual([
      {
        id: 'pipeline',
        name: 'Pipeline',
        steps: [
          { name: 'research', type: 'agent', agent: 'researcher' },
          { name: 'write', type: 'agent', agent: 'writer' },
        ],
        is_component: true,
      },
    ]);
    expect((await request('GET', '/workflows/pipeline')).json()).toMatchObject({ id: 'pipeline', is_component: true });
    expect((await request('GET', '/teams/nobody')).statusCode).toBe(404);
  });

  it('runs a team component at its current version, and at the version a run names', async () => {
    const current = await request('POST', '/teams/crew/runs', { message: 'tides' });
    expect(current.statusCode).toBe(200);
    const body = current.json();
    expect(body).toMatchObject({ team_id: 'crew', team_name: 'Crew', status: 'completed' });
    expect(body.member_responses.map((member: { agent_id: string }) => member.agent_id).sort()).toEqual([
      'researcher',
      'writer',
    ]);
    expect(body.content).toContain('facts about tides');
    expect(body.content).toContain('prose from tides');
    expect(systemOf(leaderRequests()[0] as RecordedRequest)).toContain('V2.');

    fake.reset();
    const older = (await request('POST', '/teams/crew/runs', { message: 'tides', version: 1 })).json();
    expect(older.status).toBe('completed');
    expect(older.member_responses.map((member: { agent_id: string }) => member.agent_id)).toEqual(['researcher']);
    expect(systemOf(leaderRequests()[0] as RecordedRequest)).toContain('V1 rules.');
    // The run is listed with the team's runs.
    const runs = (await request('GET', '/teams/crew/runs')).json();
    expect(runs.runs.map((run: { run_id: string }) => run.run_id)).toContain(older.run_id);
    expect((await request('POST', '/teams/crew/runs', { message: 'x', version: 9 })).statusCode).toBe(404);
  });

  it('runs a workflow component at its current version, and at the version a run names', async () => {
    const current = (await request('POST', '/workflows/pipeline/runs', { message: 'moon' })).json();
    expect(current).toMatchObject({ workflow_id: 'pipeline', workflow_name: 'Pipeline', status: 'completed' });
    expect(current.content).toBe('prose from Write: facts about moon');
    expect(current.step_results.map((step: { step_name: string }) => step.step_name)).toEqual(['research', 'write']);

    const older = (await request('POST', '/workflows/pipeline/runs', { message: 'moon', version: 1 })).json();
    expect(older.status).toBe('completed');
    expect(older.content).toBe('facts about moon');
    expect((await request('GET', `/workflows/pipeline/runs/${older.run_id}`)).json()).toMatchObject({
      run_id: older.run_id,
      status: 'completed',
    });
  });

  it('runs a draft version a request names, while only published current versions are listed', async () => {
    for (const [id, type, config] of [
      ['sketch-team', 'team', { mode: 'collaborate', model: 'openai:gpt-4o', members: ['writer'] }],
      ['sketch-flow', 'workflow', { steps: [{ name: 'write', agent: 'writer' }] }],
    ] as const) {
      const created = await request('POST', '/components', {
        component_id: id,
        component_type: type,
        name: 'Crew',
        config,
      });
      expect(created.json()).toMatchObject({ component_id: id, current_version: null });
    }
    expect((await request('GET', '/teams/sketch-team')).statusCode).toBe(404);
    expect((await request('POST', '/teams/sketch-team/runs', { message: 'rain' })).statusCode).toBe(404);
    const team = (await request('POST', '/teams/sketch-team/runs', { message: 'rain', version: 1 })).json();
    expect(team).toMatchObject({ team_id: 'sketch-team', status: 'completed' });
    const flow = (await request('POST', '/workflows/sketch-flow/runs', { message: 'rain', version: 1 })).json();
    expect(flow).toMatchObject({ workflow_id: 'sketch-flow', status: 'completed', content: 'prose from rain' });
  });

  it('refuses a component that calls an agent its caller may not run (fail closed)', async () => {
    const team = await request('POST', '/teams/crew/runs', { message: 'tides' }, LIMITED);
    expect(team.statusCode).toBe(403);
    expect(team.json().detail).toContain('agents:researcher:run');
    const workflow = await request('POST', '/workflows/pipeline/runs', { message: 'moon' }, LIMITED);
    expect(workflow.statusCode).toBe(403);
    expect(fake.modelRequests).toHaveLength(0);
  });

  it('runs a workflow component over iii /api/workflows/run, with the same refusal', async () => {
    const run = await request('POST', '/api/workflows/run', { workflowId: 'pipeline', input: 'moon' });
    expect(run.statusCode).toBe(200);
    expect(run.json()).toMatchObject({ status: 'completed' });
    const refused = await request('POST', '/api/workflows/run', { workflowId: 'pipeline', input: 'moon' }, LIMITED);
    expect(refused.statusCode).toBe(403);
    const listed = (await request('GET', '/api/workflows')).json();
    expect(listed.workflows).toContainEqual(
      expect.objectContaining({ id: 'pipeline', source: 'component', stepCount: 2 }),
    );
  });

  it('answers 400 for members and steps that name unknown agents, and for keys the config schema refuses', async () => {
    const unknownMember = await request('POST', '/components', {
      component_type: 'team',
      name: 'Ghosts',
      config: { members: ['researcher', 'ghost'] },
    });
    expect(unknownMember.statusCode).toBe(400);
    expect(unknownMember.json().detail).toContain('config.members.1: unknown member "ghost"');

    const unknownStep = await request('POST', '/components/pipeline/configs', {
      config: { steps: [{ name: 'haunt', agent: 'ghost' }] },
    });
    expect(unknownStep.statusCode).toBe(400);
    expect(unknownStep.json().detail).toContain('config.steps.0.agent: unknown agent "ghost"');

    const typo = await request('POST', '/components/crew/configs', { config: { members: ['writer'], mdoe: 'route' } });
    expect(typo.statusCode).toBe(400);
    expect(typo.json().detail).toContain('did you mean "mode"');

    // A draft may not be published into an invalid state either.
    const draft = (
      await request('POST', '/components/crew/configs', { config: { members: ['writer'] }, stage: 'draft' })
    ).json();
    const publish = await request('PATCH', `/components/crew/configs/${draft.version}`, {
      config: { members: ['nobody'] },
      stage: 'published',
    });
    expect(publish.statusCode).toBe(400);
  });

  it('keeps the component type while config versions exist', async () => {
    const change = await request('PATCH', '/components/crew', { component_type: 'workflow' });
    expect(change.statusCode).toBe(409);
    expect((await request('GET', '/components/crew')).json().component_type).toBe('team');
  });

  it('a team component may have database agents as members', async () => {
    expect(
      (
        await request('POST', '/components', {
          component_id: 'poet',
          component_type: 'agent',
          name: 'Writer',
          config: { model: 'openai:gpt-4o-mini' },
          stage: 'published',
        })
      ).statusCode,
    ).toBe(201);
    const created = await request('POST', '/components', {
      component_id: 'duo',
      component_type: 'team',
      name: 'Crew',
      config: { mode: 'collaborate', model: 'openai:gpt-4o', members: ['poet'] },
      stage: 'published',
    });
    expect(created.statusCode).toBe(201);
    const run = (await request('POST', '/teams/duo/runs', { message: 'rain' })).json();
    expect(run.status).toBe('completed');
    expect(run.member_responses).toEqual([expect.objectContaining({ agent_id: 'poet', content: 'prose from rain' })]);
  });

  it('/v1/chat/completions with a team as model sends the whole conversation to the leader', async () => {
    const response = await request('POST', '/v1/chat/completions', {
      model: 'crew',
      messages: [
        { role: 'system', content: 'Answer in French.' },
        { role: 'user', content: 'What are tides?' },
        { role: 'assistant', content: 'Tides are the rise and fall of the sea.' },
        { role: 'user', content: 'And spring tides?' },
      ],
    });
    expect(response.statusCode).toBe(200);
    expect(response.json().choices[0].message.content).toContain('facts about And spring tides?');
    const leader = leaderRequests()[0] as RecordedRequest;
    expect(systemOf(leader)).toContain('Answer in French.');
    const turns = (leader.body.messages ?? []).filter((message) => message.role !== 'system');
    expect(turns.slice(0, 2)).toEqual([
      { role: 'user', content: 'What are tides?' },
      { role: 'assistant', content: 'Tides are the rise and fall of the sea.' },
    ]);
    expect(String(turns.at(-1)?.content)).toContain('Request: And spring tides?');
  });

  it('/v1/chat/completions streams a team component leader as chat.completion.chunk frames', async () => {
    const response = await request('POST', '/v1/chat/completions', {
      model: 'crew',
      stream: true,
      messages: [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello.' },
        { role: 'user', content: 'tides' },
      ],
    });
    expect(response.statusCode).toBe(200);
    const frames = response.body
      .split('\n\n')
      .filter((frame) => frame.startsWith('data: '))
      .map((frame) => frame.slice('data: '.length));
    expect(frames.at(-1)).toBe('[DONE]');
    const chunks = frames.slice(0, -1).map((frame) => JSON.parse(frame));
    expect(chunks.every((chunk) => chunk.object === 'chat.completion.chunk')).toBe(true);
    const text = chunks.map((chunk) => chunk.choices[0]?.delta?.content ?? '').join('');
    expect(text).toContain('Merged: Request: tides');
    const leader = leaderRequests()[0] as RecordedRequest;
    expect(leader.body.messages?.slice(1, 3)).toEqual([
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello.' },
    ]);
  });

  it('/v1/chat/completions with a workflow as model gives its agent steps the conversation', async () => {
    const response = await request('POST', '/v1/chat/completions', {
      model: 'pipeline',
      messages: [
        { role: 'system', content: 'Answer in French.' },
        { role: 'user', content: 'What are tides?' },
        { role: 'assistant', content: 'The rise and fall of the sea.' },
        { role: 'user', content: 'And spring tides?' },
      ],
    });
    expect(response.statusCode).toBe(200);
    // Every agent step gets the conversation as an agent run does: history turns, then its own input.
    const researcher = fake.modelRequests.find((entry) => systemOf(entry).startsWith('You are Researcher.'));
    expect(systemOf(researcher as RecordedRequest)).toContain('Answer in French.');
    expect((researcher as RecordedRequest).body.messages?.filter((message) => message.role !== 'system')).toEqual([
      { role: 'user', content: 'What are tides?' },
      { role: 'assistant', content: 'The rise and fall of the sea.' },
      { role: 'user', content: 'And spring tides?' },
    ]);
    const writer = fake.modelRequests.find((entry) => systemOf(entry).startsWith('You are Writer.'));
    expect(systemOf(writer as RecordedRequest)).toContain('Answer in French.');
    expect(lastUser(writer as RecordedRequest)).toBe('Write: facts about And spring tides?');
    expect((writer as RecordedRequest).body.messages?.[1]).toEqual({ role: 'user', content: 'What are tides?' });
    const models = (await request('GET', '/v1/models')).json();
    expect(models.data.map((model: { id: string }) => model.id)).toEqual(
      expect.arrayContaining(['crew', 'pipeline', 'poet']),
    );
  });
});
