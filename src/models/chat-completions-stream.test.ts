import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createOpenAI } from '@ai-sdk/openai';
import type { LanguageModelV3, LanguageModelV3CallOptions, LanguageModelV3StreamPart } from '@ai-sdk/provider';
import { APICallError } from '@ai-sdk/provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeOpenAI, type ScriptedReply, startFakeOpenAI } from '../../test/fake-openai.js';
import { canStreamLean, partReaderOf, withLeanStreaming } from './chat-completions-stream.js';
import { createHttpFetch } from './http-fetch.js';

let fake: FakeOpenAI;
const http = createHttpFetch();

beforeAll(async () => {
  fake = await startFakeOpenAI();
});
afterAll(async () => {
  await fake.close();
});

function providerModel(baseURL = fake.url): LanguageModelV3 {
  return createOpenAI({ baseURL, apiKey: 'test', fetch: http }).chat('gpt-4o-mini');
}

const weatherTool = {
  type: 'function' as const,
  name: 'weather',
  description: 'Weather for a city',
  inputSchema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

function call(extra: Partial<LanguageModelV3CallOptions> = {}): LanguageModelV3CallOptions {
  return {
    prompt: [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: [{ type: 'text', text: 'Weather in Oslo?' }] },
    ],
    tools: [weatherTool],
    ...extra,
  };
}

/** All parts of one call, read from its web stream or (`own`) from the lean stream's own reader, as the model loop does. */
async function parts(
  model: LanguageModelV3,
  options = call(),
  via: 'web' | 'own' = 'web',
): Promise<LanguageModelV3StreamPart[]> {
  const result = await model.doStream(options);
  const out: LanguageModelV3StreamPart[] = [];
  const reader = via === 'own' ? partReaderOf(result) : result.stream.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return out;
    out.push(value);
  }
}

/** The error a call fails with (doStream returns a PromiseLike). */
async function failure(model: LanguageModelV3, options = call()): Promise<unknown> {
  try {
    await model.doStream(options);
  } catch (error) {
    return error;
  }
  throw new Error('the call did not fail');
}

/** The fake numbers its completions (`chatcmpl-fake<n>`), so two calls differ in that id alone. */
const sameIds = (list: LanguageModelV3StreamPart[]) =>
  list.map((part) => (part.type === 'response-metadata' ? { ...part, id: 'chatcmpl' } : part));

/**
 * Both ways over the same script: the provider's own doStream, then the lean one, read from its web stream
 * and from its own reader (which must give the same parts).
 */
async function bothWays(reply: ScriptedReply) {
  fake.script(reply, reply, reply);
  const sdk = sameIds(await parts(providerModel()));
  const sdkRequest = fake.modelRequests.at(-1);
  const lean = sameIds(await parts(withLeanStreaming(providerModel(), http)));
  const leanRequest = fake.modelRequests.at(-1);
  const own = sameIds(await parts(withLeanStreaming(providerModel(), http), call(), 'own'));
  expect(own).toEqual(lean);
  return { sdk, lean, sdkRequest, leanRequest };
}

describe('withLeanStreaming (Chat Completions streams without web-stream stages)', () => {
  it('applies to the provider this agentos ships (fails when an SDK update removes what it calls)', () => {
    expect(canStreamLean(providerModel())).toBe(true);
  });

  it('sends the request the provider sends and yields the parts it yields, text and usage', async () => {
    const { sdk, lean, sdkRequest, leanRequest } = await bothWays({
      text: 'It is sunny in Oslo today.',
      usage: { prompt_tokens: 11, completion_tokens: 7 },
    });
    expect(leanRequest?.rawBody).toBe(sdkRequest?.rawBody);
    for (const header of ['authorization', 'content-type']) {
      expect(leanRequest?.headers[header]).toBe(sdkRequest?.headers[header]);
    }
    // The same agent string, but for the version of @ai-sdk/provider-utils each side took its helpers from.
    const agent = (value: unknown) => String(value).replace(/provider-utils\/[\d.]+/, 'provider-utils');
    expect(agent(leanRequest?.headers['user-agent'])).toBe(agent(sdkRequest?.headers['user-agent']));
    expect(leanRequest?.headers.authorization).toBe('Bearer test');
    expect(lean).toEqual(sdk);
    const text = lean.flatMap((part) => (part.type === 'text-delta' ? [part.delta] : [])).join('');
    expect(text).toBe('It is sunny in Oslo today.');
    expect(lean.at(-1)).toMatchObject({
      type: 'finish',
      finishReason: { unified: 'stop', raw: 'stop' },
      usage: { inputTokens: { total: 11 }, outputTokens: { total: 7 } },
    });
  });

  it('yields the same tool-call parts, arguments streamed in pieces', async () => {
    const { sdk, lean } = await bothWays({
      toolCalls: [
        { id: 'call_a', name: 'weather', arguments: { city: 'Oslo' } },
        { id: 'call_b', name: 'weather', arguments: { city: 'Bergen' } },
      ],
    });
    expect(lean).toEqual(sdk);
    const calls = lean.filter((part) => part.type === 'tool-call');
    expect(calls.map((part) => [part.toolCallId, part.toolName, JSON.parse(part.input)])).toEqual([
      ['call_a', 'weather', { city: 'Oslo' }],
      ['call_b', 'weather', { city: 'Bergen' }],
    ]);
    expect(lean.at(-1)).toMatchObject({ type: 'finish', finishReason: { unified: 'tool-calls' } });
  });

  it('fails an HTTP error as the provider does: same APICallError status, message and retry flag', async () => {
    for (const status of [429, 400]) {
      fake.script({ status, error: `scripted ${status}` }, { status, error: `scripted ${status}` });
      const sdk = await failure(providerModel());
      const lean = await failure(withLeanStreaming(providerModel(), http));
      expect(APICallError.isInstance(lean)).toBe(true);
      const [a, b] = [sdk, lean] as APICallError[];
      expect([b?.statusCode, b?.message, b?.isRetryable, b?.data]).toEqual([
        a?.statusCode,
        a?.message,
        a?.isRetryable,
        a?.data,
      ]);
    }
  });

  it('reports an unreachable upstream as a retryable "Cannot connect to API" error', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const error = await failure(withLeanStreaming(providerModel(`http://127.0.0.1:${port}/v1`), http));
    expect(APICallError.isInstance(error)).toBe(true);
    expect((error as APICallError).message).toMatch(/^Cannot connect to API: /);
    expect((error as APICallError).isRetryable).toBe(true);
  });

  it('throws an error frame sent before any output, and streams one sent after as an error part', async () => {
    const frames = [
      ['data: {"error":{"message":"overloaded right now","type":"server_error","code":null}}\n\n'],
      [
        'data: {"id":"c1","model":"m","created":1,"choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\n',
        'data: {"error":{"message":"cut off","type":"server_error"}}\n\n',
      ],
    ];
    let next = 0;
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const frame of frames[next++] ?? []) res.write(frame);
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
    try {
      const early = await failure(withLeanStreaming(providerModel(base), http));
      expect(APICallError.isInstance(early)).toBe(true);
      expect(early).toMatchObject({ message: 'overloaded right now', statusCode: 500, isRetryable: true });

      const late = await parts(withLeanStreaming(providerModel(base), http));
      expect(late.map((part) => part.type)).toEqual([
        'stream-start',
        'response-metadata',
        'text-start',
        'text-delta',
        'error',
        'text-end',
        'finish',
      ]);
      expect(late.at(-1)).toMatchObject({ finishReason: { unified: 'error' } });
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('decodes characters the network cut in two, and a last line without a newline', async () => {
    const first = Buffer.from(
      'data: {"id":"c1","model":"m","created":1,"choices":[{"index":0,"delta":{"content":"Grüße 👋"}}]}\n\n',
    );
    // Cut inside the two-byte ü and inside the four-byte emoji; the body ends without a newline.
    const cuts = [first.indexOf('ü') + 1, first.indexOf(Buffer.from('👋')) + 2];
    const writes = [first.subarray(0, cuts[0]), first.subarray(cuts[0], cuts[1]), first.subarray(cuts[1])];
    const server = createServer(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const bytes of writes) {
        res.write(bytes);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      res.end(
        'data: {"id":"c1","model":"m","created":1,"choices":[{"index":0,"delta":{"content":"!"},"finish_reason":"stop"}]}',
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
    try {
      const received = await parts(withLeanStreaming(providerModel(base), http), call(), 'own');
      const text = received.flatMap((part) => (part.type === 'text-delta' ? [part.delta] : [])).join('');
      expect(text).toBe('Grüße 👋!');
      expect(received.at(-1)).toMatchObject({ type: 'finish', finishReason: { unified: 'stop' } });
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it.each([
    ['its web stream', (result: { stream: ReadableStream<LanguageModelV3StreamPart> }) => result.stream.getReader()],
    ['its own reader', partReaderOf],
  ])('stops the upstream call when %s cancels or the call is aborted', async (_, readerOf) => {
    const model = withLeanStreaming(providerModel(), http);
    const before = fake.disconnects;
    fake.script({ hang: true, text: 'first words' });
    const reader = readerOf(await model.doStream(call()));
    await reader.read();
    await reader.cancel();
    expect(await reader.read()).toEqual({ done: true, value: undefined });

    fake.script({ hang: true, text: 'first words' });
    const controller = new AbortController();
    const second = readerOf(await model.doStream(call({ abortSignal: controller.signal })));
    await second.read();
    controller.abort();
    await expect(
      (async () => {
        for (;;) if ((await second.read()).done) return;
      })(),
    ).rejects.toThrow();
    await expect.poll(() => fake.disconnects - before, { timeout: 5000 }).toBe(2);
  });

  it('pauses the socket for a reader that is behind and resumes it, losing nothing', async () => {
    const words = Array.from({ length: 60 }, (_, index) => `w${index}`);
    fake.script({ text: words.join(' '), chunkDelayMs: 2 });
    const reader = partReaderOf(await withLeanStreaming(providerModel(), http).doStream(call()));
    // The answer keeps arriving while nobody reads: more parts than the queue holds before it pauses (a
    // socket left paused would never end, and this test would time out).
    await new Promise((resolve) => setTimeout(resolve, 300));
    let text = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      if (value.type === 'text-delta') text += value.delta;
    }
    expect(text).toBe(words.join(' '));
  });
});
