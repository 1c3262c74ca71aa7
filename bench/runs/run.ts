// Run benchmark: what agentos adds on top of the model call it makes. Every number is agentos next to a floor measured
// in the same run on the same machine: `proxy.ts`, a thin node:http server making the same Chat Completions call with
// the global fetch. Both talk to the scripted upstream `upstream.ts` (test/fake-openai.ts, zero delays), each system
// in its own child process (the two helpers bundled to plain .mjs with esbuild first); all traffic stays on 127.0.0.1.
//
// Measurements and targets:
//   1. blocking runs/s at concurrency 16 (closed loop, 2 s warm-up + 8 s), interleaved A/B twice: agentos ÷ proxy ≥ 0.5
//   2. first-token latency of streaming runs, 200 sequential each: added p50 ≤ 2 ms
//   3. idle RSS of agentos 3 s after start: ≤ 80 MB (idle as bench/peers reads it for the peers the issue names);
//      also read 3 s after the load, next to the proxy's (which itself sits well above 80 MB there)
//   4. one session: median time of runs #1000..#1020 ÷ runs #1..#21 ≤ 1.5
//   5. heap per open streaming run with 1,000 open (upstream hangs after the first chunk): ≤ 30 KB; then the client
//      aborts them all and the server must cancel every run.
// Usage: npm run bench:runs  (or: node --import tsx bench/runs/run.ts after `npm run build`)
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, type ClientRequest, request } from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { bundleRunsChildren, freePort, loadAverage, rssMb } from '../lib/processes.js';
import { fixed, median, quantile, sleep } from '../lib/timing.js';
import { INSTRUCTIONS, REPLY_TEXT } from './constants.js';

const root = resolve(import.meta.dirname, '../..');
const here = import.meta.dirname;
const cli = join(root, 'dist/agentos.mjs');
if (!existsSync(cli)) {
  console.error('dist/agentos.mjs is missing: run `npm run build` first');
  process.exit(1);
}
/** Scratch space of this run: bundled children, config, databases, heap probe files. Removed at the end. */
const dir = mkdtempSync(join(tmpdir(), 'agentos-bench-runs-'));

// ---------------------------------------------------------------------------------------------------------------
// Knobs (kept small: the reference machine has 2 cores and the whole run should stay under ~3 minutes)

const CONCURRENCY = 16;
const WARM_MS = 2_000;
const MEASURE_MS = 8_000;
const LATENCY_SAMPLES = 200;
const LATENCY_WARMUP = 20;
const SESSION_RUNS = 1_020;
const SESSION_FILL_CONCURRENCY = 8;
const OPEN_STREAMS = 1_000;
const OPENING_AT_ONCE = 100;
const REQUEST_TIMEOUT_MS = 15_000;

const TARGETS = { throughputRatio: 0.5, addedFirstTokenMs: 2, idleRssMb: 80, sessionRatio: 1.5, heapPerStreamKb: 30 };

// ---------------------------------------------------------------------------------------------------------------
// Small helpers

const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');

/** Keeps the first few distinct messages of a kind of failure. */
class ErrorLog {
  count = 0;
  private readonly samples = new Map<string, number>();
  add(message: string): void {
    this.count += 1;
    const key = message.slice(0, 200);
    if (this.samples.has(key) || this.samples.size < 5) this.samples.set(key, (this.samples.get(key) ?? 0) + 1);
  }
  describe(): string {
    return [...this.samples].map(([message, times]) => `${times}× ${message}`).join('; ');
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Child processes

interface Child {
  name: string;
  proc: ChildProcess;
  /** stdout lines not consumed yet (the first 2,000 kept; agentos logs here, as pino JSON lines). */
  lines: string[];
  /** stderr lines (the first 500 kept) and how many there were. */
  stderr: string[];
  stderrCount: number;
}

const children = new Set<Child>();

function spawnChild(name: string, args: string[], env: NodeJS.ProcessEnv, cwd = root): Child {
  const proc = spawn(process.execPath, args, { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
  const child: Child = { name, proc, lines: [], stderr: [], stderrCount: 0 };
  children.add(child);
  let out = '';
  proc.stdout?.setEncoding('utf8').on('data', (text: string) => {
    out += text;
    const parts = out.split('\n');
    out = parts.pop() ?? '';
    for (const line of parts) if (child.lines.length < 2_000) child.lines.push(line);
  });
  let err = '';
  proc.stderr?.setEncoding('utf8').on('data', (text: string) => {
    err += text;
    const parts = err.split('\n');
    err = parts.pop() ?? '';
    for (const line of parts) {
      if (line.trim() === '') continue;
      child.stderrCount += 1;
      if (child.stderr.length < 500) child.stderr.push(line);
    }
  });
  proc.on('exit', () => children.delete(child));
  return child;
}

async function waitForLine(child: Child, prefix: string, timeoutMs = 20_000): Promise<string> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const index = child.lines.findIndex((line) => line.startsWith(prefix));
    if (index >= 0) return (child.lines.splice(index, 1)[0] as string).slice(prefix.length).trim();
    if (child.proc.exitCode !== null) break;
    await sleep(10);
  }
  throw new Error(`${child.name}: no "${prefix}" line within ${timeoutMs} ms; stderr: ${child.stderr.join('\n')}`);
}

async function stopChild(child: Child): Promise<{ code: number | null; signal: string | null; forced: boolean }> {
  const { proc } = child;
  if (proc.exitCode !== null || proc.signalCode !== null) {
    return { code: proc.exitCode, signal: proc.signalCode, forced: false };
  }
  const exited = new Promise<void>((done) => proc.once('exit', () => done()));
  proc.kill('SIGTERM');
  const timer = sleep(5_000).then(() => 'timeout' as const);
  let forced = false;
  if ((await Promise.race([exited, timer])) === 'timeout') {
    forced = true;
    proc.kill('SIGKILL');
    await exited;
  }
  return { code: proc.exitCode, signal: proc.signalCode, forced };
}

async function startUpstream(hang: boolean): Promise<{ child: Child; url: string }> {
  const args = [join(dir, 'upstream.mjs'), ...(hang ? ['--hang'] : [])];
  const child = spawnChild(hang ? 'upstream (hang)' : 'upstream', args, { PATH: process.env.PATH });
  return { child, url: await waitForLine(child, 'URL ') };
}

async function startProxy(upstreamUrl: string, probeFile?: string): Promise<{ child: Child; url: string }> {
  const args = [...(probeFile ? probeArgs : []), join(dir, 'proxy.mjs'), upstreamUrl];
  const child = spawnChild(probeFile ? 'proxy-heap' : 'proxy', args, {
    PATH: process.env.PATH,
    ...(probeFile ? { HEAP_PROBE_FILE: probeFile } : {}),
  });
  return { child, url: await waitForLine(child, 'URL ') };
}

/** Node flags that load the heap probe (SIGUSR2 → two full GCs → heapUsed written to $HEAP_PROBE_FILE). */
const probeArgs = ['--expose-gc', '--import', pathToFileURL(join(here, 'heap-probe.mjs')).href];

interface AgentOs {
  child: Child;
  url: string;
  port: number;
  startMs: number;
}

async function startAgentOs(options: {
  dir: string;
  configPath: string;
  upstreamUrl: string;
  name: string;
  nodeArgs?: string[];
  env?: NodeJS.ProcessEnv;
}): Promise<AgentOs> {
  const port = await freePort();
  const db = join(options.dir, `${options.name}.db`);
  const args = [
    ...(options.nodeArgs ?? []),
    cli,
    'serve',
    '--port',
    String(port),
    '--db',
    `sqlite:${db}`,
    '--config',
    options.configPath,
  ];
  const started = performance.now();
  const child = spawnChild(
    options.name,
    args,
    {
      PATH: process.env.PATH,
      OPENAI_BASE_URL: options.upstreamUrl,
      OPENAI_API_KEY: 'bench',
      AGENTOS_LOG_LEVEL: 'warn',
      ...options.env,
    },
    options.dir,
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = started + 20_000;
  for (;;) {
    if (child.proc.exitCode !== null) throw new Error(`${options.name} exited: ${child.stderr.join('\n')}`);
    if (performance.now() > deadline) throw new Error(`${options.name} did not answer /health within 20 s`);
    const ok = await fetch(`${url}/health`)
      .then((response) => response.ok)
      .catch(() => false);
    if (ok) break;
    await sleep(10);
  }
  return { child, url, port, startMs: performance.now() - started };
}

// ---------------------------------------------------------------------------------------------------------------
// Blocking runs

interface Target {
  name: string;
  /** POST target of a blocking run. */
  url: string;
  body(sessionId?: string): string;
  /** True when a 200 body is the expected answer. */
  check(text: string): boolean;
}

function agentosTarget(agentos: AgentOs): Target {
  return {
    name: 'agentos',
    url: `${agentos.url}/agents/bench/runs`,
    body: (sessionId) => JSON.stringify({ message: 'Say something.', ...(sessionId ? { session_id: sessionId } : {}) }),
    check: (text) => {
      const run = JSON.parse(text) as { status?: string; content?: string };
      return run.status === 'completed' && run.content === REPLY_TEXT;
    },
  };
}

function proxyTarget(proxyUrl: string): Target {
  return {
    name: 'proxy',
    url: `${proxyUrl}/run`,
    body: () => JSON.stringify({ message: 'Say something.' }),
    check: (text) => (JSON.parse(text) as { content?: string }).content === REPLY_TEXT,
  };
}

/** One blocking request; resolves with its wall time, or throws with why it failed. */
async function blockingRun(target: Target, sessionId?: string): Promise<number> {
  const started = performance.now();
  const response = await fetch(target.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: target.body(sessionId),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await response.text();
  const elapsed = performance.now() - started;
  if (response.status !== 200) throw new Error(`HTTP ${response.status}: ${text.slice(0, 160)}`);
  if (!target.check(text)) throw new Error(`unexpected body: ${text.slice(0, 160)}`);
  return elapsed;
}

interface LoadResult {
  system: string;
  completed: number;
  rate: number;
  errors: ErrorLog;
  p50Ms: number;
}

/** Closed loop: `CONCURRENCY` workers each send the next request when the last one answered, until the deadline. */
async function closedLoop(target: Target): Promise<LoadResult> {
  const start = performance.now();
  const warmEnd = start + WARM_MS;
  const end = warmEnd + MEASURE_MS;
  const errors = new ErrorLog();
  const latencies: number[] = [];
  let completed = 0;
  const worker = async () => {
    for (let iteration = 0; iteration < 1_000_000 && performance.now() < end; iteration++) {
      try {
        const elapsed = await blockingRun(target);
        const now = performance.now();
        if (now >= warmEnd && now <= end) {
          completed += 1;
          latencies.push(elapsed);
        }
      } catch (error) {
        // Counted in the warm-up too: any failure is worth reporting.
        errors.add(error instanceof Error ? error.message : String(error));
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return { system: target.name, completed, rate: completed / (MEASURE_MS / 1000), errors, p50Ms: median(latencies) };
}

// ---------------------------------------------------------------------------------------------------------------
// Streaming runs over node:http (one keep-alive agent with room for every open stream)

const streamAgent = new Agent({ keepAlive: true, maxSockets: 2_000 });

type StreamKind = 'agentos' | 'proxy';

interface OpenStream {
  /** Resolves with ms from the request start to the first content frame; rejects if none came. */
  firstContent: Promise<number>;
  /** Resolves when the response is over (finished, failed or aborted). */
  ended: Promise<{ status: number; complete: boolean; error?: string }>;
  abort(): void;
  /** The agentos run id, once the first frame carried it. */
  runId?: string;
}

/** True when one SSE frame carries model text. */
function frameHasContent(kind: StreamKind, frame: string): boolean {
  if (kind === 'agentos') return /^event: RunContent$/m.test(frame);
  for (const line of frame.split('\n')) {
    if (!line.startsWith('data: ') || line === 'data: [DONE]') continue;
    try {
      const chunk = JSON.parse(line.slice(6)) as { choices?: { delta?: { content?: string | null } }[] };
      if (chunk.choices?.[0]?.delta?.content) return true;
    } catch {}
  }
  return false;
}

/** True when one SSE frame is the normal end of the stream. */
function frameEnds(kind: StreamKind, frame: string): boolean {
  return kind === 'agentos' ? /^event: RunCompleted$/m.test(frame) : frame.includes('data: [DONE]');
}

function openStream(kind: StreamKind, url: string, body: string): OpenStream {
  const target = new URL(url);
  const started = performance.now();
  let req: ClientRequest | undefined;
  let buffer = '';
  let gotContent = false;
  let complete = false;
  let settleFirst!: { resolve: (ms: number) => void; reject: (error: Error) => void };
  const firstContent = new Promise<number>((resolve, reject) => {
    settleFirst = { resolve, reject };
  });
  firstContent.catch(() => {});
  const stream: OpenStream = {
    firstContent,
    ended: new Promise((done) => {
      const finish = (status: number, error?: string) => {
        if (!gotContent) settleFirst.reject(new Error(error ?? `HTTP ${status}: stream ended without content`));
        done({ status, complete, ...(error === undefined ? {} : { error }) });
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
          res.setEncoding('utf8');
          res.on('data', (text: string) => {
            buffer += text;
            let cut = buffer.indexOf('\n\n');
            while (cut >= 0) {
              const frame = buffer.slice(0, cut);
              buffer = buffer.slice(cut + 2);
              if (stream.runId === undefined && kind === 'agentos') {
                stream.runId = /"run_id":"([^"]+)"/.exec(frame)?.[1];
              }
              if (!gotContent && frameHasContent(kind, frame)) {
                gotContent = true;
                settleFirst.resolve(performance.now() - started);
              }
              if (frameEnds(kind, frame)) complete = true;
              cut = buffer.indexOf('\n\n');
            }
          });
          res.on('end', () => finish(res.statusCode ?? 0));
          res.on('error', (error) => finish(res.statusCode ?? 0, error.message));
          res.on('close', () => finish(res.statusCode ?? 0, complete ? undefined : 'closed'));
        },
      );
      req.on('error', (error) => finish(0, error.message));
      req.end(body);
    }),
    abort: () => req?.destroy(),
  };
  return stream;
}

function streamUrl(kind: StreamKind, base: string): { url: string; body: string } {
  return kind === 'agentos'
    ? { url: `${base}/agents/bench/runs`, body: JSON.stringify({ message: 'Say something.', stream: true }) }
    : { url: `${base}/run?stream=1`, body: JSON.stringify({ message: 'Say something.' }) };
}

/** Sequential streaming requests, alternating the two systems; first-content times per system. */
async function firstTokenLatency(bases: Record<StreamKind, string>) {
  const samples: Record<StreamKind, number[]> = { agentos: [], proxy: [] };
  const errors: Record<StreamKind, ErrorLog> = { agentos: new ErrorLog(), proxy: new ErrorLog() };
  for (let index = 0; index < LATENCY_WARMUP + LATENCY_SAMPLES; index++) {
    const order: StreamKind[] = index % 2 ? ['proxy', 'agentos'] : ['agentos', 'proxy'];
    for (const kind of order) {
      const { url, body } = streamUrl(kind, bases[kind]);
      const stream = openStream(kind, url, body);
      const timeout = setTimeout(() => stream.abort(), REQUEST_TIMEOUT_MS);
      const [first, end] = await Promise.allSettled([stream.firstContent, stream.ended]);
      clearTimeout(timeout);
      const ended = end.status === 'fulfilled' ? end.value : { status: 0, complete: false, error: 'no end' };
      if (first.status === 'rejected') errors[kind].add(String(first.reason));
      else if (ended.status !== 200 || !ended.complete) {
        errors[kind].add(`HTTP ${ended.status}, complete=${ended.complete} ${ended.error ?? ''}`);
      } else if (index >= LATENCY_WARMUP) samples[kind].push(first.value);
    }
  }
  return { samples, errors };
}

// ---------------------------------------------------------------------------------------------------------------
// agentos and heap helpers

async function countRuns(agentos: AgentOs, query: string): Promise<number> {
  const response = await fetch(`${agentos.url}/agents/bench/runs?limit=1&${query}`, {
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  if (!response.ok) throw new Error(`GET runs?${query}: HTTP ${response.status}`);
  return ((await response.json()) as { meta: { total_count: number } }).meta.total_count;
}

/** Waits until agentos reports no running or pending run (bounded); returns how long that took, or NaN. */
async function waitNoActiveRuns(agentos: AgentOs, timeoutMs: number): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    const active = (await countRuns(agentos, 'status=running')) + (await countRuns(agentos, 'status=pending'));
    if (active === 0) return performance.now() - started;
    await sleep(100);
  }
  return Number.NaN;
}

/** heapUsed after two full GCs, through the preloaded heap probe (SIGUSR2 → file). */
async function probeHeap(child: Child, file: string): Promise<number> {
  rmSync(file, { force: true });
  child.proc.kill('SIGUSR2');
  const deadline = performance.now() + 15_000;
  while (performance.now() < deadline) {
    if (existsSync(file)) return Number(readFileSync(file, 'utf8'));
    await sleep(20);
  }
  throw new Error('heap probe did not answer within 15 s');
}

async function upstreamDisconnects(upstream: Child): Promise<number> {
  upstream.proc.kill('SIGUSR2');
  return Number(await waitForLine(upstream, 'DISCONNECTS ', 5_000));
}

/** The log lines agentos wrote (pino JSON on stdout, anything on stderr), grouped; `errors` counts level ≥ 50. */
function agentosLogSummary(child: Child): { text: string; errors: number } {
  const all = [...child.lines, ...child.stderr].filter((line) => line.trim() !== '');
  if (all.length === 0) return { text: 'none', errors: 0 };
  const messages = new Map<string, number>();
  let errors = 0;
  for (const line of all) {
    let key = line;
    try {
      const entry = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string } };
      if ((entry.level ?? 50) >= 50) errors += 1;
      key = `[${entry.level}] ${entry.msg ?? ''}${entry.err?.message ? `: ${entry.err.message}` : ''}`;
    } catch {
      errors += 1;
    }
    messages.set(key.slice(0, 160), (messages.get(key.slice(0, 160)) ?? 0) + 1);
  }
  const top = [...messages].slice(0, 5).map(([message, times]) => `${times}× ${message}`);
  return { text: `${all.length} line(s): ${top.join(' | ')}`, errors };
}

/** Waits (bounded) until the upstream has seen `count` abandoned responses; returns the last count seen. */
async function waitUpstreamDisconnects(upstream: Child, count: number, timeoutMs: number): Promise<number> {
  const started = performance.now();
  let seen = await upstreamDisconnects(upstream);
  while (seen < count && performance.now() - started < timeoutMs) {
    await sleep(100);
    seen = await upstreamDisconnects(upstream);
  }
  return seen;
}

interface StreamBatch {
  streams: OpenStream[];
  delivered: number;
  errors: ErrorLog;
  ms: number;
}

/** Opens `count` streams, at most `OPENING_AT_ONCE` waiting for their first content at a time; waits for all. */
async function openMany(kind: StreamKind, base: string, count: number): Promise<StreamBatch> {
  const { url, body } = streamUrl(kind, base);
  const started = performance.now();
  const deadline = started + 60_000;
  const streams: OpenStream[] = [];
  const errors = new ErrorLog();
  let delivered = 0;
  let waiting = 0;
  for (let index = 0; index < count && performance.now() < deadline; index++) {
    while (waiting >= OPENING_AT_ONCE && performance.now() < deadline) await sleep(1);
    const stream = openStream(kind, url, body);
    streams.push(stream);
    waiting += 1;
    stream.firstContent.then(
      () => {
        delivered += 1;
        waiting -= 1;
      },
      (error: unknown) => {
        errors.add(String(error));
        waiting -= 1;
      },
    );
  }
  while (delivered + errors.count < streams.length && performance.now() < deadline) await sleep(5);
  return { streams, delivered, errors, ms: performance.now() - started };
}

/** Aborts every stream of a batch and waits (bounded) until the client saw each one end. */
async function abortAll(batch: StreamBatch): Promise<void> {
  for (const stream of batch.streams) stream.abort();
  await Promise.race([Promise.all(batch.streams.map((stream) => stream.ended)), sleep(10_000)]);
}

interface HeapCycle {
  /** heapUsed (bytes) after GC: before opening, with every stream open, after aborting them all and settling. */
  before: number;
  open: number;
  after: number;
  rss: { before: number; open: number; after: number };
  batch: StreamBatch;
  /** agentos only: runs reported `running` while the streams were open. */
  running?: number;
  /** ms from the abort until the server had let go of everything (NaN: not within 30 s). */
  settleMs: number;
  /** Upstream responses abandoned because of the abort. */
  upstreamDrops: number;
}

/**
 * One cycle against a server whose upstream hangs after the first chunk: heap with 0 open streams, open `OPEN_STREAMS`
 * and wait until each delivered content, heap again, abort them all, wait until the server dropped every upstream call
 * (and, for agentos, no run is running any more), heap again.
 */
async function heapCycle(
  kind: StreamKind,
  server: { child: Child; url: string },
  upstream: Child,
  probeFile: string,
  agentos?: AgentOs,
): Promise<HeapCycle> {
  const pid = server.child.proc.pid as number;
  const before = await probeHeap(server.child, probeFile);
  const rssBefore = rssMb(pid);
  const batch = await openMany(kind, server.url, OPEN_STREAMS);
  const running = agentos ? await countRuns(agentos, 'status=running') : undefined;
  const open = await probeHeap(server.child, probeFile);
  const rssOpen = rssMb(pid);
  const dropsBefore = await upstreamDisconnects(upstream);
  const aborted = performance.now();
  await abortAll(batch);
  const drops = (await waitUpstreamDisconnects(upstream, dropsBefore + batch.delivered, 30_000)) - dropsBefore;
  const quiet = agentos ? await waitNoActiveRuns(agentos, 30_000) : 0;
  const settleMs = drops >= batch.delivered && Number.isFinite(quiet) ? performance.now() - aborted : Number.NaN;
  await sleep(300);
  const after = await probeHeap(server.child, probeFile);
  return {
    before,
    open,
    after,
    rss: { before: rssBefore, open: rssOpen, after: rssMb(pid) },
    batch,
    ...(running === undefined ? {} : { running }),
    settleMs,
    upstreamDrops: drops,
  };
}

/** A few streams opened and aborted first, so lazy modules and JIT state are not counted as per-stream heap. */
async function warmStreams(kind: StreamKind, base: string, upstream: Child, agentos?: AgentOs): Promise<void> {
  const before = await upstreamDisconnects(upstream);
  const batch = await openMany(kind, base, 8);
  await abortAll(batch);
  await waitUpstreamDisconnects(upstream, before + batch.delivered, 10_000);
  if (agentos) await waitNoActiveRuns(agentos, 10_000);
}

const perStreamKb = (cycle: HeapCycle) => (cycle.open - cycle.before) / Math.max(1, cycle.batch.streams.length) / 1024;

// ---------------------------------------------------------------------------------------------------------------
// The run

const benchStarted = performance.now();
const configPath = join(dir, 'agentos.config.json');
writeFileSync(
  configPath,
  JSON.stringify({
    log_level: 'warn',
    rate_limits: false,
    server: { shutdown_timeout_ms: 2000 },
    agents: [{ id: 'bench', model: 'openai:gpt-4o-mini', instructions: INSTRUCTIONS, history_runs: 0 }],
  }),
);
let failed = false;

console.log('run benchmark: agentos next to a bare fetch proxy, both over the same scripted upstream');
console.log(`node ${process.version} (${process.platform}/${process.arch}, ${cpus().length} CPUs)`);
console.log('every number below comes from this one run on this one machine; each system is its own child process,');
console.log('all traffic on 127.0.0.1.');
// Other work on the machine shows up as noise between rounds; the load average says how much there was.
console.log(`load average at start: ${loadAverage()}\n`);

try {
  await bundleRunsChildren(dir);
  const upstream = await startUpstream(false);
  const proxy = await startProxy(upstream.url);
  const agentos = await startAgentOs({ dir, configPath, upstreamUrl: upstream.url, name: 'agentos' });
  const agentosPid = agentos.child.proc.pid as number;
  const proxyPid = proxy.child.proc.pid as number;
  console.log(`started upstream ${upstream.url}, proxy ${proxy.url}, agentos ${agentos.url}`);

  // 3a. Idle RSS 3 s after start.
  await sleep(3_000);
  const rssIdle = { agentos: rssMb(agentosPid), proxy: rssMb(proxyPid) };
  console.log(`[3] idle RSS 3 s after start: agentos ${fixed(rssIdle.agentos)} MB, proxy ${fixed(rssIdle.proxy)} MB`);

  // 2. First-token latency.
  const latency = await firstTokenLatency({ agentos: agentos.url, proxy: proxy.url });
  const ftt = {
    agentos: { p50: median(latency.samples.agentos), p95: quantile(latency.samples.agentos, 0.95) },
    proxy: { p50: median(latency.samples.proxy), p95: quantile(latency.samples.proxy, 0.95) },
  };
  const addedP50 = ftt.agentos.p50 - ftt.proxy.p50;
  console.log(
    `[2] first token: ${latency.samples.agentos.length} agentos + ${latency.samples.proxy.length} proxy samples` +
      ` (after ${LATENCY_WARMUP} warm-up each, alternating)`,
  );

  // 1. Throughput, interleaved A B B A.
  const targets = { agentos: agentosTarget(agentos), proxy: proxyTarget(proxy.url) };
  const rounds: LoadResult[] = [];
  for (const name of ['proxy', 'agentos', 'agentos', 'proxy'] as const) {
    const result = await closedLoop(targets[name]);
    rounds.push(result);
    console.log(
      `[1] round ${rounds.length}: ${name.padEnd(7)} ${fixed(result.rate).padStart(7)} runs/s` +
        ` (p50 ${fixed(result.p50Ms, 2)} ms, errors ${result.errors.count})`,
    );
  }
  const roundsOf = (name: string) => rounds.filter((round) => round.system === name);
  const rate = (name: string) => roundsOf(name).reduce((sum, round) => sum + round.rate, 0) / roundsOf(name).length;
  const p50Of = (name: string) => median(roundsOf(name).map((round) => round.p50Ms));
  const errorsOf = (name: string) => roundsOf(name).reduce((sum, round) => sum + round.errors.count, 0);
  const throughputRatio = rate('agentos') / rate('proxy');

  // 3b. RSS after the load.
  const rssLoaded = { agentos: rssMb(agentosPid), proxy: rssMb(proxyPid) };
  await sleep(3_000);
  const rssAfterLoad = { agentos: rssMb(agentosPid), proxy: rssMb(proxyPid) };
  console.log(
    `[3] RSS 3 s after the load: agentos ${fixed(rssAfterLoad.agentos)} MB, proxy ${fixed(rssAfterLoad.proxy)} MB`,
  );

  // 4. One session: runs #1..#21 timed, #22..#999 with concurrency 8, #1000..#1020 timed; as a control, 21 runs in
  //    fresh sessions right before run #1 and right after run #1020.
  const sessionId = `bench-session-${Date.now()}`;
  const sessionErrors = new ErrorLog();
  const timed = async (count: number, session?: string) => {
    const times: number[] = [];
    for (let index = 0; index < count; index++) {
      try {
        times.push(await blockingRun(targets.agentos, session));
      } catch (error) {
        sessionErrors.add(String(error));
      }
    }
    return times;
  };
  const sessionStarted = performance.now();
  const controlBefore = await timed(21);
  const early = await timed(21, sessionId);
  let next = 22;
  await Promise.all(
    Array.from({ length: SESSION_FILL_CONCURRENCY }, async () => {
      while (next <= 999 && performance.now() - sessionStarted < 60_000) {
        next += 1;
        try {
          await blockingRun(targets.agentos, sessionId);
        } catch (error) {
          sessionErrors.add(String(error));
        }
      }
    }),
  );
  const before1000 = await countRuns(agentos, `session_id=${sessionId}`);
  const late = await timed(SESSION_RUNS - 999, sessionId);
  const controlAfter = await timed(21);
  const sessionTotal = await countRuns(agentos, `session_id=${sessionId}`);
  const sessionRatio = median(late) / median(early);
  console.log(
    `[4] session ${sessionId}: ${sessionTotal} runs stored (${before1000} before run #1000),` +
      ` ${fixed((performance.now() - sessionStarted) / 1000)} s`,
  );

  const mainLog = agentosLogSummary(agentos.child);
  const mainStop = await stopChild(agentos.child);
  await stopChild(proxy.child);
  await stopChild(upstream.child);

  // 5. Heap per open stream, against an upstream that hangs after its first content chunk: the proxy as the floor,
  //    then agentos twice (a second cycle shows whether what stays behind after the first keeps growing).
  const hang = await startUpstream(true);
  const proxyProbe = join(dir, 'heap-proxy');
  const heapProxy = await startProxy(hang.url, proxyProbe);
  await warmStreams('proxy', heapProxy.url, hang.child);
  const proxyCycle = await heapCycle('proxy', heapProxy, hang.child, proxyProbe);
  console.log(
    `[5] proxy: ${proxyCycle.batch.delivered}/${OPEN_STREAMS} streams delivered content, ${fixed(perStreamKb(proxyCycle))} KB heap each`,
  );
  await stopChild(heapProxy.child);

  const agentosProbe = join(dir, 'heap-agentos');
  const heapOs = await startAgentOs({
    dir,
    configPath,
    upstreamUrl: hang.url,
    name: 'agentos-heap',
    nodeArgs: probeArgs,
    env: { HEAP_PROBE_FILE: agentosProbe },
  });
  await warmStreams('agentos', heapOs.url, hang.child, heapOs);
  const cycles: HeapCycle[] = [];
  for (let index = 0; index < 2; index++) {
    const cycle = await heapCycle('agentos', heapOs, hang.child, agentosProbe, heapOs);
    cycles.push(cycle);
    console.log(
      `[5] agentos cycle ${index + 1}: ${cycle.batch.delivered}/${OPEN_STREAMS} streams delivered RunContent in` +
        ` ${fixed(cycle.batch.ms / 1000, 2)} s, ${fixed(perStreamKb(cycle))} KB heap each`,
    );
  }
  const runStatus = {
    running: await countRuns(heapOs, 'status=running'),
    pending: await countRuns(heapOs, 'status=pending'),
    cancelled: await countRuns(heapOs, 'status=cancelled'),
    error: await countRuns(heapOs, 'status=error'),
    completed: await countRuns(heapOs, 'status=completed'),
  };
  const heapLog = agentosLogSummary(heapOs.child);
  const heapStop = await stopChild(heapOs.child);
  await stopChild(hang.child);
  const first = cycles[0] as HeapCycle;
  const last = cycles[cycles.length - 1] as HeapCycle;
  const heapPerStream = perStreamKb(first);
  const opened = cycles.reduce((sum, cycle) => sum + cycle.batch.streams.length, 0) + 8;
  const allCancelled =
    runStatus.running + runStatus.pending === 0 &&
    runStatus.cancelled === opened &&
    cycles.every((cycle) => cycle.upstreamDrops >= cycle.batch.delivered && Number.isFinite(cycle.settleMs));

  // -------------------------------------------------------------------------------------------------------------
  // Report

  const MB = 2 ** 20;
  const row = (label: string, a: string, b = '', ratio = '') =>
    `${label.padEnd(50)} ${a.padStart(11)} ${b.padStart(11)} ${ratio.padStart(14)}`;
  const ratio = (a: number, b: number) => fixed(a / b, 2);
  const lines = [
    row('measurement', 'agentos', 'proxy', 'agentos/proxy'),
    '-'.repeat(89),
    ...rounds.map((round, index) =>
      round.system === 'agentos'
        ? row(`1. round ${index + 1}: runs/s, concurrency ${CONCURRENCY}`, fixed(round.rate))
        : row(`1. round ${index + 1}: runs/s, concurrency ${CONCURRENCY}`, '', fixed(round.rate)),
    ),
    row(
      '1. blocking runs/s (mean of 2 rounds)',
      fixed(rate('agentos')),
      fixed(rate('proxy')),
      fixed(throughputRatio, 2),
    ),
    row(
      '1. blocking latency p50 under load (ms)',
      fixed(p50Of('agentos'), 2),
      fixed(p50Of('proxy'), 2),
      ratio(p50Of('agentos'), p50Of('proxy')),
    ),
    row('1. failed requests (4 rounds, warm-up incl.)', String(errorsOf('agentos')), String(errorsOf('proxy'))),
    row(
      '2. first content p50 (ms)',
      fixed(ftt.agentos.p50, 2),
      fixed(ftt.proxy.p50, 2),
      ratio(ftt.agentos.p50, ftt.proxy.p50),
    ),
    row(
      '2. first content p95 (ms)',
      fixed(ftt.agentos.p95, 2),
      fixed(ftt.proxy.p95, 2),
      ratio(ftt.agentos.p95, ftt.proxy.p95),
    ),
    row('2. failed streams', String(latency.errors.agentos.count), String(latency.errors.proxy.count)),
    row(
      '3. RSS 3 s after start (MB)',
      fixed(rssIdle.agentos),
      fixed(rssIdle.proxy),
      ratio(rssIdle.agentos, rssIdle.proxy),
    ),
    row(
      '3. RSS right after the load (MB)',
      fixed(rssLoaded.agentos),
      fixed(rssLoaded.proxy),
      ratio(rssLoaded.agentos, rssLoaded.proxy),
    ),
    row(
      '3. RSS 3 s after the load (MB)',
      fixed(rssAfterLoad.agentos),
      fixed(rssAfterLoad.proxy),
      ratio(rssAfterLoad.agentos, rssAfterLoad.proxy),
    ),
    row('4. run #1 of the session (ms)', fixed(early[0] ?? Number.NaN, 2)),
    row('4. median of runs #1..#21 (ms)', fixed(median(early), 2)),
    row('4. median of runs #1000..#1020 (ms)', fixed(median(late), 2)),
    row(
      '4. median, 21 fresh-session runs before/after (ms)',
      `${fixed(median(controlBefore), 2)}/${fixed(median(controlAfter), 2)}`,
    ),
    row('4. #1000..#1020 ÷ #1..#21', fixed(sessionRatio, 2)),
    row('5. heapUsed, 0 open streams (MB)', fixed(first.before / MB), fixed(proxyCycle.before / MB)),
    row(`5. heapUsed, ${OPEN_STREAMS} open streams (MB)`, fixed(first.open / MB), fixed(proxyCycle.open / MB)),
    row(
      '5. heap per open stream (KB)',
      fixed(heapPerStream),
      fixed(perStreamKb(proxyCycle)),
      ratio(heapPerStream, perStreamKb(proxyCycle)),
    ),
    row('5. heapUsed after abort, cycle 1 (MB)', fixed(first.after / MB), fixed(proxyCycle.after / MB)),
    row('5. heap per open stream, cycle 2 (KB)', fixed(perStreamKb(last))),
    row('5. heapUsed after abort, cycle 2 (MB)', fixed(last.after / MB)),
    row(
      '5. RSS 0 / open / aborted, cycle 1 (MB)',
      `${fixed(first.rss.before, 0)}/${fixed(first.rss.open, 0)}/${fixed(first.rss.after, 0)}`,
      `${fixed(proxyCycle.rss.before, 0)}/${fixed(proxyCycle.rss.open, 0)}/${fixed(proxyCycle.rss.after, 0)}`,
    ),
    row('5. abort → all released, cycle 1 (ms)', fixed(first.settleMs, 0), fixed(proxyCycle.settleMs, 0)),
  ];
  console.log(`\n${lines.join('\n')}`);

  console.log('\ndetails:');
  console.log(
    `  1: closed loop, ${CONCURRENCY} workers, ${WARM_MS / 1000} s warm-up + ${MEASURE_MS / 1000} s counted per round,` +
      ' order proxy, agentos, agentos, proxy; agentos runs must answer status completed with the upstream text',
  );
  for (const [index, round] of rounds.entries()) {
    if (round.errors.count > 0)
      console.log(`     round ${index + 1} ${round.system} failures: ${round.errors.describe()}`);
  }
  for (const kind of ['agentos', 'proxy'] as const) {
    if (latency.errors[kind].count > 0) console.log(`  2: ${kind} stream failures: ${latency.errors[kind].describe()}`);
  }
  console.log(
    `  4: ${sessionTotal} runs stored in the session (expected ${SESSION_RUNS}), ${sessionErrors.count} failed` +
      (sessionErrors.count > 0 ? `: ${sessionErrors.describe()}` : ''),
  );
  for (const [index, cycle] of cycles.entries()) {
    console.log(
      `  5: agentos cycle ${index + 1}: ${cycle.batch.delivered}/${cycle.batch.streams.length} streams delivered RunContent` +
        ` in ${fixed(cycle.batch.ms / 1000, 2)} s (${cycle.running} runs 'running' server-side);` +
        ` after the abort: ${cycle.upstreamDrops} upstream calls dropped, all released after ${fixed(cycle.settleMs, 0)} ms` +
        (cycle.batch.errors.count > 0 ? `; failures: ${cycle.batch.errors.describe()}` : ''),
    );
  }
  console.log(
    `  5: agentos run statuses at the end (${opened} streams opened incl. 8 warm-up): cancelled ${runStatus.cancelled},` +
      ` running ${runStatus.running}, pending ${runStatus.pending}, error ${runStatus.error}, completed ${runStatus.completed}`,
  );
  console.log(
    `  5: proxy: ${proxyCycle.batch.delivered}/${proxyCycle.batch.streams.length} streams delivered content in` +
      ` ${fixed(proxyCycle.batch.ms / 1000, 2)} s; ${proxyCycle.upstreamDrops} upstream calls dropped after the abort`,
  );
  console.log(`  agentos log (level warn): main ${mainLog.text}; heap ${heapLog.text}`);
  const exit = (stop: Awaited<ReturnType<typeof stopChild>>) =>
    `code ${stop.code}${stop.signal ? ` signal ${stop.signal}` : ''}${stop.forced ? ' (needed SIGKILL)' : ''}`;
  console.log(`  agentos exit on SIGTERM: main ${exit(mainStop)}, heap ${exit(heapStop)}`);

  console.log('\ntargets:');
  for (const line of [
    `1. throughput agentos ÷ proxy ≥ ${TARGETS.throughputRatio}: ${fixed(throughputRatio, 2)} → ${verdict(throughputRatio >= TARGETS.throughputRatio)}`,
    `2. added first-token p50 ≤ ${TARGETS.addedFirstTokenMs} ms: ${fixed(addedP50, 2)} ms → ${verdict(addedP50 <= TARGETS.addedFirstTokenMs)}`,
    `3. idle RSS ≤ ${TARGETS.idleRssMb} MB: ${fixed(rssIdle.agentos)} MB 3 s after start → ${verdict(rssIdle.agentos <= TARGETS.idleRssMb)} (3 s after the load: ${fixed(rssAfterLoad.agentos)} MB, the proxy ${fixed(rssAfterLoad.proxy)} MB)`,
    `4. run #1000 ÷ run #1 of a session ≤ ${TARGETS.sessionRatio}: ${fixed(sessionRatio, 2)} → ${verdict(sessionRatio <= TARGETS.sessionRatio)}`,
    `5. heap per open streaming run ≤ ${TARGETS.heapPerStreamKb} KB: ${fixed(heapPerStream)} KB → ${verdict(heapPerStream <= TARGETS.heapPerStreamKb)}`,
    `5. every aborted stream cancels its run and its upstream call: ${allCancelled ? 'yes' : 'NO'}`,
  ]) {
    console.log(`  ${line}`);
  }

  const problems: string[] = [];
  const agentosFailures =
    errorsOf('agentos') +
    latency.errors.agentos.count +
    sessionErrors.count +
    cycles.reduce((sum, cycle) => sum + cycle.batch.errors.count, 0);
  if (agentosFailures > 0) problems.push(`agentos failed ${agentosFailures} requests (see details)`);
  if (sessionTotal !== SESSION_RUNS) problems.push(`the session holds ${sessionTotal} runs, not ${SESSION_RUNS}`);
  if (!allCancelled)
    problems.push('aborted streams did not all end as cancelled runs with their upstream calls dropped');
  if (mainStop.forced || heapStop.forced) problems.push('agentos did not exit within 5 s of SIGTERM');
  if (mainLog.errors + heapLog.errors > 0) problems.push('agentos logged errors (see details)');
  const retained = (last.after - first.after) / MB;
  if (retained > 2) problems.push(`heapUsed after abort grew ${fixed(retained)} MB from cycle 1 to cycle 2 (leak?)`);
  if (problems.length > 0) console.log(`\nproblems:\n  ${problems.join('\n  ')}`);
} catch (error) {
  failed = true;
  console.error('benchmark failed:', error);
} finally {
  for (const child of [...children]) await stopChild(child);
  rmSync(dir, { recursive: true, force: true });
  console.log(
    `\ntotal time ${fixed((performance.now() - benchStarted) / 1000)} s; load average at the end: ${loadAverage()}`,
  );
}
process.exit(failed ? 1 : 0);
