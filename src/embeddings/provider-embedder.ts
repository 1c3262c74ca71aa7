/**
 * Provider embedders through the AI SDK's `embedMany`: `openai:<model>` (honours `OPENAI_BASE_URL`,
 * so any OpenAI-compatible server works) and `ollama:<model>`. Anthropic has no embedding models
 * (the config schema refuses it).
 * @module
 */
import type { EmbeddingModelV3 } from '@ai-sdk/provider';
import { AgentOsError } from '../errors/index.js';
import type { ProviderEnv } from '../models/registry.js';
import type { Embedder } from './types.js';

/** Options of {@link createProviderEmbedder}. */
export interface ProviderEmbedderOptions {
  env: ProviderEnv;
  /** Custom fetch for provider calls (tests, proxies). */
  fetch?: typeof fetch;
}

const DEFAULT_OLLAMA_BASE_URL = 'http://127.0.0.1:11434/v1';

async function embeddingModel(id: string, options: ProviderEmbedderOptions): Promise<EmbeddingModelV3> {
  const colon = id.indexOf(':');
  const provider = id.slice(0, colon);
  const model = id.slice(colon + 1);
  const fetchOption = options.fetch ? { fetch: options.fetch } : {};
  if (provider === 'openai') {
    const key = options.env.OPENAI_API_KEY;
    if (!key)
      throw new AgentOsError(
        'AOS_MODEL_NOT_CONFIGURED',
        `Embedder ${id} needs OPENAI_API_KEY; set it in the environment`,
      );
    const { createOpenAI } = await import('@ai-sdk/openai');
    return createOpenAI({
      apiKey: key,
      ...(options.env.OPENAI_BASE_URL ? { baseURL: options.env.OPENAI_BASE_URL } : {}),
      ...fetchOption,
    }).embedding(model);
  }
  if (provider === 'ollama') {
    const { createOpenAICompatible } = await import('@ai-sdk/openai-compatible');
    return createOpenAICompatible({
      name: 'ollama',
      baseURL: options.env.OLLAMA_BASE_URL || DEFAULT_OLLAMA_BASE_URL,
      ...fetchOption,
    }).embeddingModel(model);
  }
  throw new AgentOsError('AOS_MODEL_UNKNOWN', `No embedding models for provider "${provider}" (${id})`);
}

/** Creates a provider embedder; the provider package loads on the first `embed`. */
export function createProviderEmbedder(id: string, options: ProviderEmbedderOptions): Embedder {
  let model: Promise<EmbeddingModelV3> | undefined;
  return {
    id,
    async embed(texts, callOptions) {
      if (texts.length === 0) return [];
      const { embedMany } = await import('ai');
      model ??= embeddingModel(id, options).catch((error: unknown) => {
        model = undefined;
        throw error;
      });
      const resolved = await model;
      try {
        const result = await embedMany({
          model: resolved,
          values: [...texts],
          maxParallelCalls: 2,
          ...(callOptions?.abortSignal ? { abortSignal: callOptions.abortSignal } : {}),
        });
        if (result.usage.tokens > 0) callOptions?.onUsage?.(result.usage.tokens);
        return result.embeddings.map((vector) => Float32Array.from(vector));
      } catch (error) {
        if (error instanceof AgentOsError) throw error;
        throw new AgentOsError('AOS_MODEL_PROVIDER_ERROR', `Embedder ${id} failed: ${(error as Error).message}`, {
          cause: error,
        });
      }
    },
  };
}
