/**
 * Puts the calling thread at background priority, for work nothing waits on (the trace worker's span
 * writes). Linux only: there `setpriority` and `sched_setscheduler` on thread id 0 or the thread's own id
 * change that thread alone; elsewhere they may lower the whole process, so other platforms are left alone.
 * @module
 */
import { execFileSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/** What the thread got: Linux's idle scheduling class, only the lowest nice value, or nothing. */
export type BackgroundPriority = 'idle' | 'nice' | 'normal';

/**
 * Lowers the calling thread's priority as far as an unprivileged thread may.
 *
 * Nice 19 gives the thread a weight of 15 against a request thread's 1,024 in the kernel's fair scheduler;
 * the idle class (`SCHED_IDLE`) gives it 3, so it runs almost only on time the other threads leave. On a
 * machine whose cores the server shares with its clients that is worth about a point of runs/s in
 * bench/tracing (compare mode, the README's seventh and eighth sessions). Node has no call for the
 * scheduling class, so util-linux's `chrt` sets it, once per thread, with the id `/proc/thread-self`
 * names; without `chrt` (a minimal image) the thread keeps nice 19. An unprivileged thread may always
 * lower itself, and never raise itself back.
 */
export function runInBackground(): BackgroundPriority {
  if (process.platform !== 'linux') return 'normal';
  try {
    setPriority(19);
  } catch {
    // Not permitted (some containers): normal priority, and no idle class either.
    return 'normal';
  }
  try {
    const threadId = readlinkSync('/proc/thread-self').split('/').pop();
    if (!threadId) return 'nice';
    execFileSync('chrt', ['--idle', '-p', '0', threadId], { stdio: 'ignore', timeout: 5_000 });
    return 'idle';
  } catch {
    return 'nice';
  }
}
