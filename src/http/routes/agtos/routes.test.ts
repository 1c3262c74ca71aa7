import { describe, expect, it } from 'vitest';
import { startTestServer, useFakeUpstreamServer, waitFor } from '../../../../test/helpers.js';

const KEY = 'admin-key-for-agtos-tests';
const CHAT_ONLY_KEY = 'helper-only-key-for-agtos-tests';

// biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field
const json = async (response: Response): Promise<any> => response.json();

describe('agtOS and iii routes over real HTTP', () => {
  const testServer = useFakeUpstreamServer({
    env: { AGENTOS_API_KEY: KEY },
    config: {
      default_agent: 'assistant',
      agents: [
        { id: 'helper', name: 'Helper', model: 'local:default' },
        { id: 'assistant', name: 'Assistant', model: 'openai:gpt-4o-mini', tools: ['calculator'] },
      ],
      auth: { api_keys: [{ name: 'helper-only', key: CHAT_ONLY_KEY, scopes: ['agents:helper:run'] }] },
    },
  });
  const call = (method: string, path: string, body?: unknown, key: string | null = KEY) =>
    fetch(`${testServer.server.url}${path}`, {
      method,
      headers: {
        ...(key === null ? {} : { authorization: `Bearer ${key}` }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });

  it('POST /api/chat answers {text, sessionId, platform, metadata} and counts steps and tool calls', async () => {
    testServer.fake.script(
      { toolCalls: [{ name: 'calculator', arguments: { expression: '6*7' } }] },
      { text: 'It is 42.', chunks: ['It is ', '42.'] },
    );
    const response = await call('POST', '/api/chat', { text: 'What is 6 times 7?' });
    expect(response.status).toBe(200);
    const body = await json(response);
    expect(body).toMatchObject({
      text: 'It is 42.',
      platform: 'web',
      sessionId: expect.any(String),
      metadata: { stepCount: 2, toolCallCount: 1, durationMs: expect.any(Number) },
    });
    // The default agent answered: its upstream got both model requests.
    expect(testServer.fake.modelRequests).toHaveLength(2);
  });

  it('is stateless without sessionId and keeps history with one', async () => {
    testServer.fake.script({ text: 'First.' }, { text: 'Second.' }, { text: 'Third.' });
    const first = await json(await call('POST', '/api/chat', { text: 'My name is Ada.' }));
    await call('POST', '/api/chat', { text: 'What is my name?' });
    // Stateless: the second request carried only the system prompt and its own message.
    expect(testServer.fake.modelRequests[1]?.body.messages).toHaveLength(2);
    await call('POST', '/api/chat', { text: 'And now?', sessionId: first.sessionId });
    expect(testServer.fake.modelRequests[2]?.body.messages?.slice(1)).toMatchObject([
      { role: 'user', content: 'My name is Ada.' },
      { role: 'assistant', content: 'First.' },
      { role: 'user', content: 'And now?' },
    ]);
  });

  it('answers /api/chat validation failures with 400, the body cap with 413, and checks the agent scope', async () => {
    const missing = await call('POST', '/api/chat', {});
    expect(missing.status).toBe(400);
    expect(await json(missing)).toMatchObject({ code: 'AOS_VALIDATION', error: expect.any(String) });
    expect((await call('POST', '/api/chat', { text: 'x'.repeat(10_001) })).status).toBe(400);
    const huge = await call('POST', '/api/chat', JSON.stringify({ text: 'x', pad: 'y'.repeat(1024 * 1024) }));
    expect(huge.status).toBe(413);
    expect(await json(huge)).toMatchObject({ code: 'AOS_PAYLOAD_TOO_LARGE' });
    // A key that may run only helper cannot reach the default agent, but may select helper.
    expect((await call('POST', '/api/chat', { text: 'hi' }, CHAT_ONLY_KEY)).status).toBe(403);
    const helper = await call('POST', '/api/chat', { text: 'hi', agentId: 'helper' }, CHAT_ONLY_KEY);
    expect(helper.status).toBe(200);
    expect((await json(helper)).text).not.toBe('');
    expect((await call('POST', '/api/chat', { text: 'hi', agentId: 'nobody' })).status).toBe(404);
    expect((await call('POST', '/api/chat', { text: 'hi' }, null)).status).toBe(401);
  });

  it('POST /api/tasks answers 202 with a taskId, GET /api/tasks/{id} reports it; ?wait=true is synchronous', async () => {
    testServer.fake.script({ text: 'A short report.', chunkDelayMs: 30 });
    const started = await call('POST', '/api/tasks', { topic: 'Write a report' });
    expect(started.status).toBe(202);
    const { taskId, status } = await json(started);
    expect(status).toBe('running');
    const done = await waitFor(async () => {
      const task = await json(await call('GET', `/api/tasks/${taskId}`));
      return task.status === 'completed' ? task : undefined;
    });
    expect(done).toMatchObject({
      taskId,
      text: 'A short report.',
      metadata: { stepCount: 1, toolCallCount: 0 },
      error: null,
    });

    testServer.fake.script({ text: 'Synchronous.' });
    const waited = await call('POST', '/api/tasks?wait=true', { topic: 'Now' });
    expect(waited.status).toBe(200);
    expect(await json(waited)).toMatchObject({ taskId: expect.any(String), text: 'Synchronous.', metadata: {} });

    expect((await call('GET', '/api/tasks/bad.id!')).status).toBe(400);
    expect((await call('GET', `/api/tasks/${'a'.repeat(129)}`)).status).toBe(400);
    const unknown = await call('GET', '/api/tasks/00000000-0000-0000-0000-000000000000');
    expect(unknown.status).toBe(404);
    expect(await json(unknown)).toMatchObject({ error: 'Task not found' });
    expect((await call('POST', '/api/tasks', { topic: '' })).status).toBe(400);

    testServer.fake.script({ status: 400, error: 'upstream refused' });
    const failed = await call('POST', '/api/tasks?wait=true', { topic: 'Fail' });
    expect(failed.status).toBe(502);
    const failure = await json(failed);
    expect(failure).toMatchObject({ code: 'AOS_MODEL_PROVIDER_ERROR', taskId: expect.any(String) });
    expect((await json(await call('GET', `/api/tasks/${failure.taskId}`))).status).toBe('error');
  });

  it('lists no voice sessions and reports the voice pipeline (200, with a reason when unavailable)', async () => {
    expect(await json(await call('GET', '/api/sessions'))).toEqual({ sessions: [], count: 0 });
    const voice = await call('GET', '/api/voice/status');
    expect(voice.status).toBe(200);
    const status = await json(voice);
    expect(status).toMatchObject({ activeSessions: 0, stt: 'local:pocketsphinx', tts: 'local:espeak-ng' });
    // Whether the engines are installed depends on the machine (scripts/install-voice.sh).
    if (status.available) expect(status.pipeline).toBe('cascade');
    else expect(status).toMatchObject({ pipeline: null, reason: expect.any(String) });
  });

  it('GET /api/system/info reports the process', async () => {
    const info = await json(await call('GET', '/api/system/info'));
    expect(info).toMatchObject({
      nodeVersion: process.version,
      platform: process.platform,
      arch: process.arch,
      ports: { http: Number(new URL(testServer.server.url).port) },
    });
    expect(info.memoryUsage.heapUsed).toBeGreaterThan(0);
    expect(info.timestamp).toBeGreaterThan(1_600_000_000_000);
  });

  it('GET /api/health checks the database and each provider with responseTime; /health/:service one of them', async () => {
    const health = await call('GET', '/api/health', undefined, null);
    expect(health.status).toBe(200);
    const body = await json(health);
    expect(body).toMatchObject({
      status: 'healthy',
      services: {
        db: { status: 'healthy', responseTime: expect.any(Number) },
        'provider-local': { status: 'healthy' },
        'provider-openai': { status: 'healthy' },
      },
    });
    // The provider check reached the upstream's model list with the configured key.
    const probe = testServer.fake.requests.find((request) => request.path === '/v1/models');
    expect(probe?.headers.authorization).toBe('Bearer test-key');

    const one = await call('GET', '/health/provider-openai');
    expect(one.status).toBe(200);
    expect(await json(one)).toMatchObject({ status: 'healthy', responseTime: expect.any(Number) });
    // Provider verdicts are cached briefly: the public route does not call out on every request.
    await call('GET', '/api/health', undefined, null);
    expect(testServer.fake.requests.filter((request) => request.path === '/v1/models')).toHaveLength(1);
    expect((await call('GET', '/health/db', undefined, null)).status).toBe(401);
    const unknown = await call('GET', '/health/redis');
    expect(unknown.status).toBe(404);
    expect((await json(unknown)).detail).toContain('provider-openai');
  });

  it('streams iii /v1/chat/completions/stream as the model produces tokens', async () => {
    testServer.fake.script({ chunks: ['Alpha ', 'beta ', 'gamma.'], chunkDelayMs: 150 });
    const response = await call('POST', '/v1/chat/completions/stream', { message: 'Go', agentId: 'assistant' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const decoder = new TextDecoder();
    const reader = response.body?.getReader();
    let raw = '';
    const arrivals: { text: string; at: number }[] = [];
    for (;;) {
      const { value, done } = (await reader?.read()) ?? { done: true, value: undefined };
      if (done) break;
      raw += decoder.decode(value, { stream: true });
      for (const line of raw.split('\n\n').slice(0, -1)) {
        const data = line.replace(/^data: /, '');
        if (data === '[DONE]') continue;
        const chunk = JSON.parse(data);
        const text = chunk.choices[0]?.delta?.content;
        if (text && !arrivals.some((entry) => entry.text === text)) arrivals.push({ text, at: Date.now() });
      }
    }
    expect(raw.trimEnd().endsWith('data: [DONE]')).toBe(true);
    expect(arrivals.map((entry) => entry.text).join('')).toBe('Alpha beta gamma.');
    // Real streaming: the first token arrived well before the last one was produced.
    const first = arrivals[0]?.at ?? 0;
    const last = arrivals.at(-1)?.at ?? 0;
    expect(last - first).toBeGreaterThanOrEqual(200);
    const missing = await call('POST', '/v1/chat/completions/stream', { agentId: 'assistant' });
    expect(missing.status).toBe(400);
    expect(await json(missing)).toMatchObject({ error: { type: 'invalid_request_error' } });
  });

  it('reports an unreachable provider as degraded (503) with the failing checker named', async () => {
    const isolated = await startTestServer({
      env: { OPENAI_BASE_URL: 'http://127.0.0.1:9/v1', OPENAI_API_KEY: 'k' },
      config: { agents: [{ id: 'a', model: 'openai:gpt-4o-mini' }] },
    });
    try {
      const response = await fetch(`${isolated.url}/api/health`);
      expect(response.status).toBe(503);
      const body = await json(response);
      expect(body).toMatchObject({
        status: 'degraded',
        error: 'Health check failed',
        services: { db: { status: 'healthy' }, 'provider-openai': { status: 'unhealthy' } },
      });
      expect(body.message).toContain('provider-openai');
      // The public body names what is down, never the raw error (hosts, ports, users).
      expect(JSON.stringify(body)).not.toContain('127.0.0.1');
      const one = await fetch(`${isolated.url}/health/provider-openai`);
      expect(one.status).toBe(503);
      expect(await json(one)).toMatchObject({ status: 'unhealthy', error: expect.any(String) });
    } finally {
      await isolated.close();
    }
  });
});
