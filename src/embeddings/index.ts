/**
 * Embeddings for knowledge and memory. Start from {@link createEmbedderRegistry}; every embedder it
 * returns caches by content hash and batches.
 * @example
 * const embedder = createEmbedderRegistry({ env: {} }).get('local:default');
 * const [vector] = await embedder.embed(['How do I reset my password?']);
 * @module
 */
export {
  CachedEmbedder,
  type CachedEmbedderOptions,
  contentHash,
  type EmbedderStats,
  type EmbeddingLookup,
} from './cached-embedder.js';
export { createLocalEmbedder, LOCAL_EMBEDDER_ID } from './local-embedder.js';
export { createProviderEmbedder, type ProviderEmbedderOptions } from './provider-embedder.js';
export { createEmbedderRegistry, type EmbedderRegistry, type EmbedderRegistryOptions } from './registry.js';
export type { Embedder, EmbedOptions } from './types.js';
