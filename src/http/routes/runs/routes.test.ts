import { describe, expect, it } from 'vitest';
import { useFakeUpstreamServer, waitFor } from '../../../../test/helpers.js';
import { SseReader } from '../../../../test/sse.js';
import type { AgentOsConfigInput } from '../../../config/index.js';

const AGENTS: AgentOsConfigInput['agents'] = [
  { id: 'echo', name: 'Echo', model: 'openai:gpt-4o-mini', instructions: 'Answer briefly.' },
  { id: 'calc', name: 'Calc', model: 'openai:gpt-4o-mini', tools: ['calculator'] },
  { id: 'offline', name: 'Offline Helper', model: 'local:default', tools: ['calculator'] },
];

// biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field
const json = async (response: Response): Promise<any> => response.json();

describe('agent runs over real HTTP', () => {
  const testServer = useFakeUpstreamServer({ config: { agents: AGENTS } });
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${testServer.server.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });

  it('answers a blocking run in the seed shape', async () => {
    testServer.fake.script({ text: 'Hello there, friend.', usage: { prompt_tokens: 11, completion_tokens: 4 } });
    const response = await post('/agents/echo/runs', { message: 'Hi!', user_id: 'alice' });
    expect(response.status).toBe(200);
    const run = await json(response);
    expect(run).toMatchObject({
      agent_id: 'echo',
      user_id: 'alice',
      status: 'completed',
      content: 'Hello there, friend.',
      model: 'openai:gpt-4o-mini',
      model_provider: 'openai',
      messages: [
        { role: 'user', content: 'Hi!' },
        { role: 'assistant', content: 'Hello there, friend.' },
      ],
      metrics: { input_tokens: 11, output_tokens: 4, total_tokens: 15 },
    });
    expect(run.run_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(run.session_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(run.metrics.time).toBeGreaterThan(0);
    expect(new Date(run.created_at).toISOString()).toBe(run.created_at);
    const upstream = testServer.fake.modelRequests[0]?.body;
    expect(upstream?.messages?.[0]).toMatchObject({
      role: 'system',
      content: expect.stringContaining('Answer briefly.'),
    });
    expect(upstream?.messages?.at(-1)).toMatchObject({ role: 'user', content: 'Hi!' });
  });

  it('accepts multipart and urlencoded forms', async () => {
    const form = new FormData();
    form.set('message', 'from a form');
    form.set('stream', 'false');
    const multipart = await fetch(`${testServer.server.url}/agents/echo/runs`, { method: 'POST', body: form });
    expect(multipart.status).toBe(200);
    expect((await json(multipart)).content).toBe('Echo: from a form');
    const urlencoded = await fetch(`${testServer.server.url}/agents/echo/runs`, {
      method: 'POST',
      body: new URLSearchParams({ message: 'from urlencoded', stream: 'false' }),
    });
    expect((await json(urlencoded)).content).toBe('Echo: from urlencoded');
  });

  it('sends history and instructions to the model on the second run of a session', async () => {
    testServer.fake.script({ text: 'First answer.' }, { text: 'Second answer.' });
    const first = await json(await post('/agents/echo/runs', { message: 'first question', session_id: 'thread-1' }));
    expect(first.session_id).toBe('thread-1');
    await post('/agents/echo/runs', { message: 'second question', session_id: 'thread-1' });
    const messages = testServer.fake.modelRequests[1]?.body.messages ?? [];
    expect(messages.map((message) => [message.role, message.content])).toEqual([
      ['system', expect.stringContaining('Answer briefly.')],
      ['user', 'first question'],
      ['assistant', 'First answer.'],
      ['user', 'second question'],
    ]);
    const listed = await json(await fetch(`${testServer.server.url}/agents/echo/runs?session_id=thread-1`));
    expect(listed.runs.map((run: { content: string }) => run.content)).toEqual(['First answer.', 'Second answer.']);
    expect(listed.meta).toMatchObject({ total_count: 2 });
  });

  it('streams SSE frames in Agno order, deltas adding up to the content', async () => {
    testServer.fake.script({ text: 'one two three four', usage: { prompt_tokens: 5, completion_tokens: 4 } });
    const response = await post('/agents/echo/runs', { message: 'count', stream: true });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    const frames = await new SseReader(response).all();
    const names = frames.map((frame) => frame.event);
    expect(names[0]).toBe('RunStarted');
    expect(names.slice(1, 2)).toEqual(['ModelRequestStarted']);
    expect(names.slice(-3)).toEqual(['ModelRequestCompleted', 'RunContentCompleted', 'RunCompleted']);
    expect(names.filter((name) => name === 'RunContent').length).toBeGreaterThan(1);
    frames.forEach((frame, index) => {
      expect(frame.id).toBe(String(index));
      expect(frame.data.event).toBe(frame.event);
      expect(frame.data.event_index).toBe(index);
      expect(frame.raw.split('\n').filter((line) => line.startsWith('data: '))).toHaveLength(1);
      expect(JSON.stringify(frame.data)).not.toContain('null');
    });
    const deltas = frames.filter((frame) => frame.event === 'RunContent').map((frame) => frame.data.content);
    const completed = frames.at(-1)?.data;
    expect(deltas.join('')).toBe('one two three four');
    expect(completed.content).toBe('one two three four');
    expect(completed.metrics).toMatchObject({ input_tokens: 5, output_tokens: 4, total_tokens: 9 });
    expect(completed.metrics.time_to_first_token).toBeGreaterThanOrEqual(0);
    expect(typeof completed.created_at).toBe('string');
  });

  it('emits tool call events with id, name, args and result', async () => {
    testServer.fake.script(
      { toolCalls: [{ id: 'call_1', name: 'calculator', arguments: { expression: '6*7' } }] },
      { text: 'It is 42.' },
    );
    const response = await post('/agents/calc/runs', { message: 'what is 6*7?', stream: true });
    const frames = await new SseReader(response).all();
    const started = frames.find((frame) => frame.event === 'ToolCallStarted')?.data;
    const completed = frames.find((frame) => frame.event === 'ToolCallCompleted')?.data;
    expect(started.tool).toMatchObject({
      tool_call_id: 'call_1',
      tool_name: 'calculator',
      tool_args: { expression: '6*7' },
    });
    expect(completed.tool).toMatchObject({ tool_call_id: 'call_1', tool_name: 'calculator' });
    expect(completed.tool.result).toContain('42');
    expect(frames.at(-1)?.data.content).toBe('It is 42.');
    const toolMessage = testServer.fake.modelRequests[1]?.body.messages?.find((message) => message.role === 'tool');
    expect(String(toolMessage?.content)).toContain('42');
  });

  it('runs in the background: 202, then poll to completed', async () => {
    testServer.fake.script({ text: 'done in the background', firstChunkDelayMs: 100 });
    const accepted = await post('/agents/echo/runs', { message: 'later', background: true });
    expect(accepted.status).toBe(202);
    const body = await json(accepted);
    expect(body).toMatchObject({ status: 'pending', run_id: expect.any(String), session_id: expect.any(String) });
    const finished = await waitFor(async () => {
      const run = await json(
        await fetch(`${testServer.server.url}/agents/echo/runs/${body.run_id}?session_id=${body.session_id}`),
      );
      return run.status === 'completed' ? run : undefined;
    });
    expect(finished.content).toBe('done in the background');
  });

  it('cancels a streaming run: RunCancelled then RunCompleted, upstream closed', async () => {
    testServer.fake.script({ text: 'never finishes', hang: true });
    const response = await post('/agents/echo/runs', { message: 'slow', stream: true });
    const reader = new SseReader(response);
    const head = await reader.until((frame) => frame.event === 'RunContent');
    const runId = head[0]?.data.run_id;
    const cancelled = await post(`/agents/echo/runs/${runId}/cancel`, {});
    expect(cancelled.status).toBe(200);
    expect(await json(cancelled)).toEqual({});
    const rest = await reader.all();
    expect(rest.map((frame) => frame.event).slice(-2)).toEqual(['RunCancelled', 'RunCompleted']);
    await testServer.fake.waitForDisconnects(1);
    const run = await json(await fetch(`${testServer.server.url}/agents/echo/runs/${runId}`));
    expect(run.status).toBe('cancelled');
  });

  it('cancels a plain stream when the client disconnects', async () => {
    testServer.fake.script({ text: 'still going', hang: true });
    const response = await post('/agents/echo/runs', { message: 'bye', stream: true });
    const reader = new SseReader(response);
    const head = await reader.until((frame) => frame.event === 'RunContent');
    await reader.cancel();
    const runId = head[0]?.data.run_id;
    const run = await waitFor(async () => {
      const current = await json(await fetch(`${testServer.server.url}/agents/echo/runs/${runId}`));
      return current.status === 'cancelled' ? current : undefined;
    });
    expect(run.status).toBe('cancelled');
  });

  it('resumes a background stream after a disconnect with exactly the missing events', async () => {
    testServer.fake.script({ text: 'alpha beta gamma delta epsilon zeta', chunkDelayMs: 30 });
    const response = await post('/agents/echo/runs', { message: 'resume me', stream: true, background: true });
    const reader = new SseReader(response);
    const head = await reader.until((frame) => frame.event === 'RunContent');
    await reader.cancel();
    const last = head.at(-1)?.data;
    const resumed = await post(`/agents/echo/runs/${last.run_id}/resume`, { last_event_index: last.event_index });
    const rest = await new SseReader(resumed).all();
    const all = [...head, ...rest].map((frame) => frame.data.event_index);
    expect(all).toEqual(all.map((_, index) => index));
    expect(rest[0]?.data.event_index).toBe(last.event_index + 1);
    expect(rest.at(-1)?.event).toBe('RunCompleted');
    const content = [...head, ...rest]
      .filter((frame) => frame.event === 'RunContent')
      .map((frame) => frame.data.content);
    expect(content.join('')).toBe('alpha beta gamma delta epsilon zeta');

    const viaGet = await fetch(`${testServer.server.url}/agents/echo/runs/${last.run_id}/resume`, {
      headers: { 'last-event-id': String(rest.at(-3)?.data.event_index) },
    });
    const tail = await new SseReader(viaGet).all();
    expect(tail.map((frame) => frame.event)).toEqual(rest.slice(-2).map((frame) => frame.event));
  });

  it('answers offline with local:default, tools included', async () => {
    const chat = await json(await post('/agents/offline/runs', { message: 'Hello, who are you?' }));
    expect(chat.status).toBe('completed');
    expect(chat.content).toContain('Offline Helper');
    const math = await json(await post('/agents/offline/runs', { message: 'what is 12*7?' }));
    expect(math.content).toContain('84');
    expect(math.tools?.[0]).toMatchObject({ tool_name: 'calculator' });
    expect(testServer.fake.modelRequests).toHaveLength(0);
  });

  it('rejects bad input with the documented 4xx', async () => {
    const missing = await post('/agents/echo/runs', { stream: false });
    expect(missing.status).toBe(422);
    expect((await json(missing)).detail[0]).toMatchObject({ loc: ['body', 'message'] });
    const unknown = await post('/agents/nobody/runs', { message: 'hi' });
    expect(unknown.status).toBe(404);
    expect(await json(unknown)).toMatchObject({ detail: 'Agent not found' });
    const badSession = await post('/agents/echo/runs', { message: 'hi', session_id: '../etc/passwd' });
    expect(badSession.status).toBe(422);
    expect((await json(badSession)).detail[0].loc).toEqual(['body', 'session_id']);
    const malformed = await fetch(`${testServer.server.url}/agents/echo/runs`, {
      method: 'POST',
      headers: { 'content-type': 'multipart/form-data; boundary=xyz' },
      body: '--xyz\r\nContent-Disposition: form-data; name="message"\r\n\r\nunterminated',
    });
    expect(malformed.status).toBeGreaterThanOrEqual(400);
    expect(malformed.status).toBeLessThan(500);
    const unknownRun = await fetch(`${testServer.server.url}/agents/echo/runs/00000000-0000-0000-0000-000000000000`);
    expect(unknownRun.status).toBe(404);
    expect(testServer.fake.modelRequests).toHaveLength(0);
  });
});
