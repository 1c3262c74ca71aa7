// Memory recall benchmark: what recalling a user's memories adds to a run when the user has 10,000 memories
// (Mastra #11702: semantic recall took 30 s at 7.4k messages). Everything is measured in one process, in the same
// run, on a WAL SQLite file: agent runs on local:default through the real RunManager, interleaved A/B:
//   A (baseline): the run without memory hooks;
//   B: the same run with recall (term-index search + newest memories, within the token budget) in its context.
// The memory update after a run (heuristic with local:default) is measured separately, as is recall on its own.
// Target (issue 6): recall adds ≤ 50 ms to a run (p50 of B − p50 of A); also printed: p99s and B ÷ A.
// Last, semantic recall (memory.embedder: local:default): the same 10k memories in the hybrid index with vectors
// (built from 256 really embedded sentences plus noise, so seeding takes seconds, not the ~1 min of embedding 10k),
// every recall embedding its query with the offline model; C = runs with semantic recall against A again.
// Usage: npm run bench:memory
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/index.js';
import { contentHash, createEmbedderRegistry } from '../../src/embeddings/index.js';
import { createLogger } from '../../src/logging/logger.js';
import { MemoryService } from '../../src/memory/memory-service.js';
import { estimateTokens } from '../../src/models/local/index.js';
import { createModelRegistry } from '../../src/models/registry.js';
import { RunManager } from '../../src/runtime/run-manager.js';
import { createAgentToolResolver } from '../../src/runtime/tools/agent-tools.js';
import { createSqliteStore } from '../../src/store/index.js';
import { ms, quantile } from '../lib/timing.js';

const MEMORIES = 10_000;
const OTHER_USERS = 4;
const OTHER_USER_MEMORIES = 2_500;
const RUNS_PER_SIDE = 150;
const WARMUP_RUNS = 20;
const RECALL_QUERIES = 500;
const TARGET_ADDED_MS = 50;

// A deterministic pseudo-random generator, so every run of the bench sees the same corpus.
let seed = 42;
function random(): number {
  seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
  return seed / 2_147_483_648;
}
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;

const NOUNS = Array.from({ length: 3_000 }, (_, index) => {
  const syllables = ['ka', 'lo', 'mi', 'ren', 'ta', 'vo', 'shi', 'pa', 'dun', 'el', 'zor', 'qui'];
  let word = '';
  let rest = index + 7;
  for (let part = 0; part < 3; part += 1) {
    word += syllables[rest % syllables.length];
    rest = Math.floor(rest / syllables.length);
  }
  return `${word}${index % 10}`;
});
const TEMPLATES = [
  (a: string, b: string) => `User likes ${a} with ${b} on weekends`,
  (a: string, b: string) => `User's favourite ${a} is ${b}`,
  (a: string, b: string) => `User works with ${a} and ${b} at the office`,
  (a: string, b: string) => `User is learning ${a} to build ${b}`,
  (a: string, b: string) => `User lives near ${a} and often visits ${b}`,
];
const memoryText = () => pick(TEMPLATES)(pick(NOUNS), pick(NOUNS));
const question = () => `Can you suggest something with ${pick(NOUNS)} or ${pick(NOUNS)} for tomorrow?`;

const dir = mkdtempSync(join(tmpdir(), 'agentos-bench-memory-'));
const logger = createLogger({ level: 'silent', pretty: false });
const config = parseConfig(
  {
    database: { url: `sqlite:${join(dir, 'bench.db')}` },
    agents: [{ id: 'remembering', name: 'Remembering', model: 'local:default', memory: true, history_runs: 0 }],
  },
  { source: 'bench', env: {} },
);
const store = createSqliteStore({ url: config.database.url });
await store.migrate();
const models = createModelRegistry({ env: {} });
const memory = new MemoryService({ store, models, config, logger });
const tools = createAgentToolResolver({ config, logger });
const baseline = new RunManager({ store, config, models, tools, logger });
const recalling = new RunManager({
  store,
  config,
  models,
  tools,
  logger,
  memory: { recall: memory.recall.bind(memory), updateAfterRun: async () => undefined },
});
const full = new RunManager({ store, config, models, tools, logger, memory });

try {
  // Seeding: the bench user's 10k memories and other users' (they share the term index).
  const seedStarted = performance.now();
  const write = async (userId: string, count: number) => {
    for (let index = 0; index < count; index += 1) {
      const text = `${memoryText()} (${index})`;
      await store.memory.create({
        workspaceId: 'default',
        userId,
        memory: text,
        source: 'agent',
        tokens: estimateTokens(text),
      });
    }
  };
  await write('bench-user', MEMORIES);
  for (let user = 0; user < OTHER_USERS; user += 1) await write(`other-${user}`, OTHER_USER_MEMORIES);
  const seedSeconds = (performance.now() - seedStarted) / 1000;
  const total = MEMORIES + OTHER_USERS * OTHER_USER_MEMORIES;
  console.log(
    `seeded ${total} memories (${MEMORIES} for the bench user) in ${seedSeconds.toFixed(1)} s ` +
      `(${Math.round(total / seedSeconds)} memories/s, terms indexed on write)`,
  );

  // 1. Recall on its own.
  const recallTimes: number[] = [];
  let recalled = 0;
  for (let index = 0; index < RECALL_QUERIES; index += 1) {
    const started = performance.now();
    const result = await memory.recall({ workspaceId: 'default', userId: 'bench-user', message: question() });
    recallTimes.push(performance.now() - started);
    recalled += result.memories.length;
  }
  console.log(
    `recall alone (${RECALL_QUERIES} queries, 10k memories): p50 ${ms(quantile(recallTimes, 0.5))}, ` +
      `p99 ${ms(quantile(recallTimes, 0.99))}, ${(recalled / RECALL_QUERIES).toFixed(1)} memories recalled per query`,
  );

  // 2. Runs with and without recall, interleaved so drift hits both sides alike.
  const runOnce = async (manager: RunManager) => {
    const started = performance.now();
    const handle = await manager.start({
      workspaceId: 'default',
      agentId: 'remembering',
      message: question(),
      userId: 'bench-user',
    });
    const record = await handle.done;
    if (record.status !== 'completed') throw new Error(`run ended ${record.status}: ${record.error}`);
    return performance.now() - started;
  };
  for (let index = 0; index < WARMUP_RUNS; index += 1) {
    await runOnce(baseline);
    await runOnce(recalling);
  }
  const without: number[] = [];
  const withRecall: number[] = [];
  for (let index = 0; index < RUNS_PER_SIDE; index += 1) {
    if (index % 2 === 0) {
      without.push(await runOnce(baseline));
      withRecall.push(await runOnce(recalling));
    } else {
      withRecall.push(await runOnce(recalling));
      without.push(await runOnce(baseline));
    }
  }
  const addedP50 = quantile(withRecall, 0.5) - quantile(without, 0.5);
  console.log(`run without memory (baseline): p50 ${ms(quantile(without, 0.5))}, p99 ${ms(quantile(without, 0.99))}`);
  console.log(
    `run with recall:               p50 ${ms(quantile(withRecall, 0.5))}, p99 ${ms(quantile(withRecall, 0.99))}`,
  );
  console.log(`  ratio with ÷ without (p50): ${(quantile(withRecall, 0.5) / quantile(without, 0.5)).toFixed(2)}`);
  console.log(
    `  recall adds p50 ${ms(addedP50)}, p99 ${ms(quantile(withRecall, 0.99) - quantile(without, 0.99))} ` +
      `(target ≤ ${TARGET_ADDED_MS} ms): ${addedP50 <= TARGET_ADDED_MS ? 'PASS' : 'FAIL'}`,
  );

  // 3. For reference: recall plus the after-run update (heuristic summary, episode, extraction) with local:default.
  const fullTimes: number[] = [];
  for (let index = 0; index < 50; index += 1) fullTimes.push(await runOnce(full));
  console.log(
    `run with recall + memory update (local:default, heuristic): p50 ${ms(quantile(fullTimes, 0.5))} ` +
      `(${(quantile(fullTimes, 0.5) / quantile(without, 0.5)).toFixed(2)} × baseline)`,
  );
  // 4. Semantic recall: vectors for the bench user's memories, the query embedded by local:default per recall.
  const embedders = createEmbedderRegistry({ env: {} });
  const semanticConfig = { ...config, memory: { ...config.memory, embedder: 'local:default' } };
  const semantic = new MemoryService({ store, models, config: semanticConfig, logger, embedders });
  if (!store.search.vectorSearch) {
    console.log('semantic recall: skipped (no vector search in this SQLite build)');
  } else {
    const embedStarted = performance.now();
    const base = await embedders.get('local:default').embed(Array.from({ length: 256 }, () => memoryText()));
    console.log(
      `embedded 256 sentences with local:default in ${((performance.now() - embedStarted) / 1000).toFixed(1)} s`,
    );
    const all = await store.memory.list({ workspaceId: 'default', userId: 'bench-user', limit: 1000 });
    const records = [...all.items];
    for (let page = 2; records.length < all.total; page += 1) {
      records.push(
        ...(await store.memory.list({ workspaceId: 'default', userId: 'bench-user', limit: 1000, page })).items,
      );
    }
    for (let start = 0; start < records.length; start += 500) {
      await store.search.add(
        records.slice(start, start + 500).map((record, index) => {
          const source = base[(start + index) % base.length] as Float32Array;
          const vector = Float32Array.from(source, (value) => value + (random() - 0.5) * 0.02);
          return {
            scope: `memory\u0000default\u0000bench-user`,
            sourceId: record.memoryId,
            chunkIndex: 0,
            content: record.memory,
            contentHash: contentHash(record.memory),
            embedding: { embedder: 'local:default', vector },
          };
        }),
      );
    }
    const semanticTimes: number[] = [];
    for (let index = 0; index < 200; index += 1) {
      const started = performance.now();
      await semantic.recall({ workspaceId: 'default', userId: 'bench-user', message: question() });
      semanticTimes.push(performance.now() - started);
    }
    console.log(
      `semantic recall alone (200 queries, 10k vectors, query embedded each time): ` +
        `p50 ${ms(quantile(semanticTimes, 0.5))}, p99 ${ms(quantile(semanticTimes, 0.99))}`,
    );
    const semanticRuns = new RunManager({
      store,
      config: semanticConfig,
      models,
      tools,
      logger,
      memory: { recall: semantic.recall.bind(semantic), updateAfterRun: async () => undefined },
    });
    const baseTimes: number[] = [];
    const semanticRunTimes: number[] = [];
    for (let index = 0; index < 60; index += 1) {
      baseTimes.push(await runOnce(baseline));
      semanticRunTimes.push(await runOnce(semanticRuns));
    }
    await semanticRuns.shutdown(1000);
    const semanticAdded = quantile(semanticRunTimes, 0.5) - quantile(baseTimes, 0.5);
    console.log(
      `run with semantic recall: p50 ${ms(quantile(semanticRunTimes, 0.5))} vs baseline ` +
        `${ms(quantile(baseTimes, 0.5))}: adds p50 ${ms(semanticAdded)} ` +
        `(${(quantile(semanticRunTimes, 0.5) / quantile(baseTimes, 0.5)).toFixed(2)} × baseline; target ≤ ${TARGET_ADDED_MS} ms: ` +
        `${semanticAdded <= TARGET_ADDED_MS ? 'PASS' : 'FAIL'})`,
    );
  }
  if (addedP50 > TARGET_ADDED_MS) process.exitCode = 1;
} finally {
  await Promise.all([baseline.shutdown(1000), recalling.shutdown(1000), full.shutdown(1000)]);
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
