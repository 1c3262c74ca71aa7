import { existsSync } from 'node:fs';
import { generateText, streamText } from 'ai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeOpenAI, startFakeOpenAI } from '../../test/fake-openai.js';
import { AgentOsError } from '../errors/index.js';
import { createModelRegistry, type ProviderEnv } from './registry.js';

// Another module writes the built-in local model; its test here runs once that file exists.
const hasLocalModel = existsSync(new URL('./local/index.ts', import.meta.url));

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

function fullEnv(): ProviderEnv {
  return {
    OPENAI_BASE_URL: fake.url,
    OPENAI_API_KEY: 'test',
    // @ai-sdk/anthropic appends `/messages` to its base URL, whose default is https://api.anthropic.com/v1.
    ANTHROPIC_BASE_URL: fake.url,
    ANTHROPIC_API_KEY: 'test-anthropic',
    OLLAMA_BASE_URL: fake.url,
  };
}

describe('createModelRegistry', () => {
  it('sends openai:<model> to the Chat Completions endpoint of OPENAI_BASE_URL', async () => {
    const registry = createModelRegistry({ env: fullEnv() });
    fake.script({ text: 'from openai' });

    const model = await registry.languageModel('openai:gpt-4o-mini');
    const result = await generateText({ model, prompt: 'Hi' });

    expect(result.text).toBe('from openai');
    expect(model.modelId).toBe('gpt-4o-mini');
    const request = fake.requests[0];
    expect(request?.path).toBe('/v1/chat/completions');
    expect(request?.body.model).toBe('gpt-4o-mini');
    expect(request?.headers.authorization).toBe('Bearer test');
  });

  it('streams openai:<model> with usage', async () => {
    const registry = createModelRegistry({ env: fullEnv() });
    fake.script({ text: 'streamed reply here', usage: { prompt_tokens: 5, completion_tokens: 3 } });

    const result = streamText({ model: await registry.languageModel('openai:gpt-4o-mini'), prompt: 'Hi' });
    const deltas: string[] = [];
    for await (const delta of result.textStream) deltas.push(delta);

    expect(deltas.join('')).toBe('streamed reply here');
    expect(await result.usage).toMatchObject({ inputTokens: 5, outputTokens: 3 });
  });

  it('streams openai:<model> answers through chat-completions-stream.ts, unless a fetch of the caller is given', async () => {
    const lean = await createModelRegistry({ env: fullEnv() }).languageModel('openai:gpt-4o-mini');
    const plain = await createModelRegistry({ env: fullEnv(), fetch }).languageModel('openai:gpt-4o-mini');
    // The lean model answers doStream itself and inherits the rest from the provider's model.
    expect(Object.hasOwn(lean, 'doStream')).toBe(true);
    expect(Object.getPrototypeOf(lean)).toHaveProperty('modelId', 'gpt-4o-mini');
    expect(Object.hasOwn(plain, 'doStream')).toBe(false);
  });

  it('sends ollama:<model> to the Chat Completions endpoint of OLLAMA_BASE_URL, with no key', async () => {
    const registry = createModelRegistry({ env: { OLLAMA_BASE_URL: fake.url } });
    fake.script({ text: 'from ollama', usage: { prompt_tokens: 2, completion_tokens: 2 } });

    const result = streamText({ model: await registry.languageModel('ollama:llama3'), prompt: 'Hi' });
    await result.consumeStream();

    expect(await result.text).toBe('from ollama');
    expect(await result.usage).toMatchObject({ inputTokens: 2, outputTokens: 2 });
    const request = fake.requests[0];
    expect(request?.path).toBe('/v1/chat/completions');
    expect(request?.body.model).toBe('llama3');
    expect(request?.body.stream_options).toEqual({ include_usage: true });
    expect(request?.headers.authorization).toBeUndefined();
  });

  it('defaults ollama to http://127.0.0.1:11434/v1 and calls through the fetch option', async () => {
    const urls: string[] = [];
    const redirect: typeof fetch = (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      urls.push(url);
      return fetch(url.replace('http://127.0.0.1:11434/v1', fake.url), init);
    };
    const registry = createModelRegistry({ env: {}, fetch: redirect });

    const result = await generateText({ model: await registry.languageModel('ollama:llama3'), prompt: 'ping' });

    expect(urls).toEqual(['http://127.0.0.1:11434/v1/chat/completions']);
    expect(result.text).toBe('Echo: ping');
  });

  it('sends anthropic:<model> to the Messages endpoint of ANTHROPIC_BASE_URL', async () => {
    const registry = createModelRegistry({ env: fullEnv() });
    fake.script({ text: 'from anthropic' });

    const result = await generateText({
      model: await registry.languageModel('anthropic:claude-haiku-4-5'),
      prompt: 'Hi',
    });

    expect(result.text).toBe('from anthropic');
    const request = fake.requests[0];
    expect(request?.path).toBe('/v1/messages');
    expect(request?.body.model).toBe('claude-haiku-4-5');
    expect(request?.headers['x-api-key']).toBe('test-anthropic');
  });

  it('rejects openai:<model> without OPENAI_API_KEY with AOS_MODEL_NOT_CONFIGURED', async () => {
    const registry = createModelRegistry({ env: { OPENAI_BASE_URL: fake.url } });

    const failure = registry.languageModel('openai:gpt-4o-mini');

    await expect(failure).rejects.toBeInstanceOf(AgentOsError);
    await expect(failure).rejects.toMatchObject({ code: 'AOS_MODEL_NOT_CONFIGURED' });
    expect(fake.requests).toHaveLength(0);
  });

  it('rejects anthropic:<model> without ANTHROPIC_API_KEY with AOS_MODEL_NOT_CONFIGURED', async () => {
    const registry = createModelRegistry({ env: { ANTHROPIC_BASE_URL: fake.url, ANTHROPIC_API_KEY: '' } });

    await expect(registry.languageModel('anthropic:claude-haiku-4-5')).rejects.toMatchObject({
      code: 'AOS_MODEL_NOT_CONFIGURED',
    });
  });

  it('does not cache a failed build, so a fixed environment works on retry', async () => {
    const env: ProviderEnv = { OPENAI_BASE_URL: fake.url };
    const registry = createModelRegistry({ env });
    await expect(registry.languageModel('openai:gpt-4o-mini')).rejects.toMatchObject({
      code: 'AOS_MODEL_NOT_CONFIGURED',
    });

    env.OPENAI_API_KEY = 'test';
    const model = await registry.languageModel('openai:gpt-4o-mini');

    expect(model.modelId).toBe('gpt-4o-mini');
  });

  it('rejects an unknown provider with AOS_MODEL_UNKNOWN', async () => {
    const registry = createModelRegistry({ env: fullEnv() });

    const failure = registry.languageModel('mystery:model');

    await expect(failure).rejects.toBeInstanceOf(AgentOsError);
    await expect(failure).rejects.toMatchObject({ code: 'AOS_MODEL_UNKNOWN' });
  });

  it('rejects an id without a provider prefix with AOS_MODEL_UNKNOWN', async () => {
    const registry = createModelRegistry({ env: fullEnv() });

    await expect(registry.languageModel('gpt-4o-mini')).rejects.toMatchObject({ code: 'AOS_MODEL_UNKNOWN' });
    await expect(registry.languageModel(':gpt-4o-mini')).rejects.toMatchObject({ code: 'AOS_MODEL_UNKNOWN' });
  });

  it('returns the cached instance for the same id', async () => {
    const registry = createModelRegistry({ env: fullEnv() });

    const first = await registry.languageModel('openai:gpt-4o-mini');
    const second = await registry.languageModel('openai:gpt-4o-mini');
    const other = await registry.languageModel('openai:gpt-4o');

    expect(second).toBe(first);
    expect(other).not.toBe(first);
  });

  it.skipIf(!hasLocalModel)('resolves local:default to the built-in local model', async () => {
    const registry = createModelRegistry({ env: {} });

    const model = await registry.languageModel('local:default');

    expect(model.provider).toBe('local');
    expect(await registry.languageModel('local:default')).toBe(model);
  });
});
