import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { createOpenAI } from '@ai-sdk/openai';
import { APICallError, generateText, streamText } from 'ai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeOpenAI, startFakeOpenAI } from '../../test/fake-openai.js';
import { createHttpFetch } from './http-fetch.js';

// The provider over node:http must behave like the provider over the global fetch: each case runs
// through both against the scripted upstream on 127.0.0.1.

let fake: FakeOpenAI;

beforeAll(async () => {
  fake = await startFakeOpenAI();
});

afterAll(async () => {
  await fake.close();
});

beforeEach(() => {
  fake.reset();
});

const fetches = { global: undefined, http: createHttpFetch() } as const;

function model(kind: keyof typeof fetches, baseURL = fake.url) {
  const custom = fetches[kind];
  return createOpenAI({ baseURL, apiKey: 'test', ...(custom ? { fetch: custom } : {}) }).chat('gpt-4o-mini');
}

/** A port nothing listens on. */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') return reject(new Error('no port'));
      server.close(() => resolve(address.port));
    });
  });
}

describe('createHttpFetch under @ai-sdk/openai', () => {
  it('answers a blocking call like the global fetch (text, usage, finish reason, request sent)', async () => {
    const results = [];
    for (const kind of ['global', 'http'] as const) {
      fake.script({ text: 'Hello from upstream', usage: { prompt_tokens: 7, completion_tokens: 3 } });
      const result = await generateText({ model: model(kind), prompt: 'Hi', maxRetries: 0 });
      results.push({ text: result.text, usage: result.usage, finishReason: result.finishReason });
    }
    expect(results[1]).toEqual(results[0]);
    expect(results[1]?.text).toBe('Hello from upstream');
    const [viaGlobal, viaHttp] = fake.modelRequests;
    expect(viaHttp?.body).toEqual(viaGlobal?.body);
    expect(viaHttp?.headers.authorization).toBe('Bearer test');
    expect(viaHttp?.headers['content-type']).toBe(viaGlobal?.headers['content-type']);
  });

  it('sends host and content-length as the global fetch does, and a caller host header instead of its own', async () => {
    const seen: Record<string, string | string[] | undefined>[] = [];
    const server = createHttpServer((req, res) => {
      seen.push(req.headers);
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/echo`;
    try {
      const body = JSON.stringify({ greeting: 'hé' });
      for (const send of [fetch, fetches.http]) {
        const response = await send(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        expect(await response.text()).toBe('ok');
      }
      await (await fetches.http(url, { headers: { host: 'api.example.test' } })).text();
      const [viaGlobal, viaHttp, ownHost] = seen;
      expect(viaHttp?.host).toBe(viaGlobal?.host);
      expect(viaHttp?.['content-length']).toBe(String(Buffer.byteLength(body)));
      expect(viaHttp?.['content-length']).toBe(viaGlobal?.['content-length']);
      expect(viaHttp?.['content-type']).toBe('application/json');
      expect(ownHost?.host).toBe('api.example.test');
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('streams the same deltas, tool calls and usage', async () => {
    const results = [];
    for (const kind of ['global', 'http'] as const) {
      fake.script({ text: 'one two three', toolCalls: [{ name: 'lookup', arguments: { q: 'x' } }] });
      const result = streamText({ model: model(kind), prompt: 'Hi', maxRetries: 0 });
      const parts: unknown[] = [];
      for await (const part of result.fullStream) {
        if (part.type === 'text-delta') parts.push(part.text);
        if (part.type === 'tool-call') parts.push([part.toolName, part.input]);
        if (part.type === 'finish') parts.push(part.finishReason, part.totalUsage.outputTokens);
      }
      results.push(parts);
    }
    expect(results[1]).toEqual(results[0]);
    expect(results[1]).toContain('one ');
  });

  it('reports an HTTP error status with the same error', async () => {
    const errors: unknown[] = [];
    for (const kind of ['global', 'http'] as const) {
      fake.script({ status: 429, error: 'Slow down' });
      errors.push(await generateText({ model: model(kind), prompt: 'Hi', maxRetries: 0 }).catch((error) => error));
    }
    for (const error of errors) expect(APICallError.isInstance(error)).toBe(true);
    const [viaGlobal, viaHttp] = errors as APICallError[];
    expect(viaHttp?.message).toBe(viaGlobal?.message);
    expect(viaHttp?.statusCode).toBe(429);
    expect(viaHttp?.isRetryable).toBe(viaGlobal?.isRetryable);
    expect(viaHttp?.responseBody).toBe(viaGlobal?.responseBody);
  });

  it('reports an unreachable upstream as a retryable connection error, as the global fetch does', async () => {
    const base = `http://127.0.0.1:${await closedPort()}/v1`;
    const errors: APICallError[] = [];
    for (const kind of ['global', 'http'] as const) {
      errors.push(
        await generateText({ model: model(kind, base), prompt: 'Hi', maxRetries: 0 }).catch((error) => error),
      );
    }
    expect(errors[1]?.message).toBe(errors[0]?.message);
    expect(errors[1]?.message).toMatch(/Cannot connect to API/);
    expect(errors[1]?.isRetryable).toBe(true);
  });

  it('stops a stream on abort and drops the upstream connection', async () => {
    fake.script({ text: 'first words', hang: true });
    const controller = new AbortController();
    const result = streamText({ model: model('http'), prompt: 'Hi', abortSignal: controller.signal, maxRetries: 0 });
    const seen: string[] = [];
    for await (const part of result.fullStream) {
      seen.push(part.type);
      if (part.type === 'text-delta') controller.abort();
    }
    expect(seen).toContain('text-delta');
    expect(seen.at(-1)).toBe('abort');
    await fake.waitForDisconnects(1);
  });

  it('rejects with the abort reason while waiting for the answer, and for an already aborted signal', async () => {
    const http = createHttpFetch();
    fake.script({ hang: true });
    const controller = new AbortController();
    const pending = http(`${fake.url}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] }),
      signal: controller.signal,
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    controller.abort('cancel');
    await expect(pending).rejects.toBe('cancel');
    await fake.waitForDisconnects(1);
    await expect(http(`${fake.url}/models`, { signal: AbortSignal.abort() })).rejects.toMatchObject({
      name: 'AbortError',
    });
  });
});

describe('createHttpFetch idle timeout', () => {
  it('fails a call that gets no answer, and a body that stops, after the idle time', async () => {
    const http = createHttpFetch({ idleTimeoutMs: 150 });
    const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] });
    fake.script({ hang: true });
    const silent = http(`${fake.url}/chat/completions`, { method: 'POST', body });
    await expect(silent).rejects.toMatchObject({ name: 'TypeError', message: 'fetch failed' });
    fake.script({ text: 'first words', hang: true });
    const streaming = await http(`${fake.url}/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ ...JSON.parse(body), stream: true }),
    });
    expect(streaming.status).toBe(200);
    await expect(streaming.text()).rejects.toThrow();
  });
});

describe('createHttpFetch connections', () => {
  it('reuses a connection between calls, also when the server announces a 1 s idle timeout', async () => {
    let connections = 0;
    const server = createHttpServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{"ok":true}');
    });
    server.keepAliveTimeout = 1000;
    server.on('connection', () => {
      connections += 1;
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const http = createHttpFetch();
    try {
      for (let index = 0; index < 3; index++) {
        const response = await http(`http://127.0.0.1:${port}/`, { method: 'POST', body: '{}' });
        expect(response.headers.get('keep-alive')).toBe('timeout=1');
        expect(await response.json()).toEqual({ ok: true });
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(connections).toBe(1);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
