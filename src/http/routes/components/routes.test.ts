import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeOpenAI, startFakeOpenAI } from '../../../../test/fake-openai.js';
import { startTestServer } from '../../../../test/helpers.js';
import type { RunningServer } from '../../../main.js';

const KEY = 'admin-key-for-component-tests';
const READ_KEY = 'components-read-key';

// biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field
const json = async (response: Response): Promise<any> => response.json();

describe('/components (Agno) over real HTTP', () => {
  let fake: FakeOpenAI;
  let server: RunningServer;
  const call = (method: string, path: string, body?: unknown, key = KEY) =>
    fetch(`${server.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const lastSystemPrompt = () => fake.modelRequests.at(-1)?.body.messages?.[0]?.content;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    server = await startTestServer({
      env: { OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'test-key', AGENTOS_API_KEY: KEY },
      config: {
        agents: [{ id: 'configured', model: 'local:default' }],
        auth: { api_keys: [{ name: 'reader', key: READ_KEY, scopes: ['components:read', 'agents:read'] }] },
      },
    });
  });
  afterAll(async () => {
    await server?.close();
    await fake?.close();
  });
  beforeEach(() => fake.reset());

  it('creates a component with a published first version that becomes current, and lists it', async () => {
    const created = await call('POST', '/components', {
      component_id: 'writer',
      component_type: 'agent',
      name: 'Writer',
      description: 'Writes things',
      config: { model: 'openai:gpt-4o-mini', instructions: 'Version one rules.' },
      stage: 'published',
      label: 'v1',
    });
    expect(created.status).toBe(201);
    expect(await json(created)).toMatchObject({
      component_id: 'writer',
      component_type: 'agent',
      current_version: 1,
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    const list = await json(await call('GET', '/components?component_type=agent'));
    expect(list).toMatchObject({ components: [{ component_id: 'writer' }], meta: { total_count: 1, page: 1 } });

    const agents = await json(await call('GET', '/agents'));
    expect(agents.agents).toEqual([
      expect.objectContaining({ id: 'configured' }),
      expect.objectContaining({ id: 'writer', is_component: true, model: 'openai:gpt-4o-mini' }),
    ]);
    expect(agents.agents[0].is_component).toBeUndefined();
    expect(await json(await call('GET', '/agents/writer'))).toMatchObject({ id: 'writer', is_component: true });
  });

  it('keeps drafts editable, freezes published versions, and runs the current one or the version asked for', async () => {
    const draft = await call('POST', '/components/writer/configs', {
      config: { model: 'openai:gpt-4o-mini', instructions: 'Draft rules.' },
    });
    expect(draft.status).toBe(201);
    expect(await json(draft)).toMatchObject({ version: 2, stage: 'draft' });
    // A draft is not current and cannot be made current.
    expect((await json(await call('GET', '/components/writer'))).current_version).toBe(1);
    expect((await call('POST', '/components/writer/configs/2/set-current')).status).toBe(409);

    const edited = await call('PATCH', '/components/writer/configs/2', {
      config: { model: 'openai:gpt-4o-mini', instructions: 'Version two rules.' },
      label: 'v2',
    });
    expect(edited.status).toBe(200);
    const published = await call('PATCH', '/components/writer/configs/2', { stage: 'published' });
    expect(await json(published)).toMatchObject({ stage: 'published', config: { instructions: 'Version two rules.' } });
    const frozen = await call('PATCH', '/components/writer/configs/2', { label: 'changed' });
    expect(frozen.status).toBe(409);
    expect(await json(frozen)).toMatchObject({ code: 'AOS_CONFLICT', detail: expect.stringContaining('published') });
    expect((await call('DELETE', '/components/writer/configs/2')).status).toBe(409);

    const current = await call('POST', '/components/writer/configs/2/set-current');
    expect(await json(current)).toMatchObject({ current_version: 2 });
    expect(await json(await call('GET', '/components/writer/configs/current'))).toMatchObject({ version: 2 });

    // The current version runs on the root surface…
    fake.script({ text: 'two' });
    const run = await call('POST', '/agents/writer/runs', { message: 'go' });
    expect(await json(run)).toMatchObject({ content: 'two', status: 'completed' });
    expect(lastSystemPrompt()).toBe('You are Writer.\nVersion two rules.');
    // …and `version` selects another.
    fake.script({ text: 'one' });
    await call('POST', '/agents/writer/runs', { message: 'go', version: 1 });
    expect(lastSystemPrompt()).toBe('You are Writer.\nVersion one rules.');
    expect((await call('POST', '/agents/writer/runs', { message: 'go', version: 9 })).status).toBe(404);
    expect((await call('POST', '/agents/writer/runs', { message: 'go', version: 'x' })).status).toBe(400);

    // Rollback.
    await call('POST', '/components/writer/configs/1/set-current');
    fake.script({ text: 'rolled back' });
    await call('POST', '/api/agents/writer/message', { message: 'go' });
    expect(lastSystemPrompt()).toBe('You are Writer.\nVersion one rules.');

    // The OpenAI and agtOS surfaces reach the component too.
    fake.script({ text: 'v1 via openai' }, { text: 'v1 via chat' });
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: KEY, maxRetries: 0 });
    const completion = await client.chat.completions.create({
      model: 'writer',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(completion.choices[0]?.message.content).toBe('v1 via openai');
    const chat = await json(await call('POST', '/api/chat', { text: 'hi', agentId: 'writer' }));
    expect(chat.text).toBe('v1 via chat');
    expect(lastSystemPrompt()).toBe('You are Writer.\nVersion one rules.');

    // A fresh draft can be deleted.
    await call('POST', '/components/writer/configs', { config: { instructions: 'scratch' } });
    expect((await call('DELETE', '/components/writer/configs/3')).status).toBe(204);
    const versions = await json(await call('GET', '/components/writer/configs?include_config=false'));
    expect(versions.map((version: { version: number }) => version.version)).toEqual([1, 2]);
    expect(versions[0].config).toBeUndefined();
  });

  it('refuses bad configs, unknown components and ids taken elsewhere; needs components scopes', async () => {
    const badModel = await call('POST', '/components', {
      component_type: 'agent',
      name: 'Bad',
      config: { model: 'opnai:gpt' },
    });
    expect(badModel.status).toBe(400);
    expect((await json(badModel)).detail).toContain('config.model');
    expect(
      (await call('POST', '/components', { component_id: 'configured', component_type: 'agent', name: 'x' })).status,
    ).toBe(409);
    expect(
      (await call('POST', '/components', { component_id: 'writer', component_type: 'agent', name: 'x' })).status,
    ).toBe(409);
    const missing = await call('GET', '/components/nope');
    expect(missing.status).toBe(404);
    expect(await json(missing)).toMatchObject({ detail: 'Component not found' });
    expect((await call('GET', '/components/writer/configs/99')).status).toBe(404);
    expect((await call('POST', '/components', { component_type: 'robot', name: 'x' })).status).toBe(422);
    expect((await call('GET', '/components', undefined, READ_KEY)).status).toBe(200);
    expect((await call('POST', '/components', { component_type: 'agent', name: 'x' }, READ_KEY)).status).toBe(403);
    // /api/agents cannot take a component's id.
    expect((await call('POST', '/api/agents', { id: 'writer', name: 'Clash' })).status).toBe(409);
  });

  it('soft-deletes a component: it stops listing and running', async () => {
    await call('POST', '/components', {
      component_id: 'temp',
      component_type: 'agent',
      name: 'Temp',
      config: { instructions: 'x' },
      stage: 'published',
    });
    expect((await call('DELETE', '/components/temp')).status).toBe(204);
    expect((await call('GET', '/components/temp')).status).toBe(404);
    expect((await call('POST', '/agents/temp/runs', { message: 'hi' })).status).toBe(404);
    const agents = await json(await call('GET', '/agents'));
    expect(agents.agents.map((agent: { id: string }) => agent.id)).not.toContain('temp');
  });
});
