/**
 * Runs an engine binary to completion: arguments only (never a shell), optional stdin, stdout kept as
 * bytes, a time limit, and an `AbortSignal` that kills the process (barge-in cancels synthesis).
 * @module
 */
import { spawn } from 'node:child_process';

/** What a finished process left. */
export interface ProcessResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** Options of {@link runProcess}. */
export interface RunProcessOptions {
  stdin?: Buffer | string;
  signal?: AbortSignal | undefined;
  /** Kills the process after this many milliseconds (default 30 s, agtOS' STT timeout). */
  timeoutMs?: number;
}

/** Stdout beyond this is an engine gone wrong, not speech (10 minutes of 16 kHz audio is ~19 MB). */
const MAX_OUTPUT_BYTES = 64 * 1024 * 1024;

/**
 * Spawns `command args` and resolves when it exits. Rejects when it cannot start (ENOENT: not
 * installed), runs past its time, writes too much, or `signal` aborts.
 */
export function runProcess(command: string, args: string[], options: RunProcessOptions = {}): Promise<ProcessResult> {
  const { signal, timeoutMs = 30_000 } = options;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason ?? new Error('aborted'));
      return;
    }
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let size = 0;
    let stderr = '';
    let failure: Error | null = null;
    const stop = (error: Error) => {
      failure ??= error;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => stop(new Error(`${command} ran past ${timeoutMs} ms`)), timeoutMs);
    const onAbort = () => stop(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
    signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_OUTPUT_BYTES) stop(new Error(`${command} wrote more than ${MAX_OUTPUT_BYTES} bytes`));
      else chunks.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      // The tail is what explains a failure; keep it short.
      stderr = (stderr + chunk.toString('utf8')).slice(-4000);
    });
    // A process that exits before reading its input closes the pipe; that is reported by `close`.
    child.stdin.on('error', () => {});
    child.on('error', (error) => {
      failure ??= error;
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (failure) reject(failure);
      else resolve({ code, stdout: Buffer.concat(chunks), stderr });
    });
    child.stdin.end(options.stdin ?? '');
  });
}
