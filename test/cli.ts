/**
 * Runs the real `agentos` CLI in a child process (through tsx, so no build is needed).
 * @module
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = resolve(import.meta.dirname, '..');
const CLI = join(ROOT, 'src/cli/index.ts');
// tsx's loader by absolute URL: the CLI runs from temp folders where `--import tsx` would not resolve.
const TSX = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/esm/index.mjs')).href;

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI (through tsx, so no build is needed) with a clean environment. */
export function spawnCli(args: string[], cwd: string, env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, ['--import', TSX, CLI, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? cwd, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Runs the CLI to completion. */
export function runCli(args: string[], cwd: string, env: Record<string, string> = {}): Promise<Result> {
  const child = spawnCli(args, cwd, env);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  return new Promise((done) => child.on('close', (code) => done({ code, stdout, stderr })));
}

/** Starts `agentos serve --port 0` and reads the bound URL from its JSON log. */
export async function startServe(
  cwd: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ url: string; pid: number; stop: () => Promise<number | null>; kill: () => Promise<void> }> {
  const child = spawnCli(['serve', '--port', '0', ...args], cwd, env);
  let output = '';
  const url = await new Promise<string>((found, failed) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      failed(new Error(`server did not start: ${output}`));
    }, 15_000);
    const onData = (chunk: Buffer) => {
      output += chunk;
      const match = /"url":"(http:\/\/[^"]+)"/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        found(match[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', () => failed(new Error(`server exited: ${output}`)));
  });
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  return {
    url,
    pid: child.pid ?? -1,
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}
