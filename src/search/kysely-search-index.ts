/**
 * The {@link SearchIndex} over the store's database, written once for both dialects:
 *
 * - SQLite: FTS5 BM25 (`search_fts`, kept in step with `search_docs` by triggers) and sqlite-vec `vec0`
 *   KNN, one table per dimension, partitioned by scope and embedder so a KNN only scans what it may return.
 *   Vectors whose size is a multiple of 8 are indexed binary-quantized (`search_vbit_<n>`, 1 bit per dimension,
 *   hamming distance: a 32× smaller scan, ~14× faster than the float table at 100k vectors), and the KNN's
 *   oversampled candidates are re-ranked by exact cosine over the float vectors kept in `search_docs`. Other sizes use a float table (`search_vec_<n>`, cosine).
 *   only scans the vectors it may return.
 * - Postgres: full-text search on a generated `tsvector` (`to_tsquery`, `ts_rank`), and pgvector HNSW
 *   (cosine) when the extension is enabled (`./pgvector.ts`). Without it `vectorSearch` is false, vector
 *   and hybrid queries answer from the keyword side, and services logs a warning at start-up.
 * @module
 */
import { type Kysely, sql } from 'kysely';
import type { StoreCapabilities } from '../store/types.js';
import { PgvectorSide } from './pgvector.js';
import { type Ranked, reciprocalRankFusion } from './rrf.js';
import type { IndexDocument, ScopeStats, SearchHit, SearchIndex, SearchQuery } from './types.js';

interface SearchDocsTable {
  id: number;
  scope: string;
  source_id: string;
  chunk_index: number;
  content: string;
  metadata: string;
  content_hash: string;
  embedder: string | null;
  dims: number | null;
  embedding: Uint8Array | null;
  created_at: number;
}

interface SearchTables {
  search_docs: SearchDocsTable;
}

/** Rows per multi-row insert: 10 columns each stays far below SQLite's and Postgres' parameter limits. */
const INSERT_BATCH = 500;
/** Ids per `in (…)` list. */
const ID_BATCH = 500;
/** Candidates each side contributes before fusion or filtering; more helps RRF, costs a little time. */
const MIN_CANDIDATES = 30;
const MAX_CANDIDATES = 1000;
/** At most this many query words reach the keyword side. */
const MAX_QUERY_TERMS = 32;

/** Bytes of a float32 vector, as sqlite-vec and the blob column take them. */
export function vectorToBytes(vector: Float32Array): Buffer {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
}

/** The float32 vector stored in a blob. */
export function bytesToVector(bytes: Uint8Array): Float32Array {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new Float32Array(copy.buffer);
}

/** The words of a query, lower-case letters and digits only, so no FTS or tsquery syntax gets through. */
export function queryTerms(text: string): string[] {
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  return [...new Set(words)].slice(0, MAX_QUERY_TERMS);
}

/** A term in at least this share of all chunks (and at least `COMMON_TERM_MIN` of them) is too common to rank by. */
const COMMON_TERM_SHARE = 0.02;
const COMMON_TERM_MIN = 500;
/**
 * Coarse candidates per wanted result that the binary KNN hands to the exact re-rank. Kept small: sqlite-vec's
 * KNN cost grows steeply with `k` (at 100k vectors, k = 240 took ~5× as long as k = 30).
 */
const RERANK_FACTOR = 2;
/** sqlite-vec's largest `k`. */
const MAX_KNN = 4096;

// Binary quantization packs 8 dimensions per byte.
function isBinary(dims: number): boolean {
  return dims % 8 === 0;
}

function vecTableName(dims: number): string {
  return isBinary(dims) ? `search_vbit_${Math.trunc(dims)}` : `search_vec_${Math.trunc(dims)}`;
}

/** Cosine similarity of two vectors of one length. */
export function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let index = 0; index < a.length; index += 1) {
    const x = a[index] as number;
    const y = b[index] as number;
    dot += x * y;
    normA += x * x;
    normB += y * y;
  }
  return normA === 0 || normB === 0 ? 0 : dot / Math.sqrt(normA * normB);
}

function partitionOf(scope: string, embedder: string): string {
  return `${scope}\u0001${embedder}`;
}

function matchesFilters(metadata: Record<string, unknown>, filters: SearchQuery['filters']): boolean {
  if (!filters) return true;
  return Object.entries(filters).every(([key, value]) => {
    const actual = metadata[key];
    return actual === value || (actual !== undefined && actual !== null && String(actual) === String(value));
  });
}

function decodeMetadata(value: unknown): Record<string, unknown> {
  if (value !== null && typeof value === 'object') return value as Record<string, unknown>;
  try {
    const parsed = JSON.parse(String(value ?? '{}')) as unknown;
    return parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let start = 0; start < items.length; start += size) out.push(items.slice(start, start + size));
  return out;
}

/** The Kysely implementation; the store builds one per database. */
export class KyselySearchIndex implements SearchIndex {
  private readonly db: Kysely<SearchTables>;
  private readonly dialect: 'sqlite' | 'postgres';
  private readonly vecTables = new Set<number>();
  private readonly pgvector = new PgvectorSide();

  constructor(
    db: Kysely<unknown>,
    private readonly now: () => number,
    private readonly capabilities: StoreCapabilities,
  ) {
    this.db = db as unknown as Kysely<SearchTables>;
    this.dialect = capabilities.dialect;
  }

  get vectorSearch(): boolean {
    return this.capabilities.vectorSearch;
  }

  async add(documents: readonly IndexDocument[]): Promise<number[]> {
    if (documents.length === 0) return [];
    const at = this.now();
    try {
      return await this.insert(documents, at);
    } catch (error) {
      // A vector table created inside the failed transaction was rolled back with it.
      this.vecTables.clear();
      this.pgvector.reset();
      throw error;
    }
  }

  private insert(documents: readonly IndexDocument[], at: number): Promise<number[]> {
    return this.db.transaction().execute(async (trx) => {
      const ids: number[] = [];
      for (const batch of chunks(documents, INSERT_BATCH)) {
        const rows = await trx
          .insertInto('search_docs')
          .values(
            batch.map((document) => ({
              scope: document.scope,
              source_id: document.sourceId,
              chunk_index: document.chunkIndex,
              content: document.content,
              metadata: JSON.stringify(document.metadata ?? {}),
              content_hash: document.contentHash,
              embedder: document.embedding?.embedder ?? null,
              dims: document.embedding ? document.embedding.vector.length : null,
              embedding: document.embedding ? vectorToBytes(document.embedding.vector) : null,
              created_at: at,
            })) as never,
          )
          .returning('id')
          .execute();
        ids.push(...rows.map((row) => Number(row.id)));
      }
      if (this.vectorSearch && this.dialect === 'postgres') {
        await this.insertPgvectors(trx, documents, ids);
      } else if (this.vectorSearch) {
        const byDims = new Map<number, { id: number; partition: string; bytes: Buffer }[]>();
        documents.forEach((document, index) => {
          if (!document.embedding) return;
          const dims = document.embedding.vector.length;
          const list = byDims.get(dims) ?? [];
          list.push({
            id: ids[index] as number,
            partition: partitionOf(document.scope, document.embedding.embedder),
            bytes: vectorToBytes(document.embedding.vector),
          });
          byDims.set(dims, list);
        });
        for (const [dims, entries] of byDims) {
          const table = await this.ensureVecTable(trx, dims);
          for (const batch of chunks(entries, INSERT_BATCH)) {
            const values = sql.join(
              // vec0 takes only INTEGER rowids; better-sqlite3 binds a JS number as REAL, a bigint as INTEGER.
              batch.map(
                (entry) =>
                  sql`(${BigInt(entry.id)}, ${entry.partition}, ${isBinary(dims) ? sql`vec_quantize_binary(${entry.bytes})` : entry.bytes})`,
              ),
            );
            await sql`insert into ${sql.table(table)} (rowid, part, embedding) values ${values}`.execute(trx);
          }
        }
      }
      return ids;
    });
  }

  private async insertPgvectors(
    trx: Kysely<SearchTables>,
    documents: readonly IndexDocument[],
    ids: readonly number[],
  ): Promise<void> {
    const byDims = new Map<number, { id: number; partition: string; vector: Float32Array }[]>();
    documents.forEach((document, index) => {
      if (!document.embedding) return;
      const list = byDims.get(document.embedding.vector.length) ?? [];
      list.push({
        id: ids[index] as number,
        partition: partitionOf(document.scope, document.embedding.embedder),
        vector: document.embedding.vector,
      });
      byDims.set(document.embedding.vector.length, list);
    });
    for (const [dims, entries] of byDims) {
      for (const batch of chunks(entries, INSERT_BATCH))
        await this.pgvector.insert(trx as Kysely<unknown>, dims, batch);
    }
  }

  async deleteSource(scope: string, sourceId: string): Promise<number> {
    return this.deleteWhere(scope, sourceId);
  }

  async updateSourceMetadata(
    scope: string,
    sourceId: string,
    metadataOf: (chunkIndex: number) => Record<string, unknown>,
  ): Promise<number> {
    return this.db.transaction().execute(async (trx) => {
      const rows = await trx
        .selectFrom('search_docs')
        .select(['id', 'chunk_index'])
        .where('scope', '=', scope)
        .where('source_id', '=', sourceId)
        .execute();
      // One statement per chunk: each chunk's metadata names its own index. Filters read this column only,
      // so neither the FTS side nor the vector side needs touching.
      for (const row of rows) {
        await trx
          .updateTable('search_docs')
          .set({ metadata: JSON.stringify(metadataOf(Number(row.chunk_index))) })
          .where('id', '=', row.id)
          .execute();
      }
      return rows.length;
    });
  }

  async deleteScope(scope: string): Promise<number> {
    return this.deleteWhere(scope, undefined);
  }

  private async deleteWhere(scope: string, sourceId: string | undefined): Promise<number> {
    return this.db.transaction().execute(async (trx) => {
      let query = trx.selectFrom('search_docs').select(['id', 'dims']).where('scope', '=', scope);
      if (sourceId !== undefined) query = query.where('source_id', '=', sourceId);
      const rows = await query.execute();
      if (rows.length === 0) return 0;
      // pgvector rows go with their search_docs row (foreign key, cascade); vec0 tables need a delete.
      if (this.vectorSearch && this.dialect === 'sqlite') {
        const byDims = new Map<number, number[]>();
        for (const row of rows) {
          if (row.dims === null) continue;
          const dims = Number(row.dims);
          byDims.set(dims, [...(byDims.get(dims) ?? []), Number(row.id)]);
        }
        for (const [dims, ids] of byDims) {
          const table = await this.ensureVecTable(trx, dims);
          for (const batch of chunks(ids, ID_BATCH)) {
            await sql`delete from ${sql.table(table)} where rowid in (${sql.join(batch)})`.execute(trx);
          }
        }
      }
      // The FTS5 triggers (SQLite) and the generated tsvector (Postgres) go with the rows.
      for (const batch of chunks(
        rows.map((row) => Number(row.id)),
        ID_BATCH,
      )) {
        await trx.deleteFrom('search_docs').where('id', 'in', batch).execute();
      }
      return rows.length;
    });
  }

  async search(query: SearchQuery): Promise<SearchHit[]> {
    const limit = Math.max(1, Math.min(Math.trunc(query.limit), MAX_CANDIDATES));
    const canVector = this.vectorSearch && query.embedding !== undefined;
    const mode = canVector ? query.mode : 'keyword';
    const filtered = query.filters !== undefined && Object.keys(query.filters).length > 0;
    // Filters apply after ranking, so each side over-fetches to still fill the page.
    const candidates = Math.min(
      MAX_CANDIDATES,
      Math.max(MIN_CANDIDATES, limit * (mode === 'hybrid' ? 3 : 1) * (filtered ? 5 : 1)),
    );
    const [vector, keyword] = await Promise.all([
      mode === 'keyword' ? Promise.resolve([]) : this.vectorCandidates(query, candidates),
      mode === 'vector' ? Promise.resolve([]) : this.keywordCandidates(query, candidates),
    ]);
    let ranked: { id: number; score: number; matchType: SearchHit['matchType'] }[];
    if (mode === 'hybrid') {
      const toRanked = (list: { id: number }[]): Ranked<number>[] =>
        list.map((entry) => ({ key: entry.id, item: entry.id }));
      ranked = reciprocalRankFusion(toRanked(vector), toRanked(keyword)).map((entry) => ({
        id: entry.item,
        score: entry.score,
        matchType: entry.matchType,
      }));
    } else {
      const list = mode === 'vector' ? vector : keyword;
      ranked = list.map((entry) => ({ id: entry.id, score: entry.score, matchType: mode }));
    }
    if (ranked.length === 0) return [];
    // Without filters nothing past the page can be needed: only the page's chunks are read.
    if (!filtered) ranked = ranked.slice(0, limit);
    const docs = await this.loadDocs(ranked.map((entry) => entry.id));
    const hits: SearchHit[] = [];
    for (const entry of ranked) {
      const doc = docs.get(entry.id);
      if (!doc || !matchesFilters(doc.metadata, query.filters)) continue;
      hits.push({ ...doc, score: entry.score, matchType: entry.matchType });
      if (hits.length >= limit) break;
    }
    return hits;
  }

  private async loadDocs(ids: number[]): Promise<Map<number, Omit<SearchHit, 'score' | 'matchType'>>> {
    const docs = new Map<number, Omit<SearchHit, 'score' | 'matchType'>>();
    for (const batch of chunks(ids, ID_BATCH)) {
      const rows = await this.db
        .selectFrom('search_docs')
        .select(['id', 'source_id', 'chunk_index', 'content', 'metadata'])
        .where('id', 'in', batch)
        .execute();
      for (const row of rows) {
        docs.set(Number(row.id), {
          id: Number(row.id),
          sourceId: row.source_id,
          chunkIndex: Number(row.chunk_index),
          content: row.content,
          metadata: decodeMetadata(row.metadata),
        });
      }
    }
    return docs;
  }

  private async vectorCandidates(query: SearchQuery, k: number): Promise<{ id: number; score: number }[]> {
    const embedding = query.embedding;
    if (!embedding) return [];
    if (this.dialect === 'postgres') {
      return this.pgvector.nearest(
        this.db as Kysely<unknown>,
        partitionOf(query.scope, embedding.embedder),
        embedding.vector,
        k,
      );
    }
    const dims = embedding.vector.length;
    if (!(await this.hasVecTable(dims))) return [];
    const table = vecTableName(dims);
    const bytes = vectorToBytes(embedding.vector);
    const partition = partitionOf(query.scope, embedding.embedder);
    if (!isBinary(dims)) {
      const result = await sql<{ id: number; distance: number }>`
        select rowid as id, distance from ${sql.table(table)}
        where embedding match ${bytes} and k = ${k} and part = ${partition}
        order by distance`.execute(this.db);
      return result.rows.map((row) => ({ id: Number(row.id), score: 1 - Number(row.distance) }));
    }
    const coarse = await sql<{ id: number }>`
      select rowid as id from ${sql.table(table)}
      where embedding match vec_quantize_binary(${bytes}) and k = ${Math.min(k * RERANK_FACTOR, MAX_KNN)}
        and part = ${partition}`.execute(this.db);
    const ids = coarse.rows.map((row) => Number(row.id));
    const scored: { id: number; score: number }[] = [];
    for (const batch of chunks(ids, ID_BATCH)) {
      const rows = await this.db
        .selectFrom('search_docs')
        .select(['id', 'embedding'])
        .where('id', 'in', batch)
        .execute();
      for (const row of rows) {
        if (row.embedding)
          scored.push({ id: Number(row.id), score: cosine(embedding.vector, bytesToVector(row.embedding)) });
      }
    }
    return scored.sort((a, b) => b.score - a.score).slice(0, k);
  }

  private async keywordCandidates(query: SearchQuery, limit: number): Promise<{ id: number; score: number }[]> {
    const terms = queryTerms(query.text);
    if (terms.length === 0) return [];
    if (this.dialect === 'postgres') {
      const tsquery = terms.join(' | ');
      const result = await sql<{ id: number; score: number }>`
        select id, ts_rank(tsv, to_tsquery('english', ${tsquery})) as score from search_docs
        where scope = ${query.scope} and tsv @@ to_tsquery('english', ${tsquery})
        order by score desc, id limit ${limit}`.execute(this.db);
      return result.rows.map((row) => ({ id: Number(row.id), score: Number(row.score) }));
    }
    const match = (await this.selectiveTerms(terms)).map((term) => `"${term}"`).join(' OR ');
    const result = await sql<{ id: number; score: number }>`
      select d.id as id, -bm25(search_fts) as score from search_fts
      join search_docs d on d.id = search_fts.rowid
      where search_fts match ${match} and d.scope = ${query.scope}
      order by bm25(search_fts) limit ${limit}`.execute(this.db);
    return result.rows.map((row) => ({ id: Number(row.id), score: Number(row.score) }));
  }

  /**
   * Drops terms found in a large share of all chunks (stopwords, boilerplate) while rarer ones remain: they
   * barely change BM25's order but make FTS5 score and sort most of the index (bench/knowledge: p99 of
   * keyword search at 100k chunks). Counting stops at the threshold, so a common term costs a bounded read.
   */
  private async selectiveTerms(terms: string[]): Promise<string[]> {
    if (terms.length < 2) return terms;
    const newest = await sql<{ id: number | null }>`select max(id) as id from search_docs`.execute(this.db);
    const cap = Math.max(COMMON_TERM_MIN, Math.floor(Number(newest.rows[0]?.id ?? 0) * COMMON_TERM_SHARE));
    const counts = await Promise.all(
      terms.map(async (term) => {
        const result = await sql<{ n: number }>`
          select count(*) as n from (select 1 from search_fts where search_fts match ${`"${term}"`} limit ${cap})`.execute(
          this.db,
        );
        return { term, common: Number(result.rows[0]?.n ?? 0) >= cap };
      }),
    );
    const rare = counts.filter((entry) => !entry.common).map((entry) => entry.term);
    if (rare.length > 0) return rare;
    // Only common words: ranking by all of them would score most of the index; the longest word stands in
    // (length is a cheap proxy for rarity), and the vector side of a hybrid search carries the meaning.
    return [terms.reduce((longest, term) => (term.length > longest.length ? term : longest))];
  }

  async findEmbeddings(embedder: string, hashes: readonly string[]): Promise<Map<string, Float32Array>> {
    const found = new Map<string, Float32Array>();
    for (const batch of chunks([...new Set(hashes)], ID_BATCH)) {
      const rows = await this.db
        .selectFrom('search_docs')
        .select(['content_hash', 'embedding'])
        .where('embedder', '=', embedder)
        .where('content_hash', 'in', batch)
        .where('embedding', 'is not', null)
        .execute();
      for (const row of rows) {
        if (row.embedding && !found.has(row.content_hash)) found.set(row.content_hash, bytesToVector(row.embedding));
      }
    }
    return found;
  }

  async stats(scope: string): Promise<ScopeStats> {
    const row = await this.db
      .selectFrom('search_docs')
      .select((eb) => [eb.fn.countAll().as('chunks'), eb.fn.count('source_id').distinct().as('sources')])
      .where('scope', '=', scope)
      .executeTakeFirst();
    return { chunks: Number(row?.chunks ?? 0), sources: Number(row?.sources ?? 0) };
  }

  async dangerouslyClearAll(): Promise<void> {
    await this.db.deleteFrom('search_docs').execute();
    if (this.dialect !== 'sqlite') return;
    const tables = await sql<{ name: string }>`
      select name from sqlite_master where type = 'table'
        and (name glob 'search_vec_[0-9]*' or name glob 'search_vbit_[0-9]*')
        and sql like 'CREATE VIRTUAL TABLE%'`.execute(this.db);
    for (const { name } of tables.rows) await sql`drop table if exists ${sql.table(name)}`.execute(this.db);
    this.vecTables.clear();
  }

  private async hasVecTable(dims: number): Promise<boolean> {
    if (this.vecTables.has(dims)) return true;
    const result = await sql<{ name: string }>`
      select name from sqlite_master where type = 'table' and name = ${vecTableName(dims)}`.execute(this.db);
    if (result.rows.length > 0) this.vecTables.add(dims);
    return result.rows.length > 0;
  }

  // One vec0 table per dimension: embedders of different sizes can then coexist in one database.
  private async ensureVecTable(db: Kysely<SearchTables>, dims: number): Promise<string> {
    const table = vecTableName(dims);
    if (!this.vecTables.has(dims)) {
      const size = sql.raw(String(Math.trunc(dims)));
      const column = isBinary(dims)
        ? sql`embedding bit[${size}]`
        : sql`embedding float[${size}] distance_metric=cosine`;
      await sql`create virtual table if not exists ${sql.table(table)} using vec0(part text partition key, ${column})`.execute(
        db,
      );
      this.vecTables.add(dims);
    }
    return table;
  }
}
