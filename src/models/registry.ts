/**
 * `provider:model` ids to AI SDK language models. Provider packages are imported on first use, so a
 * server that only runs `local:default` never loads them (cold start, bench/startup).
 * @module
 */
import type { LanguageModelV3, SpeechModelV3, TranscriptionModelV3 } from '@ai-sdk/provider';
import { AgentOsError } from '../errors/index.js';
import { withLeanStreaming } from './chat-completions-stream.js';
import { createHttpFetch, type HttpFetch } from './http-fetch.js';

/** Provider settings from the environment (read by the config room, passed in here). */
export interface ProviderEnv {
  OPENAI_API_KEY?: string | undefined;
  OPENAI_BASE_URL?: string | undefined;
  ANTHROPIC_API_KEY?: string | undefined;
  ANTHROPIC_BASE_URL?: string | undefined;
  OLLAMA_BASE_URL?: string | undefined;
}

/** Options of {@link createModelRegistry}. */
export interface ModelRegistryOptions {
  env: ProviderEnv;
  /** Custom fetch for provider calls (tests, proxies); language models default to `http-fetch.ts`. */
  fetch?: typeof fetch;
}

/** Resolves model ids; instances are cached per id. */
export interface ModelRegistry {
  languageModel(id: string): Promise<LanguageModelV3>;
  /** A speech-to-text model (`openai:whisper-1`), for the voice pipeline; not cached. */
  transcriptionModel(id: string): Promise<TranscriptionModelV3>;
  /** A text-to-speech model (`openai:tts-1`), for the voice pipeline; not cached. */
  speechModel(id: string): Promise<SpeechModelV3>;
}

const DEFAULT_OLLAMA_BASE_URL = 'http://127.0.0.1:11434/v1';

function split(id: string): { provider: string; model: string } {
  const index = id.indexOf(':');
  if (index <= 0) throw new AgentOsError('AOS_MODEL_UNKNOWN', `Model id "${id}" is not provider:model`);
  return { provider: id.slice(0, index), model: id.slice(index + 1) };
}

function requireKey(value: string | undefined, name: string, id: string): string {
  if (value === undefined || value === '') {
    throw new AgentOsError('AOS_MODEL_NOT_CONFIGURED', `Model ${id} needs ${name}; set it in the environment`);
  }
  return value;
}

/** Creates the registry. */
export function createModelRegistry(options: ModelRegistryOptions): ModelRegistry {
  const { env } = options;
  const cache = new Map<string, Promise<LanguageModelV3>>();
  const fetchOption = options.fetch ? { fetch: options.fetch } : {};
  // Model calls are the hot path of every run: node:http instead of the global fetch (see http-fetch.ts).
  // Made on the first remote model, so a server on `local:default` alone never builds its agents.
  let modelFetch: HttpFetch | undefined;
  const modelFetchOption = () => {
    if (options.fetch) return { fetch: options.fetch };
    modelFetch ??= createHttpFetch();
    return { fetch: modelFetch };
  };

  /** An OpenAI provider (honouring OPENAI_BASE_URL) for model `id`. */
  async function openAiProvider(id: string, fetchOpt: { fetch?: typeof fetch }) {
    const { createOpenAI } = await import('@ai-sdk/openai');
    return createOpenAI({
      apiKey: requireKey(env.OPENAI_API_KEY, 'OPENAI_API_KEY', id),
      ...(env.OPENAI_BASE_URL ? { baseURL: env.OPENAI_BASE_URL } : {}),
      ...fetchOpt,
    });
  }

  async function build(id: string): Promise<LanguageModelV3> {
    const { provider, model } = split(id);
    switch (provider) {
      case 'local': {
        const { createLocalLanguageModel } = await import('./local/index.js');
        return createLocalLanguageModel();
      }
      case 'openai': {
        // The Chat Completions API, which every OpenAI-compatible server (vLLM, LM Studio…) speaks.
        // Streamed answers skip the provider's web-stream pipeline (chat-completions-stream.ts), unless
        // a caller-supplied fetch must see every request.
        const chat = (await openAiProvider(id, modelFetchOption())).chat(model);
        return modelFetch ? withLeanStreaming(chat, modelFetch) : chat;
      }
      case 'anthropic': {
        const { createAnthropic } = await import('@ai-sdk/anthropic');
        return createAnthropic({
          apiKey: requireKey(env.ANTHROPIC_API_KEY, 'ANTHROPIC_API_KEY', id),
          ...(env.ANTHROPIC_BASE_URL ? { baseURL: env.ANTHROPIC_BASE_URL } : {}),
          ...modelFetchOption(),
        })(model);
      }
      case 'ollama': {
        const { createOpenAICompatible } = await import('@ai-sdk/openai-compatible');
        return createOpenAICompatible({
          name: 'ollama',
          baseURL: env.OLLAMA_BASE_URL || DEFAULT_OLLAMA_BASE_URL,
          includeUsage: true,
          ...modelFetchOption(),
        })(model);
      }
      default:
        throw new AgentOsError('AOS_MODEL_UNKNOWN', `Unknown model provider "${provider}" in ${id}`);
    }
  }

  /** OpenAI's audio models (honouring OPENAI_BASE_URL); no other provider has them through the AI SDK here. */
  async function openAiAudio(id: string) {
    const { provider, model } = split(id);
    if (provider !== 'openai') {
      throw new AgentOsError('AOS_MODEL_UNKNOWN', `No speech models for provider "${provider}" (${id})`);
    }
    return { openai: await openAiProvider(id, fetchOption), model };
  }

  return {
    async transcriptionModel(id) {
      const { openai, model } = await openAiAudio(id);
      return openai.transcription(model);
    },
    async speechModel(id) {
      const { openai, model } = await openAiAudio(id);
      return openai.speech(model);
    },
    languageModel(id) {
      let model = cache.get(id);
      if (!model) {
        model = build(id);
        // A failed build (missing key) is not cached, so fixing the environment and retrying works.
        model.catch(() => cache.delete(id));
        cache.set(id, model);
      }
      return model;
    },
  };
}
