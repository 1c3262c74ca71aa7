import { createAnthropic } from '@ai-sdk/anthropic';
import { createOpenAI } from '@ai-sdk/openai';
import { APICallError, generateText, stepCountIs, streamText, tool } from 'ai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type FakeOpenAI, startFakeOpenAI } from './fake-openai.js';

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

function openaiModel() {
  return createOpenAI({ baseURL: fake.url, apiKey: 'test' }).chat('gpt-4o-mini');
}

function anthropicModel() {
  return createAnthropic({ baseURL: fake.url, apiKey: 'test' })('claude-haiku-4-5');
}

const addTool = tool({
  description: 'Adds two numbers',
  inputSchema: z.object({ a: z.number(), b: z.number() }),
  execute: async ({ a, b }) => String(a + b),
});

describe('fake OpenAI: Chat Completions', () => {
  it('answers a non-stream request with the scripted text and records it', async () => {
    fake.script({ text: 'Hello there' });

    const result = await generateText({ model: openaiModel(), prompt: 'Hi' });

    expect(result.text).toBe('Hello there');
    expect(result.finishReason).toBe('stop');
    const request = fake.requests[0];
    expect(request?.method).toBe('POST');
    expect(request?.path).toBe('/v1/chat/completions');
    expect(request?.body.model).toBe('gpt-4o-mini');
    expect(request?.body.stream).not.toBe(true);
    expect(request?.headers.authorization).toBe('Bearer test');
  });

  it('echoes the last user message by default', async () => {
    const result = await generateText({ model: openaiModel(), prompt: 'ping pong' });

    expect(result.text).toBe('Echo: ping pong');
  });

  it('streams deltas that concatenate to the text', async () => {
    fake.script({ text: 'The quick brown fox jumps' });

    const result = streamText({ model: openaiModel(), prompt: 'Hi' });
    const deltas: string[] = [];
    for await (const delta of result.textStream) deltas.push(delta);

    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.join('')).toBe('The quick brown fox jumps');
    expect(fake.requests[0]?.body.stream).toBe(true);
    expect(fake.disconnects).toBe(0);
  });

  it('streams explicit chunks exactly', async () => {
    fake.script({ chunks: ['Hel', 'lo, ', 'wor', 'ld'] });

    const result = streamText({ model: openaiModel(), prompt: 'Hi' });
    const deltas: string[] = [];
    for await (const delta of result.textStream) deltas.push(delta);

    expect(deltas).toEqual(['Hel', 'lo, ', 'wor', 'ld']);
  });

  it('runs a tool call round trip (generateText)', async () => {
    fake.script({ toolCalls: [{ name: 'add', arguments: { a: 2, b: 3 } }] }, { text: 'The sum is 5' });

    const result = await generateText({
      model: openaiModel(),
      prompt: 'What is 2 + 3?',
      tools: { add: addTool },
      stopWhen: stepCountIs(3),
    });

    expect(result.text).toBe('The sum is 5');
    expect(result.steps).toHaveLength(2);
    expect(result.steps[0]?.toolCalls[0]).toMatchObject({ toolName: 'add', input: { a: 2, b: 3 } });
    expect(result.steps[0]?.toolResults[0]).toMatchObject({ toolName: 'add', output: '5' });
    const firstRequest = fake.modelRequests[0];
    expect(firstRequest?.body.tools?.[0]).toMatchObject({ type: 'function', function: { name: 'add' } });
    const messages = fake.modelRequests[1]?.body.messages ?? [];
    const toolMessage = messages.find((message) => message.role === 'tool');
    const assistant = messages.find((message) => message.role === 'assistant') as
      | { tool_calls?: { id: string }[] }
      | undefined;
    expect(toolMessage?.content).toBe('5');
    expect(toolMessage?.tool_call_id).toBe(assistant?.tool_calls?.[0]?.id);
  });

  it('streams tool-call deltas and finishes the round trip (streamText)', async () => {
    fake.script(
      { toolCalls: [{ id: 'call_abc', name: 'add', arguments: { a: 40, b: 2 } }] },
      { text: 'It is 42', chunkDelayMs: 1 },
    );

    const result = streamText({
      model: openaiModel(),
      prompt: 'What is 40 + 2?',
      tools: { add: addTool },
      stopWhen: stepCountIs(3),
    });
    const types: string[] = [];
    for await (const part of result.fullStream) types.push(part.type);

    expect(await result.text).toBe('It is 42');
    expect(types).toContain('tool-input-delta');
    expect(types).toContain('tool-call');
    expect(types).toContain('tool-result');
    const toolCalls = (await result.steps)[0]?.toolCalls;
    expect(toolCalls?.[0]).toMatchObject({ toolCallId: 'call_abc', toolName: 'add', input: { a: 40, b: 2 } });
    expect(fake.modelRequests).toHaveLength(2);
  });

  it('reports scripted usage, non-stream and stream', async () => {
    fake.script(
      { text: 'one two', usage: { prompt_tokens: 11, completion_tokens: 7 } },
      { text: 'one two', usage: { prompt_tokens: 13, completion_tokens: 5 } },
    );

    const generated = await generateText({ model: openaiModel(), prompt: 'Hi' });
    const streamed = streamText({ model: openaiModel(), prompt: 'Hi' });
    await streamed.consumeStream();

    expect(generated.usage).toMatchObject({ inputTokens: 11, outputTokens: 7, totalTokens: 18 });
    expect(await streamed.usage).toMatchObject({ inputTokens: 13, outputTokens: 5, totalTokens: 18 });
    expect(fake.requests[1]?.body.stream_options).toEqual({ include_usage: true });
  });

  it('estimates usage from words by default', async () => {
    const result = await generateText({ model: openaiModel(), prompt: 'three little words' });

    // Reply "Echo: three little words" is 4 words; the prompt is 3.
    expect(result.usage).toMatchObject({ inputTokens: 3, outputTokens: 4, totalTokens: 7 });
  });

  it('surfaces an error status as an APICallError', async () => {
    fake.script({ status: 400, error: 'The model does not exist' });

    const failure = await generateText({ model: openaiModel(), prompt: 'Hi', maxRetries: 0 }).catch(
      (error: unknown) => error,
    );

    expect(APICallError.isInstance(failure)).toBe(true);
    expect(failure).toMatchObject({ statusCode: 400, message: 'The model does not exist' });
  });

  it('surfaces an error status in a stream as an error part', async () => {
    fake.script({ status: 500 });

    const result = streamText({ model: openaiModel(), prompt: 'Hi', maxRetries: 0, onError: () => {} });
    const errors: unknown[] = [];
    for await (const part of result.fullStream) if (part.type === 'error') errors.push(part.error);

    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ statusCode: 500 });
  });

  it('counts a disconnect when a hanging stream is aborted', async () => {
    fake.script({ text: 'never finished', hang: true });
    const controller = new AbortController();

    const result = streamText({
      model: openaiModel(),
      prompt: 'Hi',
      abortSignal: controller.signal,
      onError: () => {},
    });
    const deltas: string[] = [];
    for await (const delta of result.textStream) {
      deltas.push(delta);
      controller.abort();
    }
    await fake.waitForDisconnects(1);

    expect(deltas).toEqual(['never ']);
    expect(fake.disconnects).toBe(1);
  });

  it('counts a disconnect when a hanging non-stream request is aborted', async () => {
    fake.script({ hang: true });
    const controller = new AbortController();

    const pending = generateText({ model: openaiModel(), prompt: 'Hi', abortSignal: controller.signal });
    while (fake.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort();

    await expect(pending).rejects.toThrow();
    await fake.waitForDisconnects(1);
    expect(fake.disconnects).toBe(1);
  });

  it('delays the first chunk by firstChunkDelayMs', async () => {
    fake.script({ text: 'late', firstChunkDelayMs: 150 });
    const started = Date.now();

    const result = streamText({ model: openaiModel(), prompt: 'Hi' });
    const iterator = result.textStream[Symbol.asyncIterator]();
    await iterator.next();

    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    await result.consumeStream();
  });

  it('lists models and answers unknown routes with a 404 OpenAI error body', async () => {
    const models = await fetch(`${fake.url}/models`);
    const missing = await fetch(`${fake.url}/embeddings`, { method: 'POST', body: '{}' });

    expect(models.status).toBe(200);
    expect(await models.json()).toMatchObject({ object: 'list', data: expect.arrayContaining([expect.anything()]) });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { type: 'invalid_request_error' } });
  });

  it('uses setDefault when the queue is empty', async () => {
    fake.setDefault({ text: 'default answer' });
    fake.script({ text: 'first' });

    const first = await generateText({ model: openaiModel(), prompt: 'Hi' });
    const second = await generateText({ model: openaiModel(), prompt: 'Hi' });

    expect([first.text, second.text]).toEqual(['first', 'default answer']);
    expect(fake.queued).toBe(0);
  });
});

describe('fake OpenAI: Anthropic Messages', () => {
  it('answers a non-stream request with text and usage', async () => {
    fake.script({ text: 'Bonjour', usage: { prompt_tokens: 9, completion_tokens: 2 } });

    const result = await generateText({ model: anthropicModel(), prompt: 'Hi' });

    expect(result.text).toBe('Bonjour');
    expect(result.usage).toMatchObject({ inputTokens: 9, outputTokens: 2 });
    expect(fake.requests[0]?.path).toBe('/v1/messages');
    expect(fake.requests[0]?.body.model).toBe('claude-haiku-4-5');
    expect(fake.requests[0]?.headers['x-api-key']).toBe('test');
  });

  it('streams text deltas with usage', async () => {
    fake.script({ text: 'Streaming from Claude', usage: { prompt_tokens: 4, completion_tokens: 3 } });

    const result = streamText({ model: anthropicModel(), prompt: 'Hi' });
    const deltas: string[] = [];
    for await (const delta of result.textStream) deltas.push(delta);

    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.join('')).toBe('Streaming from Claude');
    expect(await result.usage).toMatchObject({ inputTokens: 4, outputTokens: 3 });
  });

  it('runs a streamed tool_use round trip', async () => {
    fake.script({ text: 'Let me add.', toolCalls: [{ name: 'add', arguments: { a: 1, b: 2 } }] }, { text: 'Three' });

    const result = streamText({
      model: anthropicModel(),
      prompt: 'What is 1 + 2?',
      tools: { add: addTool },
      stopWhen: stepCountIs(3),
    });
    await result.consumeStream();

    expect(await result.text).toBe('Three');
    const steps = await result.steps;
    expect(steps[0]?.toolCalls[0]).toMatchObject({ toolName: 'add', input: { a: 1, b: 2 } });
    const lastUser = fake.modelRequests[1]?.body.messages?.at(-1) as { content: { type: string }[] } | undefined;
    expect(lastUser?.content[0]).toMatchObject({ type: 'tool_result' });
  });

  it('surfaces an error status with the Anthropic error body', async () => {
    fake.script({ status: 401, error: 'invalid x-api-key' });

    const failure = await generateText({ model: anthropicModel(), prompt: 'Hi', maxRetries: 0 }).catch(
      (error: unknown) => error,
    );

    expect(failure).toMatchObject({ statusCode: 401, message: 'invalid x-api-key' });
  });
});
