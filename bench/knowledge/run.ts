// Knowledge benchmark: ingest a generated corpus of 100k chunks into the real hybrid index (SQLite file in WAL mode,
// FTS5 + sqlite-vec, the same `store.search` the server uses) and time hybrid searches against it.
//
// The 100k chunk vectors come from a deterministic hashing embedder (512 dimensions, like `local:default`), because
// embedding 100k chunks with the local model alone takes ~10 minutes on this machine; the local model's own
// throughput is measured separately on a sample, and its query-embedding cost is added to an end-to-end figure.
//
// Figures and ratios, each against a baseline measured in the same run:
//   1. ingest chunks/s with vectors ÷ keyword-only ingest (baseline) of the same corpus
//   2. hybrid search p50/p99 (targets: p50 ≤ 20 ms, p99 ≤ 60 ms) ÷ keyword-only search p50/p99 (baseline)
//   3. local:default embedder chunks/s on a 64-chunk sample, and hybrid p50/p99 including the query embedding
// Usage: npm run bench:knowledge  (BENCH_CHUNKS=20000 for a quicker run)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { contentHash, createLocalEmbedder } from '../../src/embeddings/index.js';
import type { IndexDocument } from '../../src/search/types.js';
import { createSqliteStore } from '../../src/store/index.js';
import { ms } from '../lib/timing.js';

const CHUNKS = Number(process.env.BENCH_CHUNKS ?? 100_000);
const DIMS = 512;
const BATCH = 1000;
const QUERIES = 300;
const WARMUP = 20;
const EMBED_SAMPLE = 64;
const E2E_QUERIES = 60;

// A deterministic pseudo-random generator, so every run indexes the same corpus.
let seed = 42;
function random(): number {
  seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
  return seed / 2_147_483_648;
}

// A Zipf-like vocabulary: a few frequent words, a long tail of rare ones (what real text looks like to BM25).
const SYLLABLES = ['ka', 'lo', 'mi', 'ren', 'tu', 'sa', 'vel', 'dor', 'pi', 'ne', 'xo', 'bri', 'an', 'qu', 'es', 'ti'];
const VOCABULARY = Array.from({ length: 20_000 }, (_, index) => {
  let word = '';
  let value = index + 1;
  while (value > 0) {
    word += SYLLABLES[value % SYLLABLES.length];
    value = Math.floor(value / SYLLABLES.length);
  }
  return word;
});
function word(): string {
  return VOCABULARY[Math.min(VOCABULARY.length - 1, Math.floor(VOCABULARY.length * random() ** 3))] as string;
}
function sentence(words: number): string {
  return Array.from({ length: words }, word).join(' ');
}

// Hashing embedder: every word adds ±1 to 8 dimensions picked by its hash; normalised. Texts that share words get
// similar vectors, which is all the index needs to do real work.
function hashVector(text: string): Float32Array {
  const vector = new Float32Array(DIMS);
  for (const token of text.split(' ')) {
    let hash = 2_166_136_261;
    for (let index = 0; index < token.length; index += 1) hash = Math.imul(hash ^ token.charCodeAt(index), 16_777_619);
    for (let k = 0; k < 8; k += 1) {
      hash = Math.imul(hash ^ (hash >>> 15), 2_246_822_507);
      vector[(hash >>> 0) % DIMS] += hash & 1 ? 1 : -1;
    }
  }
  let norm = 0;
  for (const value of vector) norm += value * value;
  norm = Math.sqrt(norm) || 1;
  for (let index = 0; index < DIMS; index += 1) (vector[index] as number) /= norm;
  return vector;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] as number;
}
function stats(samples: number[]): { p50: number; p99: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
}

const dir = mkdtempSync(join(tmpdir(), 'agentos-bench-knowledge-'));
try {
  console.log(`corpus: ${CHUNKS} chunks of ~60 words, ${DIMS}-dimension vectors, SQLite file (WAL)`);
  const texts = Array.from({ length: CHUNKS }, () => sentence(40 + Math.floor(random() * 40)));
  const vectors = texts.map(hashVector);
  const documents = (scope: string, withVectors: boolean): IndexDocument[] =>
    texts.map((content, index) => ({
      scope,
      sourceId: `doc-${Math.floor(index / 20)}`,
      chunkIndex: index % 20,
      content,
      contentHash: contentHash(content),
      metadata: { shard: index % 10 },
      embedding: withVectors ? { embedder: 'bench:hash', vector: vectors[index] as Float32Array } : undefined,
    }));

  async function ingest(url: string, withVectors: boolean) {
    const store = createSqliteStore({ url });
    await store.migrate();
    const all = documents('bench', withVectors);
    const started = performance.now();
    for (let start = 0; start < all.length; start += BATCH) await store.search.add(all.slice(start, start + BATCH));
    const seconds = (performance.now() - started) / 1000;
    return { store, rate: CHUNKS / seconds, seconds };
  }

  const keywordOnly = await ingest(`sqlite:${join(dir, 'keyword.db')}`, false);
  await keywordOnly.store.close();
  const hybrid = await ingest(`sqlite:${join(dir, 'hybrid.db')}`, true);
  const { store } = hybrid;
  console.log(
    `ingest: ${hybrid.rate.toFixed(0)} chunks/s with vectors (${hybrid.seconds.toFixed(1)} s); ` +
      `keyword-only baseline ${keywordOnly.rate.toFixed(0)} chunks/s; ratio ${(hybrid.rate / keywordOnly.rate).toFixed(2)}`,
  );

  // Queries: 3 words drawn from a real chunk (so both sides have matches) plus one random word.
  const queries = Array.from({ length: QUERIES + WARMUP }, () => {
    const words = (texts[Math.floor(random() * texts.length)] as string).split(' ');
    const start = Math.floor(random() * (words.length - 3));
    return `${words.slice(start, start + 3).join(' ')} ${word()}`;
  });
  async function time(mode: 'hybrid' | 'keyword' | 'vector'): Promise<number[]> {
    const samples: number[] = [];
    for (const [index, text] of queries.entries()) {
      const started = performance.now();
      const hits = await store.search.search({
        scope: 'bench',
        text,
        mode,
        embedding: { embedder: 'bench:hash', vector: hashVector(text) },
        limit: 10,
      });
      if (hits.length === 0) throw new Error(`no hits for "${text}"`);
      if (index >= WARMUP) samples.push(performance.now() - started);
    }
    return samples;
  }
  const keyword = stats(await time('keyword'));
  const vector = stats(await time('vector'));
  const fused = stats(await time('hybrid'));
  console.log(`keyword search (baseline): p50 ${ms(keyword.p50)}, p99 ${ms(keyword.p99)}`);
  console.log(`vector search:             p50 ${ms(vector.p50)}, p99 ${ms(vector.p99)}`);
  console.log(
    `hybrid search:             p50 ${ms(fused.p50)}, p99 ${ms(fused.p99)} ` +
      `(targets 20 / 60 ms: ${fused.p50 <= 20 && fused.p99 <= 60 ? 'met' : 'MISSED'}); ` +
      `÷ keyword p50 ${(fused.p50 / keyword.p50).toFixed(2)}, p99 ${(fused.p99 / keyword.p99).toFixed(2)}`,
  );

  // The real offline embedder: throughput on a sample, and what embedding the query adds to a search.
  const local = createLocalEmbedder();
  await local.embed(['warm up']);
  const sample = texts.slice(0, EMBED_SAMPLE);
  const embedStarted = performance.now();
  await local.embed(sample);
  const embedRate = EMBED_SAMPLE / ((performance.now() - embedStarted) / 1000);
  console.log(`local:default embedder: ${embedRate.toFixed(0)} chunks/s (${EMBED_SAMPLE}-chunk sample)`);
  const e2e: number[] = [];
  for (const text of queries.slice(0, E2E_QUERIES)) {
    const started = performance.now();
    await local.embed([text]);
    await store.search.search({
      scope: 'bench',
      text,
      mode: 'hybrid',
      embedding: { embedder: 'bench:hash', vector: hashVector(text) },
      limit: 10,
    });
    e2e.push(performance.now() - started);
  }
  const endToEnd = stats(e2e);
  console.log(
    `hybrid search incl. local:default query embedding: p50 ${ms(endToEnd.p50)}, p99 ${ms(endToEnd.p99)} ` +
      `(÷ index-only p50 ${(endToEnd.p50 / fused.p50).toFixed(2)})`,
  );
  await store.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
