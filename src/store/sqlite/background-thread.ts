/**
 * Puts the calling thread at background priority, for work nothing waits on (the trace worker's span
 * writes). Linux only: there `setpriority` and `sched_setscheduler` on thread id 0 or the thread's own id
 * change that thread alone; elsewhere they may lower the whole process, so other platforms are left alone.
 * @module
 */
import { execFileSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/**
 * Lowers the calling thread's priority as far as an unprivileged thread may.
 *
 * Nice 19 gives the thread a weight of 15 against a request thread's 1,024 in the kernel's fair scheduler;
 * the idle class (`SCHED_IDLE`) gives it 3, so it runs almost only on time the other threads leave. On a
 * machine whose cores the server shares with its clients that is worth about a point of runs/s in
 * bench/tracing (its README, seventh and eighth sessions). Node has no call for the scheduling class, so
 * util-linux's `chrt` sets it, once per thread, with the id `/proc/thread-self` names; without `chrt` (a
 * minimal image) the thread keeps nice 19. Lowering itself needs no privilege; where it is refused all the
 * same (some containers) the thread keeps its priority.
 */
export function runInBackground(): void {
  if (process.platform !== 'linux') return;
  try {
    setPriority(19);
    const threadId = readlinkSync('/proc/thread-self').split('/').pop();
    if (threadId) execFileSync('chrt', ['--idle', '-p', '0', threadId], { stdio: 'ignore', timeout: 5_000 });
  } catch {
    // Refused, or no `chrt`: what was set so far stays.
  }
}
