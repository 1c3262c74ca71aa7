/**
 * The hybrid search index: chunks of text with optional vectors, searched by keyword (FTS5 BM25 /
 * Postgres full text), by vector (sqlite-vec cosine KNN / pgvector) or both merged by reciprocal rank
 * fusion. Knowledge bases use it; so can any room that needs "find the relevant snippets".
 * @module
 */

/** How a search ranks: by embedding similarity, by keywords, or both fused. */
export type SearchMode = 'vector' | 'keyword' | 'hybrid';

/** Which ranking found a hit: `hybrid` = both lists had it. */
export type MatchType = 'vector' | 'keyword' | 'hybrid';

/** One chunk to index. */
export interface IndexDocument {
  /** Who may find it, e.g. `knowledge\u0000<workspace>\u0000<kb>`; searches name exactly one scope. */
  scope: string;
  /** What it belongs to (a content id); {@link SearchIndex.deleteSource} removes all chunks of one. */
  sourceId: string;
  chunkIndex: number;
  content: string;
  metadata?: Record<string, unknown>;
  /** SHA-256 of `content` (`embeddings/contentHash`), the embedding cache key. */
  contentHash: string;
  /** The chunk's vector and the embedder that made it; absent = keyword search only. */
  embedding?: { embedder: string; vector: Float32Array } | undefined;
}

/** One search. */
export interface SearchQuery {
  scope: string;
  /** The query text; the keyword side ORs its words. */
  text: string;
  mode: SearchMode;
  /** The query's vector, from the embedder that indexed the scope; without it every mode is keyword-only. */
  embedding?: { embedder: string; vector: Float32Array } | undefined;
  limit: number;
  /** Equality on metadata keys; all must match. */
  filters?: Record<string, string | number | boolean> | undefined;
}

/** One result. */
export interface SearchHit {
  id: number;
  sourceId: string;
  chunkIndex: number;
  content: string;
  metadata: Record<string, unknown>;
  /**
   * Higher is better. `vector`: cosine similarity (1 − distance); `keyword`: −BM25 (SQLite) or ts_rank
   * (Postgres); `hybrid`: the RRF sum Σ 1/(60 + rank).
   */
  score: number;
  matchType: MatchType;
}

/** What a scope holds. */
export interface ScopeStats {
  chunks: number;
  sources: number;
}

/**
 * The index. Writes are atomic per call: a failed `add` indexes nothing of its batch, and `deleteSource`
 * removes a source's chunks from the keyword and the vector side in one transaction.
 */
export interface SearchIndex {
  /** True when vectors are searched (sqlite-vec loaded, or pgvector); else vector and hybrid fall back to keyword. */
  readonly vectorSearch: boolean;
  /** Indexes the documents in one transaction; returns their ids in order. */
  add(documents: readonly IndexDocument[]): Promise<number[]>;
  /** Deletes every chunk of a source in a scope; returns how many. */
  deleteSource(scope: string, sourceId: string): Promise<number>;
  /**
   * Replaces the metadata of every chunk of a source in a scope, in one transaction (all chunks or none),
   * with `metadataOf(chunkIndex)`; returns how many chunks it restamped. Content and vectors stay as they are.
   */
  updateSourceMetadata(
    scope: string,
    sourceId: string,
    metadataOf: (chunkIndex: number) => Record<string, unknown>,
  ): Promise<number>;
  /** Deletes every chunk of a scope; returns how many. */
  deleteScope(scope: string): Promise<number>;
  search(query: SearchQuery): Promise<SearchHit[]>;
  /** Stored vectors of `embedder` by content hash (the persistent embedding cache). */
  findEmbeddings(embedder: string, hashes: readonly string[]): Promise<Map<string, Float32Array>>;
  stats(scope: string): Promise<ScopeStats>;
  /** Tests only: deletes every chunk and vector table. */
  dangerouslyClearAll(): Promise<void>;
}
