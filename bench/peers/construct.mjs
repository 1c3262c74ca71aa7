// Child process of bench/peers/run.ts: agent construction time and memory, Agno's method (1,000 constructions after
// a warm-up, high-resolution timer, heap delta after full GCs). The model and the tool are made once, outside the
// loop; each construction makes one agent with that model and tool and keeps it alive until the heap is read.
//   agentos:   parseConfig({ agents: [bench] }) from dist/index.js (a config agent is a validated plain value,
//              the one the runtime runs), keeping the agent entry
//   mastra:    new Agent({ id, name, instructions, model, tools: { calculator } })
//   voltagent: new Agent({ id, name, instructions, model, tools: [calculator] })
// Prints one JSON line {system, count, nsPerAgent, bytesPerAgent}.
// Usage: node --expose-gc construct.mjs --system agentos|mastra|voltagent [--count 1000] [--warmup 200]
import { pathToFileURL } from 'node:url';
import { AGENT_ID, argument, INSTRUCTIONS, MODEL_ID } from './agent-spec.mjs';

if (typeof globalThis.gc !== 'function') throw new Error('run with --expose-gc');
const system = argument('system');
const count = Number(argument('count', '1000'));
const warmup = Number(argument('warmup', '200'));
const upstream = 'http://127.0.0.1:9/v1';

async function builder() {
  if (system === 'agentos') {
    const dist = new URL('../../dist/index.js', import.meta.url);
    const { parseConfig } = await import(pathToFileURL(dist.pathname).href);
    const raw = {
      agents: [{ id: AGENT_ID, model: `openai:${MODEL_ID}`, instructions: INSTRUCTIONS, tools: ['calculator'] }],
    };
    return () => parseConfig(raw, { source: 'bench' }).agents[0];
  }
  if (system === 'mastra' || system === 'voltagent') {
    const peer = await import(`./${system}.mjs`);
    const model = peer.createModel(upstream);
    const calculator = peer.createCalculator();
    return () => peer.createAgent(model, calculator);
  }
  throw new Error('usage: construct.mjs --system agentos|mastra|voltagent');
}

const build = await builder();
const warm = [];
for (let index = 0; index < warmup; index++) warm.push(build());
warm.length = 0;
globalThis.gc();
globalThis.gc();
const kept = new Array(count);
const heapBefore = process.memoryUsage().heapUsed;
const started = process.hrtime.bigint();
for (let index = 0; index < count; index++) kept[index] = build();
const elapsed = process.hrtime.bigint() - started;
globalThis.gc();
globalThis.gc();
const heapAfter = process.memoryUsage().heapUsed;
if (kept.some((agent) => !agent)) throw new Error('a construction returned nothing');
process.stdout.write(
  `${JSON.stringify({ system, count, nsPerAgent: Number(elapsed) / count, bytesPerAgent: (heapAfter - heapBefore) / count })}\n`,
);
// Keep `kept` reachable until after the heap was read.
process.exitCode = kept.length === count ? 0 : 1;
