#!/usr/bin/env node
// Startup benchmark: cold start (spawn → first 200 on /health) and idle RSS of `agentos serve`,
// next to a bare node:http server started the same way in the same run. Rounds are interleaved so
// both see the same machine state. Targets: cold start ≤ 300 ms and idle RSS ≤ 70 MB (issue 3); idle RSS ≤ 80 MB
// (issue 4). What keeps idle RSS down: lazily loaded chunks and stand-ins (scripts/bundle.mjs; the bundler's
// dist/agentos.meta.json says what went where).
// Usage: npm run bench  (or: node bench/startup/run.mjs [--rounds N] [--idle-ms MS] after a build)
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const cli = join(root, 'dist/agentos.mjs');
if (!existsSync(cli)) {
  console.error('dist/ is missing: run `npm run build` first');
  process.exit(1);
}
const roundsFlag = process.argv.indexOf('--rounds');
const rounds = roundsFlag > 0 ? Number(process.argv[roundsFlag + 1]) : 7;
// How long the server sits idle before RSS is read; --idle-ms 30000 lets V8's memory reducer run first.
const idleFlag = process.argv.indexOf('--idle-ms');
const IDLE_MS = idleFlag > 0 ? Number(process.argv[idleFlag + 1]) : 1500;

function freePort() {
  return new Promise((done) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });
}

function healthOk(port, path) {
  return new Promise((done) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET' }, (res) => {
      res.resume();
      res.on('end', () => done(res.statusCode === 200));
    });
    req.on('error', () => done(false));
    req.end();
  });
}

function rssMb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

async function measure(kind) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'agentos-bench-'));
  const args =
    kind === 'agentos'
      ? [cli, 'serve', '--port', String(port), '--db', `sqlite:${join(dir, 'bench.db')}`]
      : [
          '-e',
          `require('node:http').createServer((q,s)=>{s.setHeader('content-type','application/json');s.end('{"status":"ok"}')}).listen(${port},'127.0.0.1')`,
        ];
  const started = performance.now();
  const child = spawn(process.execPath, args, {
    cwd: dir,
    stdio: 'ignore',
    env: { PATH: process.env.PATH, AGENTOS_LOG_LEVEL: 'warn' },
  });
  let ready = false;
  while (!ready) {
    if (performance.now() - started > 20_000) throw new Error(`${kind} did not answer within 20 s`);
    ready = await healthOk(port, '/health');
    if (!ready) await new Promise((r) => setTimeout(r, 2));
  }
  const coldMs = performance.now() - started;
  await new Promise((r) => setTimeout(r, IDLE_MS));
  const rss = rssMb(child.pid);
  const exited = new Promise((done) => child.on('exit', done));
  child.kill('SIGTERM');
  await exited;
  rmSync(dir, { recursive: true, force: true });
  return { coldMs, rss };
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

const results = { baseline: [], agentos: [] };
await measure('agentos'); // warm the OS file cache once so round 1 is not an outlier
for (let round = 0; round < rounds; round++) {
  for (const kind of round % 2 ? ['agentos', 'baseline'] : ['baseline', 'agentos']) {
    results[kind].push(await measure(kind));
  }
}

const summary = Object.fromEntries(
  Object.entries(results).map(([kind, list]) => [
    kind,
    { coldMs: median(list.map((item) => item.coldMs)), rss: median(list.map((item) => item.rss)) },
  ]),
);
console.log(`startup benchmark, ${rounds} interleaved rounds, medians (node ${process.version})`);
console.log('system     cold start (ms)   idle RSS (MB)');
for (const [kind, value] of Object.entries(summary)) {
  console.log(`${kind.padEnd(10)} ${value.coldMs.toFixed(1).padStart(15)}   ${value.rss.toFixed(1).padStart(13)}`);
}
console.log(
  `ratio agentos/baseline: cold start ${(summary.agentos.coldMs / summary.baseline.coldMs).toFixed(2)}x, ` +
    `RSS ${(summary.agentos.rss / summary.baseline.rss).toFixed(2)}x`,
);
console.log(
  `targets: cold start ≤ 300 ms: ${summary.agentos.coldMs <= 300 ? 'met' : 'MISSED'}; ` +
    `idle RSS ≤ 70 MB (issue 3): ${summary.agentos.rss <= 70 ? 'met' : 'MISSED'}; ` +
    `idle RSS ≤ 80 MB (issue 4): ${summary.agentos.rss <= 80 ? 'met' : 'MISSED'}`,
);
