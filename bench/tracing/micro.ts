// The tracing path of one agent run, alone (issue 10): what `npm run bench:tracing` measures end to end, here
// without HTTP, the model or the run's own store writes, so the cost is not lost in the noise of a shared
// machine. Each simulated run is what the agent loop reports for one blocking bench run (bench/runs: one model
// step, twelve text deltas, no tools): `invoke_agent` and `chat` spans, their attributes and the Prometheus
// counts, then the batch export to a SQLite file (WAL, as `agentos serve` runs it). Rounds alternate tracing on
// and off; CPU time is the process's (user + system), spans are flushed inside the measured window.
//
// Usage: node --import tsx bench/tracing/micro.ts [runs per round, 4000]   (add --cpu-prof to see where it goes)
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TextStreamPart, ToolSet } from 'ai';
import { parseConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/logging/logger.js';
import { createObservability, type Observability } from '../../src/observability/index.js';
import { newRunId, newSessionId } from '../../src/runtime/ids.js';
import { createSqliteStore } from '../../src/store/index.js';
import { median } from '../lib/timing.js';
import { REPLY_TEXT } from '../runs/constants.js';

const RUNS = Number(process.argv[2] ?? 4000);
const ROUNDS = ['on', 'off', 'off', 'on', 'on', 'off', 'off', 'on', 'on', 'off'] as const;

const dir = mkdtempSync(join(tmpdir(), 'agentos-bench-tracing-micro-'));
const logger = createLogger({ level: 'warn' });

async function observabilityOf(enabled: boolean) {
  const store = await createSqliteStore({ url: `sqlite:${join(dir, `${enabled ? 'on' : 'off'}.db`)}` });
  await store.migrate();
  const config = parseConfig({ tracing: { enabled } }, { source: 'bench', env: {} });
  return { store, observability: await createObservability({ config, store: store.observability, logger }) };
}

const words = REPLY_TEXT.split(' ').map((word, index) => (index === 0 ? word : ` ${word}`));
const usage = { inputTokens: 20, outputTokens: 12, totalTokens: 32 } as const;
const parts = [
  { type: 'start-step', request: {}, warnings: [] },
  ...words.map((text) => ({ type: 'text-delta', id: '0', text })),
  {
    type: 'finish-step',
    response: { id: 'r', modelId: 'gpt-4o-mini', timestamp: new Date() },
    usage,
    finishReason: 'stop',
    providerMetadata: undefined,
  },
] as unknown as TextStreamPart<ToolSet>[];

function simulateRun(observability: Observability): void {
  const trace = observability.startAgentRun({
    workspaceId: 'default',
    // Made as the run manager makes them (time-ordered): the store indexes traces by both.
    runId: newRunId(),
    sessionId: newSessionId(),
    userId: null,
    agentId: 'bench',
    agentName: 'bench',
    modelId: 'openai:gpt-4o-mini',
    message: 'Say something short.',
  });
  trace.onModelRequest();
  for (const part of parts) trace.onPart(part);
  trace.end({ status: 'completed', content: REPLY_TEXT, inputTokens: 20, outputTokens: 12 });
}

/** A fixed pseudo-random sequence (mulberry32), the same for both sides. */
function sequenceOf(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let value = Math.imul(state ^ (state >>> 15), 1 | state);
    value = (value + Math.imul(value ^ (value >>> 7), 61 | value)) ^ value;
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

/** CPU time (ns) of the calling thread so far, from Linux's schedstat; undefined elsewhere. */
function threadNs(): number | undefined {
  try {
    return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]);
  } catch {
    return undefined;
  }
}

/** CPU µs per run: the whole process (the trace worker included) and the event loop's thread alone. */
async function round(observability: Observability, seed: number): Promise<{ process: number; loop: number }> {
  const random = sequenceOf(seed);
  const before = process.cpuUsage();
  const loopBefore = threadNs();
  // Batches leave as the batch timer sends them in a server: 20 to 250 runs' spans at a time, sizes
  // varying from one batch to the next (a size the store has not seen compiles a new statement).
  for (let done = 0; done < RUNS; ) {
    const batch = Math.min(RUNS - done, 20 + Math.floor(random() * 230));
    for (let index = 0; index < batch; index++) simulateRun(observability);
    done += batch;
    await observability.flush();
  }
  const used = process.cpuUsage(before);
  const loopAfter = threadNs();
  return {
    process: (used.user + used.system) / RUNS,
    loop: loopBefore === undefined || loopAfter === undefined ? Number.NaN : (loopAfter - loopBefore) / 1000 / RUNS,
  };
}

const sides = { on: await observabilityOf(true), off: await observabilityOf(false) };
// Warm-up: JIT and prepared statements on both sides.
for (const side of ['on', 'off'] as const) await round(sides[side].observability, 1);
const results: Record<'on' | 'off', number[]> = { on: [], off: [] };
const loop: Record<'on' | 'off', number[]> = { on: [], off: [] };
for (const [index, side] of ROUNDS.entries()) {
  const micros = await round(sides[side].observability, 2 + Math.floor(index / 2));
  results[side].push(micros.process);
  loop[side].push(micros.loop);
  console.log(
    `  round tracing ${side.padEnd(3)}: ${micros.process.toFixed(1)} µs CPU per run (event loop ${micros.loop.toFixed(1)})`,
  );
}
const on = median(results.on);
const off = median(results.off);
const least = (values: number[]) => Math.min(...values);
const spans = await sides.on.store.observability.listTraces({ workspaceId: 'default', limit: 1 });
console.log(
  `\nmedian CPU per run: tracing on ${on.toFixed(1)} µs, off ${off.toFixed(1)} µs; the tracing path costs ` +
    `${(on - off).toFixed(1)} µs per run (${spans.total} traces stored)`,
);
// The event loop's share is what a server's requests wait for; the rest is the trace worker's thread.
console.log(
  `median event-loop CPU per run: tracing on ${median(loop.on).toFixed(1)} µs, off ${median(loop.off).toFixed(1)} µs; ` +
    `the event loop's part ${(median(loop.on) - median(loop.off)).toFixed(1)} µs per run`,
);
// On a busy machine the least of the rounds is the steadier reading: interference only ever adds.
console.log(
  `least CPU per run: tracing on ${least(results.on).toFixed(1)} µs, off ${least(results.off).toFixed(1)} µs; ` +
    `the tracing path costs ${(least(results.on) - least(results.off)).toFixed(1)} µs per run`,
);
for (const side of ['on', 'off'] as const) {
  await sides[side].observability.shutdown();
  await sides[side].store.close();
}
rmSync(dir, { recursive: true, force: true });
