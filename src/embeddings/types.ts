/**
 * The embedding seam shared by knowledge and memory: text in, vectors out. Implementations are the
 * offline `local:default` embedder and provider embedders through the AI SDK; {@link CachedEmbedder}
 * adds batching and a content-hash cache on top of any of them.
 * @module
 */
import type { Context } from '@opentelemetry/api';

/** Turns texts into vectors. One instance per embedder id and process. */
export interface Embedder {
  /** `provider:model`, e.g. `local:default` or `openai:text-embedding-3-small`; vectors of two ids never mix. */
  readonly id: string;
  /**
   * One vector per text, in order. Vectors of one embedder all have the same length; they need not be
   * unit length (search uses cosine distance). Rejects on provider failures, never returns a partial list.
   */
  embed(texts: readonly string[], options?: EmbedOptions): Promise<Float32Array[]>;
}

/** Per-call options of {@link Embedder.embed}. */
export interface EmbedOptions {
  abortSignal?: AbortSignal;
  /**
   * The span the call's `embeddings` span belongs under (a `retrieval` span, an agent run's span);
   * else the active context. Untraced without one: see {@link CachedEmbedder}.
   */
  traceParent?: Context | undefined;
  /** Told the input tokens the provider billed, once per model request (providers that report usage). */
  onUsage?: ((inputTokens: number) => void) | undefined;
}
