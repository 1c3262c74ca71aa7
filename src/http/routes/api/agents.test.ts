import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeOpenAI, startFakeOpenAI } from '../../../../test/fake-openai.js';
import { startTestServer } from '../../../../test/helpers.js';
import type { RunningServer } from '../../../main.js';

const ADMIN_KEY = 'admin-key-for-api-agents-tests';
const READER_KEY = 'reader-key-for-api-agents-tests';
const WRITER_KEY = 'writer-key-for-api-agents-tests';

// biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field
const json = async (response: Response): Promise<any> => response.json();

describe('/api/agents (iii + Automatos) over real HTTP', () => {
  let fake: FakeOpenAI;
  let server: RunningServer;
  const call = (method: string, path: string, body?: unknown, key = ADMIN_KEY, headers: Record<string, string> = {}) =>
    fetch(`${server.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const systemPromptSent = (index: number) => {
    const first = fake.modelRequests[index]?.body.messages?.[0];
    expect(first?.role).toBe('system');
    return first?.content;
  };

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    server = await startTestServer({
      env: { OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'test-key', AGENTOS_API_KEY: ADMIN_KEY },
      config: {
        default_agent: 'configured',
        agents: [{ id: 'configured', name: 'Configured', model: 'openai:gpt-4o-mini', instructions: 'From YAML.' }],
        auth: {
          api_keys: [
            { name: 'reader', key: READER_KEY, scopes: ['agents:read'] },
            { name: 'writer', key: WRITER_KEY, scopes: ['agents:read', 'agents:write'] },
          ],
        },
      },
    });
  });
  afterAll(async () => {
    await server?.close();
    await fake?.close();
  });
  beforeEach(() => fake.reset());

  it('creates an agent from the Automatos body: 201 with agentId and the union of both shapes', async () => {
    const response = await call('POST', '/api/agents', {
      name: 'Support Bot',
      agent_type: 'support',
      description: 'Answers tickets',
      model_config: { model_id: 'openai:gpt-4o-mini', temperature: 0.4, max_tokens: 300 },
      use_custom_persona: true,
      custom_persona_prompt: 'You are patient and kind.',
      tool_ids: ['calculator'],
    });
    expect(response.status).toBe(201);
    const agent = await json(response);
    expect(agent.agentId).toBe(agent.id);
    expect(agent).toMatchObject({
      name: 'Support Bot',
      source: 'db',
      // iii fields
      model: { provider: 'openai', model: 'gpt-4o-mini', maxTokens: 300 },
      systemPrompt: null,
      // Automatos fields
      agent_type: 'support',
      status: 'active',
      tools: ['calculator'],
      plugins: [],
      model_config: { model_id: 'openai:gpt-4o-mini', temperature: 0.4, max_tokens: 300 },
      use_custom_persona: true,
      custom_persona_prompt: 'You are patient and kind.',
      deleted_at: null,
    });
    expect(agent.created_at).toBe(agent.createdAt);
    expect(agent.created_at).toBeGreaterThan(1_600_000_000_000);

    const listed = await json(await call('GET', '/api/agents'));
    expect(Array.isArray(listed)).toBe(true);
    expect(listed.map((entry: { id: string }) => entry.id)).toEqual(['configured', agent.id]);
    expect(listed[0]).toMatchObject({ source: 'config', systemPrompt: 'From YAML.', status: 'active' });
    expect(await json(await call('GET', `/api/agents/${agent.id}`))).toMatchObject({ id: agent.id });
  });

  it('creates an agent from the iii body with its own id', async () => {
    const response = await call('POST', '/api/agents', {
      id: 'iii-agent',
      name: 'iii agent',
      model: { provider: 'openai', model: 'gpt-4o', maxTokens: 100 },
      systemPrompt: 'Reply in French.',
      tags: ['fr'],
      toolProfile: 'chat',
      capabilities: { tools: ['calculator'] },
    });
    expect(response.status).toBe(201);
    expect(await json(response)).toMatchObject({
      id: 'iii-agent',
      agentId: 'iii-agent',
      model_config: { model_id: 'openai:gpt-4o', max_tokens: 100 },
      systemPrompt: 'Reply in French.',
      tags: ['fr'],
      configuration: { toolProfile: 'chat', capabilities: { tools: ['calculator'] } },
    });
  });

  it('refuses bad input with 400 in the /api error shape, duplicates with 409', async () => {
    const long = await call('POST', '/api/agents', { name: 'x'.repeat(256) });
    expect(long.status).toBe(400);
    expect(await json(long)).toMatchObject({ code: 'AOS_VALIDATION', error: expect.any(String) });
    const badModel = await call('POST', '/api/agents', { name: 'M', model_config: { model_id: 'opnai:gpt' } });
    expect(badModel.status).toBe(400);
    expect((await json(badModel)).code).toBe('AOS_MODEL_UNKNOWN');
    const badTool = await call('POST', '/api/agents', { name: 'T', tools: ['rm_rf'] });
    expect(badTool.status).toBe(400);
    expect((await json(badTool)).error).toContain('rm_rf');
    const badPersona = await call('POST', '/api/agents', { name: 'P', persona_id: 'nope' });
    expect(badPersona.status).toBe(400);
    const configId = await call('POST', '/api/agents', { id: 'configured', name: 'Clash' });
    expect(configId.status).toBe(409);
    await call('POST', '/api/agents', { id: 'dup-name', name: 'Unique Name' });
    const sameName = await call('POST', '/api/agents', { name: 'unique name' });
    expect(sameName.status).toBe(409);
    const badId = await call('GET', '/api/agents/bad%20id');
    expect(badId.status).toBe(400);
    expect(await json(await call('GET', '/api/agents/missing'))).toMatchObject({ code: 'AOS_NOT_FOUND' });
    // Config agents are read-only here.
    expect((await call('PUT', '/api/agents/configured', { name: 'x' })).status).toBe(409);
    expect((await call('DELETE', '/api/agents/configured')).status).toBe(409);
    expect(await json(await call('GET', '/api/agents/configured/plugins'))).toEqual({ items: [] });
    expect((await call('PUT', '/api/agents/configured/plugins', { plugin_ids: [] })).status).toBe(409);
  });

  it('moves status active ↔ idle ↔ failed, refuses other moves with 400, soft-deletes for good', async () => {
    await call('POST', '/api/agents', { id: 'stateful', name: 'Stateful', agent_type: 'ops' });
    const put = (status: string) => call('PUT', '/api/agents/stateful', { status });
    expect((await json(await put('idle'))).status).toBe('idle');
    expect((await json(await put('failed'))).status).toBe('failed');
    const invalid = await put('active');
    expect(invalid.status).toBe(400);
    expect(await json(invalid)).toMatchObject({ code: 'AOS_AGENT_INVALID_TRANSITION' });
    expect((await json(await put('idle'))).status).toBe('idle');
    // Partial update: configuration is merged.
    await call('PUT', '/api/agents/stateful', { configuration: { a: 1 } });
    const merged = await json(await call('PUT', '/api/agents/stateful', { configuration: { b: 2 }, description: 'd' }));
    expect(merged).toMatchObject({ configuration: { a: 1, b: 2 }, description: 'd', status: 'idle' });

    const filtered = await json(await call('GET', '/api/agents?status=idle&agent_type=ops'));
    expect(filtered.map((agent: { id: string }) => agent.id)).toEqual(['stateful']);
    expect(await json(await call('GET', '/api/agents?search=STATEF'))).toHaveLength(1);

    const removed = await call('DELETE', '/api/agents/stateful');
    expect(removed.status).toBe(204);
    expect((await call('GET', '/api/agents/stateful')).status).toBe(404);
    const afterDelete = await call('PUT', '/api/agents/stateful', { status: 'active' });
    expect(afterDelete.status).toBe(400);
    expect((await json(afterDelete)).code).toBe('AOS_AGENT_INVALID_TRANSITION');
    const deleted = await json(await call('GET', '/api/agents?status=deleted'));
    expect(deleted.map((agent: { id: string; status: string }) => [agent.id, agent.status])).toEqual([
      ['stateful', 'deleted'],
    ]);
    expect((await call('POST', '/api/agents/stateful/message', { message: 'hi' })).status).toBe(404);
  });

  it('needs agents:write to change agents and keeps workspaces apart', async () => {
    const denied = await call('POST', '/api/agents', { name: 'Nope' }, READER_KEY);
    expect(denied.status).toBe(403);
    expect(await json(denied)).toMatchObject({ code: 'AOS_AUTH_FORBIDDEN' });
    const created = await call('POST', '/api/agents', { id: 'ws2-agent', name: 'In w2' }, ADMIN_KEY, {
      'X-Workspace-ID': 'w2',
    });
    expect(created.status).toBe(201);
    expect((await call('GET', '/api/agents/ws2-agent')).status).toBe(404);
    const inW2 = await json(await call('GET', '/api/agents', undefined, ADMIN_KEY, { 'X-Workspace-ID': 'w2' }));
    expect(inW2.map((agent: { id: string }) => agent.id)).toEqual(['configured', 'ws2-agent']);
  });

  it('enables plugins per workspace, assigns them as a replace-set and lists the offending ids', async () => {
    for (const [id, name] of [
      ['git-skills', 'Git'],
      ['sql-skills', 'SQL'],
      ['k8s-skills', 'Kubernetes'],
    ] as const) {
      const created = await call('POST', '/api/plugins', {
        slug: id,
        name,
        description: `${name} know-how`,
        content: `Use ${name} carefully.`,
        tags: [id.replace(/-skills$/, '')],
      });
      expect(created.status).toBe(201);
    }
    expect((await call('POST', '/api/plugins', { slug: 'x', name: 'X', content: 'c' }, WRITER_KEY)).status).toBe(403);
    expect((await call('POST', '/api/workspaces/default/plugins', { plugin_id: 'git-skills' })).status).toBe(201);
    expect((await call('POST', '/api/workspaces/default/plugins', { plugin_id: 'sql-skills' })).status).toBe(201);
    expect((await call('POST', '/api/workspaces/default/plugins', { plugin_id: 'git-skills' })).status).toBe(409);
    expect((await call('POST', '/api/workspaces/default/plugins', { plugin_id: 'nope' })).status).toBe(404);
    // Another workspace in the path: only admins may act there.
    expect((await call('GET', '/api/workspaces/other/plugins', undefined, WRITER_KEY)).status).toBe(404);

    await call('POST', '/api/agents', { id: 'skilled', name: 'Skilled' });
    const refused = await call('PUT', '/api/agents/skilled/plugins', {
      plugin_ids: ['git-skills', 'k8s-skills', 'ghost'],
    });
    expect(refused.status).toBe(400);
    const problem = await json(refused);
    expect(problem.code).toBe('AOS_PLUGINS_NOT_ENABLED');
    expect(problem.error).toBe('Plugins not enabled for workspace: k8s-skills, ghost');

    const assigned = await call('PUT', '/api/agents/skilled/plugins', {
      plugin_ids: ['sql-skills', 'git-skills', 'sql-skills'],
    });
    expect(assigned.status).toBe(200);
    expect(await json(assigned)).toMatchObject({
      success: true,
      agent_id: 'skilled',
      plugin_ids: ['sql-skills', 'git-skills'],
    });
    const listed = await json(await call('GET', '/api/agents/skilled/plugins'));
    expect(
      listed.items.map((item: { plugin_id: string; priority: number }) => [item.plugin_id, item.priority]),
    ).toEqual([
      ['sql-skills', 0],
      ['git-skills', 1],
    ]);
    // Disabling a plugin for the workspace takes it from its agents.
    expect((await call('DELETE', '/api/workspaces/default/plugins/git-skills')).status).toBe(204);
    const after = await json(await call('GET', '/api/agents/skilled/plugins'));
    expect(after.items.map((item: { plugin_id: string }) => item.plugin_id)).toEqual(['sql-skills']);
  });

  it('serves assembled-context equal, byte for byte, to the system prompt of the next run on every surface', async () => {
    const persona = await json(
      await call('POST', '/api/personas', {
        slug: 'careful-analyst',
        name: 'Careful Analyst',
        system_prompt: 'You double-check every number.',
        suggested_temperature: 0.2,
      }),
    );
    expect(persona).toMatchObject({ scope: 'workspace', suggested_temperature: 0.2 });
    expect(
      (await call('POST', '/api/personas', { scope: 'global', slug: 'g', name: 'G', system_prompt: 'g' }, WRITER_KEY))
        .status,
    ).toBe(403);
    await call('POST', '/api/workspaces/default/plugins', { plugin_id: 'k8s-skills' });
    await call('POST', '/api/agents', {
      id: 'analyst',
      name: 'Analyst',
      model_config: { model_id: 'openai:gpt-4o-mini' },
      persona_id: persona.id,
      instructions: 'Cite your sources.',
    });
    await call('PUT', '/api/agents/analyst/plugins', { plugin_ids: ['k8s-skills'] });

    const context = await json(await call('GET', '/api/agents/analyst/assembled-context'));
    expect(context).toMatchObject({
      agent_id: 'analyst',
      model: 'openai:gpt-4o-mini',
      temperature: 0.2,
      persona: { id: persona.id },
      plugins_loaded: [{ plugin_id: 'k8s-skills', priority: 0 }],
      skills: [{ id: 'k8s-skills', slug: 'k8s-skills', name: 'Kubernetes' }],
      tools: [],
    });
    expect(context.token_estimate).toBe(Math.ceil(context.system_prompt.length / 4));
    expect(context.system_prompt).toContain('You double-check every number.');
    expect(context.system_prompt).toContain('Use Kubernetes carefully.');
    expect(context.system_prompt).toContain('Cite your sources.');
    expect(
      context.sections.map((section: { name: string; included: boolean }) => [section.name, section.included]),
    ).toEqual([
      ['identity', true],
      ['persona', true],
      ['skills_summary', true],
      ['skills_content', true],
      ['instructions', true],
      ['request_instructions', false],
    ]);

    // iii message
    fake.script({ text: 'Checked twice.', usage: { prompt_tokens: 20, completion_tokens: 3 } });
    const message = await call('POST', '/api/agents/analyst/message', { message: 'Sum 2 and 2' });
    expect(message.status).toBe(200);
    expect(await json(message)).toMatchObject({
      content: 'Checked twice.',
      model: 'openai:gpt-4o-mini',
      usage: { input: 20, output: 3, total: 23 },
      iterations: 1,
    });
    expect(systemPromptSent(0)).toBe(context.system_prompt);
    expect(fake.modelRequests[0]?.body.temperature).toBe(0.2);

    // Agno root surface
    fake.script({ text: 'Root run.' });
    const run = await call('POST', '/agents/analyst/runs', { message: 'hello' });
    expect(run.status).toBe(200);
    expect(await json(run)).toMatchObject({ agent_id: 'analyst', content: 'Root run.', status: 'completed' });
    expect(systemPromptSent(1)).toBe(context.system_prompt);

    // OpenAI surface, through the official client
    fake.script({ text: 'Via v1.' });
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: ADMIN_KEY, maxRetries: 0 });
    const completion = await client.chat.completions.create({
      model: 'analyst',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(completion.choices[0]?.message.content).toBe('Via v1.');
    expect(systemPromptSent(2)).toBe(context.system_prompt);
    expect((await client.models.list()).data.map((model) => model.id)).toContain('analyst');

    // agtOS chat with agent selection
    fake.script({ text: 'Via chat.' });
    const chat = await call('POST', '/api/chat', { text: 'hi', agentId: 'analyst' });
    expect(chat.status).toBe(200);
    expect((await json(chat)).text).toBe('Via chat.');
    expect(systemPromptSent(3)).toBe(context.system_prompt);

    // Changing the persona changes the next run's prompt and the endpoint alike.
    await call('PUT', `/api/personas/${persona.id}`, { system_prompt: 'You triple-check every number.' });
    const changed = await json(await call('GET', '/api/agents/analyst/assembled-context'));
    expect(changed.system_prompt).toContain('triple-check');
    fake.script({ text: 'ok' });
    await call('POST', '/api/agents/analyst/message', { message: 'again' });
    expect(systemPromptSent(4)).toBe(changed.system_prompt);

    const sessions = await json(await call('GET', '/api/agents/analyst/sessions'));
    expect(sessions.length).toBeGreaterThanOrEqual(4);
    expect(sessions[0]).toMatchObject({ agentId: 'analyst', id: expect.any(String) });
  });

  it('keeps iii message history with sessionId and reports a failed model as 502', async () => {
    await call('POST', '/api/agents', { id: 'memo', name: 'Memo', model: 'openai:gpt-4o-mini' });
    fake.script({ text: 'Noted: blue.' }, { text: 'You said blue.' });
    const first = await json(await call('POST', '/api/agents/memo/message', { message: 'My colour is blue.' }));
    await call('POST', '/api/agents/memo/message', { message: 'What colour?', sessionId: first.sessionId });
    expect(fake.modelRequests[1]?.body.messages?.slice(1)).toMatchObject([
      { role: 'user', content: 'My colour is blue.' },
      { role: 'assistant', content: 'Noted: blue.' },
      { role: 'user', content: 'What colour?' },
    ]);
    fake.script({ status: 400, error: 'upstream refused' });
    const failed = await call('POST', '/api/agents/memo/message', { message: 'hi' });
    expect(failed.status).toBe(502);
    expect(await json(failed)).toMatchObject({ code: 'AOS_MODEL_PROVIDER_ERROR' });
  });

  it('sets a persona or a custom prompt through /api/agents/{id}/persona', async () => {
    await call('POST', '/api/agents', { id: 'voiced', name: 'Voiced' });
    const custom = await call('PUT', '/api/agents/voiced/persona', {
      use_custom: true,
      custom_prompt: 'Speak in haiku.',
    });
    expect(custom.status).toBe(200);
    const context = await json(await call('GET', '/api/agents/voiced/assembled-context'));
    expect(context.system_prompt).toBe('You are Voiced.\nSpeak in haiku.');
    const missing = await call('PUT', '/api/agents/voiced/persona', { use_custom: false });
    expect(missing.status).toBe(200);
    const plain = await json(await call('GET', '/api/agents/voiced/assembled-context'));
    expect(plain.system_prompt).toBe('You are Voiced.');
    expect(plain.sections.find((section: { name: string }) => section.name === 'persona')).toMatchObject({
      included: false,
      reason: 'no persona assigned',
    });
  });
});
