/**
 * Embeddings are computed once: every text is keyed by the SHA-256 of its content, looked up in a
 * per-process LRU and then in a persistent source (the search index already holds the vectors of
 * every indexed chunk), and only the misses go to the model, in batches. This is what keeps a
 * re-ingested file or a repeated query from paying for embeddings again (Mastra #11455).
 *
 * With a tracer, every call is an `embeddings {model}` span (GenAI conventions) under the caller's
 * span: `EmbedOptions.traceParent`, else the active context. A call outside any span (ingestion,
 * memory indexing after a run) opens none: it would start a trace of its own per batch, filed under
 * no workspace.
 * @module
 */
import { createHash } from 'node:crypto';
import { context, SpanStatusCode, type Tracer, trace } from '@opentelemetry/api';
import { AGENTOS, GEN_AI } from '../observability/semconv.js';
import { recordFailure } from '../observability/spans.js';
import type { Embedder, EmbedOptions } from './types.js';

/** The cache key of a text: lower-case hex SHA-256 of its UTF-8 bytes. */
export function contentHash(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** A persistent vector source keyed by content hash, for one embedder (e.g. the search index). */
export type EmbeddingLookup = (embedderId: string, hashes: readonly string[]) => Promise<Map<string, Float32Array>>;

/** Options of {@link CachedEmbedder}. */
export interface CachedEmbedderOptions {
  /** Entries kept in memory (default 10 000 ≈ 20 MB at 512 dimensions). */
  maxEntries?: number;
  /** Texts per call to the wrapped embedder (default 64). */
  batchSize?: number;
  /** Consulted for misses of the memory cache before the model is called. */
  lookup?: EmbeddingLookup;
  /** Opens an `embeddings` span per call that has a parent span (`tracing.enabled`). */
  tracer?: Tracer | undefined;
}

/** Counters, for benches and the CLI summary. */
export interface EmbedderStats {
  /** Texts answered from memory or the persistent lookup. */
  hits: number;
  /** Texts the model embedded. */
  computed: number;
}

/** Wraps an embedder with a content-hash cache and batching; same interface, same vectors. */
export class CachedEmbedder implements Embedder {
  readonly id: string;
  readonly stats: EmbedderStats = { hits: 0, computed: 0 };
  private readonly memory = new Map<string, Float32Array>();
  private readonly maxEntries: number;
  private readonly batchSize: number;

  constructor(
    private readonly inner: Embedder,
    private readonly options: CachedEmbedderOptions = {},
  ) {
    this.id = inner.id;
    this.maxEntries = options.maxEntries ?? 10_000;
    this.batchSize = options.batchSize ?? 64;
  }

  async embed(texts: readonly string[], options?: EmbedOptions): Promise<Float32Array[]> {
    const { tracer } = this.options;
    const parent = tracer ? (options?.traceParent ?? context.active()) : undefined;
    if (!tracer || !parent || !trace.getSpan(parent)) return (await this.lookupOrCompute(texts, options)).vectors;
    const colon = this.id.indexOf(':');
    const model = this.id.slice(colon + 1);
    const span = tracer.startSpan(
      `embeddings ${model}`,
      {
        attributes: {
          [GEN_AI.operationName]: 'embeddings',
          [GEN_AI.providerName]: colon > 0 ? this.id.slice(0, colon) : this.id,
          [GEN_AI.requestModel]: model,
          [AGENTOS.embeddingInputs]: texts.length,
        },
      },
      parent,
    );
    let inputTokens: number | undefined;
    const onUsage = (tokens: number) => {
      inputTokens = (inputTokens ?? 0) + tokens;
      options?.onUsage?.(tokens);
    };
    try {
      const { vectors, computed } = await this.lookupOrCompute(texts, { ...options, onUsage });
      span.setAttributes({
        [AGENTOS.embeddingCacheHits]: texts.length - computed,
        ...(vectors[0] ? { [GEN_AI.embeddingDimensions]: vectors[0].length } : {}),
        // Known only when the provider reports usage; cache hits cost none.
        ...(inputTokens !== undefined
          ? { [GEN_AI.inputTokens]: inputTokens }
          : computed === 0
            ? { [GEN_AI.inputTokens]: 0 }
            : {}),
      });
      span.setStatus({ code: SpanStatusCode.OK });
      return vectors;
    } catch (error) {
      recordFailure(span, error);
      throw error;
    } finally {
      span.end();
    }
  }

  /** The cache, then the lookup, then the model; `computed`: the texts the model embedded. */
  private async lookupOrCompute(
    texts: readonly string[],
    options: EmbedOptions | undefined,
  ): Promise<{ vectors: Float32Array[]; computed: number }> {
    const hashes = texts.map(contentHash);
    const found = new Map<string, Float32Array>();
    for (const hash of hashes) {
      const hit = this.memory.get(hash);
      if (hit) {
        // Re-insert: a Map iterates in insertion order, so the oldest key is the least recently used.
        this.memory.delete(hash);
        this.memory.set(hash, hit);
        found.set(hash, hit);
      }
    }
    let missing = [...new Set(hashes.filter((hash) => !found.has(hash)))];
    if (missing.length > 0 && this.options.lookup) {
      const stored = await this.options.lookup(this.id, missing);
      for (const [hash, vector] of stored) {
        found.set(hash, vector);
        this.remember(hash, vector);
      }
      missing = missing.filter((hash) => !found.has(hash));
    }
    if (missing.length > 0) {
      const textOf = new Map(hashes.map((hash, index) => [hash, texts[index] as string]));
      for (let start = 0; start < missing.length; start += this.batchSize) {
        const batch = missing.slice(start, start + this.batchSize);
        const vectors = await this.inner.embed(
          batch.map((hash) => textOf.get(hash) as string),
          options,
        );
        batch.forEach((hash, index) => {
          const vector = vectors[index] as Float32Array;
          found.set(hash, vector);
          this.remember(hash, vector);
        });
        this.stats.computed += batch.length;
      }
    }
    this.stats.hits += texts.length - missing.length;
    return { vectors: hashes.map((hash) => found.get(hash) as Float32Array), computed: missing.length };
  }

  private remember(hash: string, vector: Float32Array): void {
    this.memory.set(hash, vector);
    if (this.memory.size > this.maxEntries) this.memory.delete(this.memory.keys().next().value as string);
  }
}
