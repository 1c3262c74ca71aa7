/**
 * Process and machine helpers the benchmarks share: a free loopback port, a child's resident memory, the
 * load average as printed, and bench/runs' scripted upstream and proxy bundled to plain `.mjs` files.
 * @module
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';

/** A TCP port free on 127.0.0.1 now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') return fail(new Error('no port'));
      server.close(() => done(address.port));
    });
  });
}

/** `VmRSS` of a process in MB; NaN once it is gone. */
export function rssMb(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN) / 1024;
  } catch {
    return Number.NaN;
  }
}

/** The 1, 5 and 15 minute load averages, as the benches print them. */
export const loadAverage = (): string =>
  loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');

/**
 * Bundles bench/runs' `upstream.ts` and `proxy.ts` (with test/fake-openai.ts and constants.ts) into
 * `upstream.mjs` and `proxy.mjs` in `outdir`, so those children run on bare node: no tsx loader thread
 * inflating the floor's memory or start-up.
 */
export async function bundleRunsChildren(outdir: string): Promise<void> {
  const { build } = await import('esbuild');
  const runs = resolve(import.meta.dirname, '../runs');
  await build({
    entryPoints: [join(runs, 'upstream.ts'), join(runs, 'proxy.ts')],
    outdir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'warning',
  });
}
