// Scale-out benchmark (issue 12): blocking agent runs per second through 1 replica on SQLite (the baseline, measured
// in the same run), 1 replica on Postgres and 2 replicas on one Postgres, with the load spread over the replicas
// round-robin as a proxy would. Every replica is `node dist/agentos.mjs serve` in its own process; the agent uses the
// built-in offline model `local:default`, so the model costs nothing and what is measured is agentos plus its store.
// Postgres is a throwaway apt cluster (test/pg-cluster.ts). On a machine with few cores all of it shares the same
// CPUs, so the figures are ratios, and the CPU seconds per component say where the time goes (the bottleneck).
// Usage: npm run bench:scale  (or: node --import tsx bench/scale/run.ts after `npm run build`; needs root or the
// postgres user's binaries, like the Postgres tests)
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createTestDatabase, startPgCluster } from '../../test/pg-cluster.js';

const root = resolve(import.meta.dirname, '../..');
// SCALE_FROM_SOURCE=1 runs the replicas from src/ through tsx (same steady state, slower start), for when the
// build is not available.
const fromSource = process.env.SCALE_FROM_SOURCE === '1';
const cli = fromSource ? join(root, 'src/cli/index.ts') : join(root, 'dist/agentos.mjs');
const loader = fromSource ? ['--import', pathToFileURL(join(root, 'node_modules/tsx/dist/esm/index.mjs')).href] : [];
if (!existsSync(cli)) {
  console.error('dist/agentos.mjs is missing: run `npm run build` first');
  process.exit(1);
}
const dir = mkdtempSync(join(tmpdir(), 'agentos-bench-scale-'));

const CONCURRENCY = Number(process.env.SCALE_CONCURRENCY ?? 16);
const WARM_MS = 2_000;
const MEASURE_MS = Number(process.env.SCALE_MEASURE_MS ?? 8_000);
const REQUEST_TIMEOUT_MS = 15_000;
const ROUNDS = Number(process.env.SCALE_ROUNDS ?? 2);
const CLOCK_TICKS = 100; // USER_HZ on Linux

writeFileSync(
  join(dir, 'agentos.config.yaml'),
  [
    'agents:',
    '  - id: bench',
    '    model: local:default',
    '    instructions: Answer briefly.',
    '    history_runs: 0',
    'rate_limits: false',
    'log_level: warn',
    '',
  ].join('\n'),
);

// ---------------------------------------------------------------------------------------------------------------
// Processes and their CPU time

/** utime + stime of a process in seconds (0 once it is gone). */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/** The postmaster and every backend it forked, summed. */
function postgresCpuSeconds(postmaster: number): number {
  let total = cpuSeconds(postmaster);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === postmaster) total += cpuSeconds(Number(entry));
    } catch {
      // The backend exited between listing and reading.
    }
  }
  return total;
}

interface Replica {
  proc: ChildProcess;
  url: string;
}

function startReplica(dbUrl: string): Promise<Replica> {
  const proc = spawn(process.execPath, [...loader, cli, 'serve', '--port', '0', '--db', dbUrl], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', HOME: dir, AGENTOS_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((found, failed) => {
    const timer = setTimeout(() => failed(new Error(`replica did not start: ${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk;
      const match = /"url":"(http:\/\/[^"]+)"/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        found({ proc, url: match[1] });
      }
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
    proc.on('exit', () => failed(new Error(`replica exited: ${output}`)));
  });
}

async function stopReplica(replica: Replica): Promise<void> {
  const exited = new Promise((done) => replica.proc.once('exit', done));
  replica.proc.kill('SIGTERM');
  await exited;
}

// ---------------------------------------------------------------------------------------------------------------
// Load: a closed loop of blocking runs, spread round-robin over the replicas

const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });

function runOnce(url: string, index: number): Promise<void> {
  const body = JSON.stringify({ message: `question ${index}: what is two plus two?`, stream: false });
  return new Promise((done, fail) => {
    const req = request(
      `${url}/agents/bench/runs`,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        timeout: REQUEST_TIMEOUT_MS,
      },
      (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? done() : fail(new Error(`status ${res.statusCode}`))));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', fail);
    req.end(body);
  });
}

interface Measurement {
  label: string;
  runsPerSecond: number;
  errors: number;
  cpu: { agentos: number; postgres: number; client: number };
}

async function measure(label: string, replicas: Replica[], postmaster?: number): Promise<Measurement> {
  let next = 0;
  let completed = 0;
  let errors = 0;
  let counting = false;
  let stopping = false;
  const worker = async () => {
    while (!stopping) {
      const index = next++;
      const replica = replicas[index % replicas.length] as Replica;
      try {
        await runOnce(replica.url, index);
        if (counting) completed++;
      } catch {
        if (counting) errors++;
      }
    }
  };
  const workers = Array.from({ length: CONCURRENCY }, worker);
  await new Promise((done) => setTimeout(done, WARM_MS));
  const before = {
    agentos: replicas.reduce((sum, replica) => sum + cpuSeconds(replica.proc.pid ?? 0), 0),
    postgres: postmaster === undefined ? 0 : postgresCpuSeconds(postmaster),
    client: process.cpuUsage(),
  };
  counting = true;
  const started = performance.now();
  await new Promise((done) => setTimeout(done, MEASURE_MS));
  counting = false;
  const seconds = (performance.now() - started) / 1000;
  const client = process.cpuUsage(before.client);
  const cpu = {
    agentos: replicas.reduce((sum, replica) => sum + cpuSeconds(replica.proc.pid ?? 0), 0) - before.agentos,
    postgres: postmaster === undefined ? 0 : postgresCpuSeconds(postmaster) - before.postgres,
    client: (client.user + client.system) / 1e6,
  };
  stopping = true;
  await Promise.all(workers);
  const result = { label, runsPerSecond: completed / seconds, errors, cpu };
  const per = (value: number) => `${((value / Math.max(completed, 1)) * 1000).toFixed(2)} ms`;
  console.log(
    `${label.padEnd(26)} ${result.runsPerSecond.toFixed(1).padStart(7)} runs/s  errors ${errors}  ` +
      `CPU per run: agentos ${per(cpu.agentos)}, postgres ${per(cpu.postgres)}, load client ${per(cpu.client)}`,
  );
  return result;
}

// ---------------------------------------------------------------------------------------------------------------

/** The better of two rounds: other load on a shared machine only ever slows a round down. */
function best(rounds: Measurement[]): Measurement {
  return rounds.reduce((a, b) => (b.runsPerSecond > a.runsPerSecond ? b : a));
}

async function main(): Promise<void> {
  console.log(
    `bench/scale: ${cpus().length} CPUs (load average ${loadavg()[0]?.toFixed(1)} before start), concurrency ${CONCURRENCY}, ` +
      `${WARM_MS / 1000} s warm-up + ${MEASURE_MS / 1000} s per configuration, ${ROUNDS} interleaved rounds`,
  );
  const cluster = await startPgCluster();
  try {
    const single = await createTestDatabase(cluster.adminUrl);
    const shared = await createTestDatabase(cluster.adminUrl);
    const rounds: Measurement[][] = [[], [], []];
    for (let round = 0; round < ROUNDS; round++) {
      const sqlite = await startReplica(`sqlite:${join(dir, 'bench.db')}`);
      rounds[0]?.push(await measure('1 replica, SQLite', [sqlite]));
      await stopReplica(sqlite);

      const one = await startReplica(single.url);
      rounds[1]?.push(await measure('1 replica, Postgres', [one], cluster.pid()));
      await stopReplica(one);

      const a = await startReplica(shared.url);
      const b = await startReplica(shared.url);
      rounds[2]?.push(await measure('2 replicas, one Postgres', [a, b], cluster.pid()));
      await Promise.all([stopReplica(a), stopReplica(b)]);
    }

    const [base, pg1, pg2] = rounds.map(best) as [Measurement, Measurement, Measurement];
    const ratio = (x: Measurement, y: Measurement) => (x.runsPerSecond / y.runsPerSecond).toFixed(2);
    console.log('');
    console.log(
      `best of ${ROUNDS}: SQLite ${base.runsPerSecond.toFixed(1)}, 1×Postgres ${pg1.runsPerSecond.toFixed(1)}, 2×Postgres ${pg2.runsPerSecond.toFixed(1)} runs/s`,
    );
    console.log(`ratio 1×Postgres ÷ 1×SQLite:   ${ratio(pg1, base)}`);
    console.log(`ratio 2×Postgres ÷ 1×SQLite:   ${ratio(pg2, base)}`);
    console.log(`ratio 2×Postgres ÷ 1×Postgres: ${ratio(pg2, pg1)}`);
    const seconds = MEASURE_MS / 1000;
    for (const m of [base, pg1, pg2]) {
      const total = m.cpu.agentos + m.cpu.postgres + m.cpu.client;
      console.log(
        `${m.label}: ${(total / seconds).toFixed(2)} of ${cpus().length} CPUs used by the benchmark; ` +
          `agentos ${((m.cpu.agentos / total) * 100).toFixed(0)}%, postgres ${((m.cpu.postgres / total) * 100).toFixed(0)}%, ` +
          `client ${((m.cpu.client / total) * 100).toFixed(0)}%`,
      );
    }
    // CPU per run, not wall time, is what a bigger machine buys: it tells how many runs one core of each side serves.
    const perCore = (cpuSeconds: number, runs: number) => (runs / cpuSeconds).toFixed(0);
    const runs1 = pg1.runsPerSecond * seconds;
    console.log(
      `capacity per CPU core (1×Postgres round): agentos ${perCore(pg1.cpu.agentos, runs1)} runs/s, ` +
        `postgres ${perCore(pg1.cpu.postgres, runs1)} runs/s`,
    );
    // Where the time went, from the figures rather than assumed: a saturated event loop (one core per replica), a
    // saturated machine, or neither (latency bound).
    for (const [m, count] of [
      [base, 1],
      [pg1, 1],
      [pg2, 2],
    ] as const) {
      const perReplica = m.cpu.agentos / seconds / count;
      const used = (m.cpu.agentos + m.cpu.postgres + m.cpu.client) / seconds;
      const reason =
        perReplica >= 0.85
          ? `each agentos event loop is saturated (${perReplica.toFixed(2)} cores per replica): add replicas on more cores`
          : used >= cpus().length * 0.85
            ? `the machine's ${cpus().length} CPUs are saturated: replicas only share them`
            : `neither the event loop (${perReplica.toFixed(2)} cores per replica) nor this benchmark's share of the CPUs (${used.toFixed(2)}) is saturated: other load on the machine or round trips to the store bound it`;
      console.log(`bottleneck, ${m.label}: ${reason}`);
    }
  } finally {
    cluster.stop();
    agent.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
