import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeOpenAI, startFakeOpenAI } from '../../../../test/fake-openai.js';
import { startTestServer } from '../../../../test/helpers.js';
import type { RunningServer } from '../../../main.js';

const ADMIN_KEY = 'admin-key-for-openai-tests';
const READ_KEY = 'read-only-key-for-openai-tests';
const ECHO_ONLY_KEY = 'echo-only-key-for-openai-tests';

// biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field
const json = async (response: Response): Promise<any> => response.json();

describe('OpenAI-compatible surface (/v1) with the official openai client', () => {
  let fake: FakeOpenAI;
  let server: RunningServer;
  let client: OpenAI;
  const clientWith = (apiKey: string) => new OpenAI({ baseURL: `${server.url}/v1`, apiKey, maxRetries: 0 });

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    server = await startTestServer({
      env: { OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'test-key', AGENTOS_API_KEY: ADMIN_KEY },
      config: {
        agents: [
          { id: 'echo', name: 'Echo', model: 'openai:gpt-4o-mini', instructions: 'Answer briefly.' },
          { id: 'assistant', name: 'Assistant', model: 'local:default', tools: ['calculator'] },
          { id: 'helper', name: 'Helper', model: 'local:default' },
        ],
        teams: [{ id: 'crew', name: 'Crew', mode: 'coordinate', model: 'openai:gpt-4o-mini', members: ['echo'] }],
        workflows: [{ id: 'pipeline', name: 'Pipeline', steps: [{ name: 'answer', agent: 'echo' }] }],
        auth: {
          api_keys: [
            { name: 'reader', key: READ_KEY, scopes: ['agents:read'] },
            { name: 'echo-runner', key: ECHO_ONLY_KEY, scopes: ['agents:echo:run', 'agents:read'] },
          ],
        },
      },
    });
    client = clientWith(ADMIN_KEY);
  });
  afterAll(async () => {
    await server?.close();
    await fake?.close();
  });
  beforeEach(() => fake.reset());

  it('answers a non-streamed completion with usage', async () => {
    fake.script({ text: 'Hello there, friend.', usage: { prompt_tokens: 11, completion_tokens: 4 } });
    const completion = await client.chat.completions.create({
      model: 'echo',
      messages: [{ role: 'user', content: 'Hi!' }],
      temperature: 0.2,
      user: 'alice',
    });
    expect(completion).toMatchObject({
      object: 'chat.completion',
      model: 'echo',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hello there, friend.' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 11, completion_tokens: 4, total_tokens: 15 },
    });
    expect(completion.id).toMatch(/^chatcmpl-[0-9a-f-]{36}$/);
    expect(completion.created).toBeGreaterThan(1_600_000_000);
    expect(completion.created).toBeLessThan(Date.now() / 1000 + 5);
    expect(fake.modelRequests[0]?.body.temperature).toBe(0.2);
    // `user` became the run's user id.
    const runId = completion.id.slice('chatcmpl-'.length);
    const run = await json(
      await fetch(`${server.url}/agents/echo/runs/${runId}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } }),
    );
    expect(run).toMatchObject({ user_id: 'alice', status: 'completed' });
  });

  it('streams chat.completion.chunk deltas and a usage chunk', async () => {
    fake.script({ chunks: ['One, ', 'two, ', 'three.'], usage: { prompt_tokens: 7, completion_tokens: 3 } });
    const stream = await client.chat.completions.create({
      model: 'agent:echo',
      messages: [{ role: 'user', content: 'Count to three.' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const chunk of stream) {
      chunks.push(chunk);
      text += chunk.choices[0]?.delta.content ?? '';
    }
    expect(text).toBe('One, two, three.');
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant');
    expect(chunks.every((chunk) => chunk.object === 'chat.completion.chunk' && chunk.model === 'agent:echo')).toBe(
      true,
    );
    expect(new Set(chunks.map((chunk) => chunk.id)).size).toBe(1);
    const finish = chunks.find((chunk) => chunk.choices[0]?.finish_reason);
    expect(finish?.choices[0]?.finish_reason).toBe('stop');
    expect(chunks.at(-1)).toMatchObject({
      choices: [],
      usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 },
    });
  });

  it('ends the raw stream with data: [DONE]', async () => {
    const response = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'helper', messages: [{ role: 'user', content: 'hello' }], stream: true }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const body = await response.text();
    const data = body
      .split('\n')
      .filter((line) => line.startsWith('data: '))
      .map((line) => line.slice('data: '.length));
    expect(data.at(-1)).toBe('[DONE]');
    expect(data.slice(0, -1).every((line) => JSON.parse(line).object === 'chat.completion.chunk')).toBe(true);
  });

  it('sends the request history and system messages to the upstream model', async () => {
    fake.script({ text: 'Your name is Ada.' });
    const completion = await client.chat.completions.create({
      model: 'echo',
      messages: [
        { role: 'system', content: 'Always mention the name.' },
        { role: 'user', content: 'My name is Ada.' },
        { role: 'assistant', content: 'Nice to meet you, Ada.' },
        { role: 'user', content: [{ type: 'text', text: 'What is my name?' }] },
      ],
    });
    expect(completion.choices[0]?.message.content).toBe('Your name is Ada.');
    const sent = fake.modelRequests[0]?.body.messages ?? [];
    expect(sent[0]).toMatchObject({ role: 'system' });
    expect(String(sent[0]?.content)).toContain('Answer briefly.');
    expect(String(sent[0]?.content)).toContain('Always mention the name.');
    expect(sent.slice(1)).toMatchObject([
      { role: 'user', content: 'My name is Ada.' },
      { role: 'assistant', content: 'Nice to meet you, Ada.' },
      { role: 'user', content: 'What is my name?' },
    ]);
  });

  it('keeps server-side history with X-Session-Id and takes only the last user message', async () => {
    fake.script({ text: 'Noted.' }, { text: 'You said blue.' });
    const headers = { 'X-Session-Id': 'openai-session-1' };
    await client.chat.completions.create(
      { model: 'echo', messages: [{ role: 'user', content: 'My colour is blue.' }] },
      { headers },
    );
    await client.chat.completions.create(
      {
        model: 'echo',
        messages: [
          { role: 'user', content: 'ignored earlier turn' },
          { role: 'user', content: 'What colour did I say?' },
        ],
      },
      { headers },
    );
    const sent = fake.modelRequests[1]?.body.messages ?? [];
    expect(sent.slice(1)).toMatchObject([
      { role: 'user', content: 'My colour is blue.' },
      { role: 'assistant', content: 'Noted.' },
      { role: 'user', content: 'What colour did I say?' },
    ]);
  });

  it('lists the agents as models', async () => {
    const page = await client.models.list();
    const ids = page.data.map((model) => model.id);
    expect(ids).toEqual(['echo', 'assistant', 'helper', 'crew', 'pipeline']);
    expect(page.data[0]).toMatchObject({ object: 'model', owned_by: 'agentos' });
    expect(page.data[0]?.created).toBeGreaterThan(1_600_000_000);
  });

  it('refuses an unknown model with the OpenAI error shape', async () => {
    const error = await client.chat.completions
      .create({ model: 'no-such-agent', messages: [{ role: 'user', content: 'hi' }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect((error as InstanceType<typeof OpenAI.NotFoundError>).error).toMatchObject({
      message: expect.stringContaining('no-such-agent'),
      type: 'not_found_error',
      code: 'AOS_NOT_FOUND',
    });
    const misspelt = await client.chat.completions
      .create({ model: 'opnai:gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })
      .catch((caught: unknown) => caught);
    expect(misspelt).toBeInstanceOf(OpenAI.BadRequestError);
    expect((misspelt as InstanceType<typeof OpenAI.BadRequestError>).error).toMatchObject({
      code: 'AOS_MODEL_UNKNOWN',
    });
    // A known provider without its key is refused before any run starts.
    const unconfigured = await client.chat.completions
      .create({ model: 'anthropic:claude-sonnet-4-5', messages: [{ role: 'user', content: 'hi' }] })
      .catch((caught: unknown) => caught);
    expect(unconfigured).toBeInstanceOf(OpenAI.BadRequestError);
    expect((unconfigured as InstanceType<typeof OpenAI.BadRequestError>).error).toMatchObject({
      code: 'AOS_MODEL_NOT_CONFIGURED',
    });
    expect(fake.modelRequests).toHaveLength(0);
  });

  it('runs a raw provider:model as a plain assistant, for callers allowed to run every agent', async () => {
    fake.script({ text: 'Raw answer.' });
    const completion = await client.chat.completions.create({
      model: 'openai:gpt-4o',
      messages: [{ role: 'user', content: 'Who are you?' }],
    });
    expect(completion.choices[0]?.message.content).toBe('Raw answer.');
    expect(fake.modelRequests[0]?.body.model).toBe('gpt-4o');
    expect(fake.modelRequests[0]?.body.messages?.[0]).toMatchObject({
      role: 'system',
      content: 'You are a helpful assistant.',
    });
    const denied = await clientWith(ECHO_ONLY_KEY)
      .chat.completions.create({ model: 'openai:gpt-4o', messages: [{ role: 'user', content: 'hi' }] })
      .catch((caught: unknown) => caught);
    expect(denied).toBeInstanceOf(OpenAI.PermissionDeniedError);
  });

  it('passes client-side tools through: tool_calls out, tool results back in', async () => {
    const tools: OpenAI.Chat.Completions.ChatCompletionTool[] = [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          description: 'The weather of a city.',
          parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
        },
      },
    ];
    fake.script({ toolCalls: [{ id: 'call_w1', name: 'get_weather', arguments: { city: 'Paris' } }] });
    const first = await client.chat.completions.create({
      model: 'echo',
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      tools,
      tool_choice: 'auto',
    });
    const choice = first.choices[0];
    expect(choice?.finish_reason).toBe('tool_calls');
    expect(choice?.message.content).toBeNull();
    expect(choice?.message.tool_calls).toEqual([
      { id: 'call_w1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
    ]);
    const offered = fake.modelRequests[0]?.body.tools ?? [];
    expect(offered).toMatchObject([{ type: 'function', function: { name: 'get_weather' } }]);
    expect(fake.modelRequests[0]?.body.tool_choice).toBe('auto');
    expect(fake.modelRequests).toHaveLength(1);

    fake.script({ text: 'It is sunny in Paris.' });
    const second = await client.chat.completions.create({
      model: 'echo',
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: null, tool_calls: choice?.message.tool_calls ?? [] },
        { role: 'tool', tool_call_id: 'call_w1', content: '{"sky":"sunny"}' },
      ],
      tools,
    });
    expect(second.choices[0]).toMatchObject({ finish_reason: 'stop', message: { content: 'It is sunny in Paris.' } });
    const sent = fake.modelRequests[1]?.body.messages ?? [];
    expect(sent.slice(1)).toMatchObject([
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', tool_calls: [{ id: 'call_w1', function: { name: 'get_weather' } }] },
      { role: 'tool', tool_call_id: 'call_w1', content: '{"sky":"sunny"}' },
    ]);
  });

  it('streams client-side tool calls as tool_calls deltas', async () => {
    fake.script({ toolCalls: [{ id: 'call_s1', name: 'lookup', arguments: { q: 'agentos' } }] });
    const stream = await client.chat.completions.create({
      model: 'echo',
      messages: [{ role: 'user', content: 'Look it up.' }],
      tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: {} } } }],
      stream: true,
    });
    const calls: OpenAI.Chat.Completions.ChatCompletionChunk.Choice.Delta.ToolCall[] = [];
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      calls.push(...(chunk.choices[0]?.delta.tool_calls ?? []));
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(calls).toEqual([
      { index: 0, id: 'call_s1', type: 'function', function: { name: 'lookup', arguments: '{"q":"agentos"}' } },
    ]);
    expect(finish).toBe('tool_calls');
  });

  it('refuses a client-side tool named like one of the agent tools', async () => {
    const error = await client.chat.completions
      .create({
        model: 'assistant',
        messages: [{ role: 'user', content: 'hi' }],
        tools: [{ type: 'function', function: { name: 'calculator' } }],
      })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(String((error as Error).message)).toContain('calculator');
  });

  it('answers 400 with error.message when messages are missing or end without a user turn', async () => {
    const response = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'echo' }),
    });
    expect(response.status).toBe(400);
    const body = await json(response);
    expect(body).toMatchObject({ error: { type: 'invalid_request_error', code: 'AOS_VALIDATION' } });
    expect(body.error.message).toContain('messages');
    const error = await client.chat.completions
      .create({ model: 'echo', messages: [{ role: 'system', content: 'only a system message' }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).error).toMatchObject({
      message: expect.stringContaining('user'),
    });
    expect(fake.modelRequests).toHaveLength(0);
  });

  it('refuses a key without agents:run, and one scoped to another agent', async () => {
    const reader = clientWith(READ_KEY);
    const error = await reader.chat.completions
      .create({ model: 'echo', messages: [{ role: 'user', content: 'hi' }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect((error as InstanceType<typeof OpenAI.PermissionDeniedError>).error).toMatchObject({
      type: 'permission_error',
    });
    const echoOnly = clientWith(ECHO_ONLY_KEY);
    const other = await echoOnly.chat.completions
      .create({ model: 'helper', messages: [{ role: 'user', content: 'hi' }] })
      .catch((caught: unknown) => caught);
    expect(other).toBeInstanceOf(OpenAI.PermissionDeniedError);
    fake.script({ text: 'ok' });
    const allowed = await echoOnly.chat.completions.create({
      model: 'echo',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(allowed.choices[0]?.message.content).toBe('ok');
    const unauthenticated = await clientWith('wrong-key')
      .models.list()
      .catch((caught: unknown) => caught);
    expect(unauthenticated).toBeInstanceOf(OpenAI.AuthenticationError);
  });

  it('reports an upstream failure as 502 (blocking) or an error chunk (stream)', async () => {
    fake.script({ status: 400, error: 'upstream exploded' });
    const error = await client.chat.completions
      .create({ model: 'echo', messages: [{ role: 'user', content: 'hi' }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
    expect((error as InstanceType<typeof OpenAI.APIError>).error).toMatchObject({
      type: 'server_error',
      message: expect.stringContaining('failed'),
    });

    fake.script({ status: 400, error: 'upstream exploded' });
    const stream = await client.chat.completions.create({
      model: 'echo',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    const streamed = await (async () => {
      for await (const _chunk of stream) {
        // drain
      }
    })().catch((caught: unknown) => caught);
    expect(streamed).toBeInstanceOf(OpenAI.APIError);
    expect(String((streamed as Error).message)).toContain('failed');
  });

  it('cancels the run when a streaming client disconnects', async () => {
    fake.script({ hang: true, text: 'never finishes' });
    const controller = new AbortController();
    const stream = await client.chat.completions.create(
      { model: 'echo', messages: [{ role: 'user', content: 'hang' }], stream: true },
      { signal: controller.signal },
    );
    let runId = '';
    const consumed = (async () => {
      for await (const chunk of stream) {
        runId = chunk.id.slice('chatcmpl-'.length);
        controller.abort();
      }
    })().catch(() => {});
    await consumed;
    expect(runId).not.toBe('');
    const deadline = Date.now() + 5000;
    let status = '';
    while (Date.now() < deadline) {
      const run = await json(
        await fetch(`${server.url}/agents/echo/runs/${runId}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } }),
      );
      status = run.status;
      if (status === 'cancelled') break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(status).toBe('cancelled');
  });
  it('runs a team and a workflow named as model, blocking and streamed', async () => {
    fake.setDefault({ text: 'Team answer.' });
    const team = await client.chat.completions.create({
      model: 'crew',
      messages: [{ role: 'user', content: 'Go team' }],
    });
    expect(team).toMatchObject({ object: 'chat.completion', model: 'crew' });
    expect(team.choices[0]?.message.content).toBe('Team answer.');
    expect(fake.modelRequests.length).toBeGreaterThanOrEqual(1);
    const teamRun = team.id.slice('chatcmpl-'.length);
    const stored = await json(
      await fetch(`${server.url}/teams/crew/runs/${teamRun}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } }),
    );
    expect(stored).toMatchObject({ status: 'completed' });

    fake.setDefault({ text: 'Workflow output.' });
    const stream = await client.chat.completions.create({
      model: 'pipeline',
      messages: [{ role: 'user', content: 'Run it' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(text).toBe('Workflow output.');
    expect(finish).toBe('stop');

    const withTools = await client.chat.completions
      .create({
        model: 'crew',
        messages: [{ role: 'user', content: 'hi' }],
        tools: [{ type: 'function', function: { name: 'x' } }],
      })
      .catch((caught: unknown) => caught);
    expect(withTools).toBeInstanceOf(OpenAI.BadRequestError);
    const denied = await clientWith(ECHO_ONLY_KEY)
      .chat.completions.create({ model: 'crew', messages: [{ role: 'user', content: 'hi' }] })
      .catch((caught: unknown) => caught);
    expect(denied).toBeInstanceOf(OpenAI.PermissionDeniedError);
  });
  it('keeps a session well formed across client-side tool calls with X-Session-Id', async () => {
    const headers = { 'X-Session-Id': 'tools-session' };
    const tools: OpenAI.Chat.Completions.ChatCompletionTool[] = [
      { type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: {} } } },
    ];
    fake.script(
      { toolCalls: [{ id: 'call_k1', name: 'lookup', arguments: {} }] },
      { text: 'Found it.' },
      { text: 'Still here.' },
    );
    const first = await client.chat.completions.create(
      { model: 'echo', messages: [{ role: 'user', content: 'Look up.' }], tools },
      { headers },
    );
    await client.chat.completions.create(
      {
        model: 'echo',
        messages: [
          { role: 'user', content: 'Look up.' },
          { role: 'assistant', content: null, tool_calls: first.choices[0]?.message.tool_calls ?? [] },
          { role: 'tool', tool_call_id: 'call_k1', content: 'result' },
        ],
        tools,
      },
      { headers },
    );
    await client.chat.completions.create({ model: 'echo', messages: [{ role: 'user', content: 'And?' }] }, { headers });
    expect(fake.modelRequests[2]?.body.messages?.slice(1)).toMatchObject([
      { role: 'user', content: 'Look up.' },
      { role: 'assistant', tool_calls: [{ id: 'call_k1' }] },
      { role: 'tool', tool_call_id: 'call_k1', content: 'result' },
      { role: 'assistant', content: 'Found it.' },
      { role: 'user', content: 'And?' },
    ]);
  });
});
