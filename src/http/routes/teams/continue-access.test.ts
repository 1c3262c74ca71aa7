/**
 * Continuing a paused team component re-checks its members against the caller who continues it
 * (security review, finding 4): a caller who may run the team but not a member cannot finish it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeOpenAI, type RecordedRequest, startFakeOpenAI } from '../../../../test/fake-openai.js';
import { buildTestApp, type TestApp } from '../../../../test/helpers.js';

const ADMIN = 'admin-key-for-team-continue-access';
/** May run and read teams, but none of their member agents. */
const TEAMS_ONLY = 'teams-only-key-for-team-continue-access';
const MODEL = 'openai:gpt-4o-mini';

function systemOf(request: RecordedRequest): string {
  return String(request.body.messages?.find((message) => message.role === 'system')?.content ?? '');
}

/** The leader delegates to Calc; Calc calls the calculator (which needs confirmation), then reports. */
function upstream(request: RecordedRequest) {
  const system = systemOf(request);
  const last = request.body.messages?.at(-1);
  const toolResult = last?.role === 'tool' ? String(last.content) : undefined;
  if (system.startsWith('You are Calc.')) {
    if (toolResult !== undefined) return { text: `Calc says ${toolResult}` };
    return { toolCalls: [{ id: 'call_calc', name: 'calculator', arguments: { expression: '6*7' } }] };
  }
  if (system.startsWith('You are Crew.')) {
    if (toolResult !== undefined) return { text: `Crew: ${toolResult}` };
    const memberId = /- ([\w-]+): Calc/.exec(system)?.[1] ?? 'calc';
    return {
      toolCalls: [
        { id: 'call_lead', name: 'transfer_task_to_member', arguments: { member_id: memberId, task: 'What is 6*7?' } },
      ],
    };
  }
  return { text: 'unexpected' };
}

describe('team component continue', () => {
  let fake: FakeOpenAI;
  let test: TestApp;
  const post = (url: string, payload: unknown, key = ADMIN) =>
    test.app.inject({
      method: 'POST',
      url,
      headers: { authorization: `Bearer ${key}` },
      payload: payload as Record<string, unknown>,
    });

  beforeAll(async () => {
    fake = await startFakeOpenAI({ defaultReply: upstream });
    test = await buildTestApp(
      {
        agents: [
          { id: 'calc', name: 'Calc', model: MODEL, tools: [{ name: 'calculator', requires_confirmation: true }] },
        ],
        auth: {
          api_keys: [
            { name: 'admin', key: ADMIN, scopes: ['admin'] },
            { name: 'teams-only', key: TEAMS_ONLY, scopes: ['teams:run', 'teams:read'] },
          ],
        },
      },
      { OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'test-key' },
    );
    const team = await post('/components', {
      component_id: 'crew',
      component_type: 'team',
      name: 'Crew',
      config: { mode: 'coordinate', model: MODEL, members: ['calc'] },
      stage: 'published',
    });
    expect(team.statusCode).toBe(201);
  });
  afterAll(async () => {
    await test?.close();
    await fake?.close();
  });

  it('refuses a caller who may run the team but not its paused member, and lets one who may finish it', async () => {
    const started = await post('/teams/crew/runs', { message: 'What is 6*7?', stream: false });
    expect(started.json()).toMatchObject({ status: 'paused' });
    const url = `/teams/crew/runs/${started.json().run_id}/continue`;
    const tools = [{ tool_call_id: 'call_calc', confirmed: true }];
    const refused = await post(url, { tools, stream: false }, TEAMS_ONLY);
    expect(refused.statusCode).toBe(403);
    expect(refused.json().detail).toContain('agents:calc:run');
    const continued = await post(url, { tools, stream: false });
    expect(continued.statusCode).toBe(200);
    expect(continued.json()).toMatchObject({ status: 'completed' });
  });
});
