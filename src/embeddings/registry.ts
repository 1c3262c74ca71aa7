/**
 * Embedder ids to cached embedders, one per id and process (the local model is heavy, and the cache
 * is only useful when shared).
 * @module
 */
import type { Tracer } from '@opentelemetry/api';
import { AgentOsError } from '../errors/index.js';
import type { ProviderEnv } from '../models/registry.js';
import { CachedEmbedder, type EmbeddingLookup } from './cached-embedder.js';
import { createLocalEmbedder, LOCAL_EMBEDDER_ID } from './local-embedder.js';
import { createProviderEmbedder } from './provider-embedder.js';
import type { Embedder } from './types.js';

/** Options of {@link createEmbedderRegistry}. */
export interface EmbedderRegistryOptions {
  env: ProviderEnv;
  fetch?: typeof fetch;
  /** Persistent vectors by content hash (the search index), consulted before the model. */
  lookup?: EmbeddingLookup;
  /** Traces embedder calls made under a span (`embeddings {model}`); see {@link CachedEmbedder}. */
  tracer?: Tracer | undefined;
  /** Replaces how an id becomes an embedder (tests, benches); the registry still caches and batches. */
  create?: (id: string) => Embedder;
}

/** Resolves embedder ids such as `local:default` or `openai:text-embedding-3-small`. */
export interface EmbedderRegistry {
  /** The cached embedder of `id`; throws `AOS_MODEL_UNKNOWN` for providers without embeddings. */
  get(id: string): CachedEmbedder;
}

/**
 * Creates the registry.
 * @example createEmbedderRegistry({ env: process.env }).get('local:default').embed(['hello'])
 */
export function createEmbedderRegistry(options: EmbedderRegistryOptions): EmbedderRegistry {
  const embedders = new Map<string, CachedEmbedder>();
  const create =
    options.create ??
    ((id: string): Embedder => {
      if (id === LOCAL_EMBEDDER_ID) return createLocalEmbedder();
      const provider = id.slice(0, Math.max(0, id.indexOf(':')));
      if (provider === 'openai' || provider === 'ollama') {
        return createProviderEmbedder(id, { env: options.env, ...(options.fetch ? { fetch: options.fetch } : {}) });
      }
      throw new AgentOsError('AOS_MODEL_UNKNOWN', `"${id}" is not an embedder (use local:default, openai: or ollama:)`);
    });
  return {
    get(id) {
      let embedder = embedders.get(id);
      if (!embedder) {
        embedder = new CachedEmbedder(create(id), { lookup: options.lookup, tracer: options.tracer });
        embedders.set(id, embedder);
      }
      return embedder;
    },
  };
}
