// Preloaded into the agentos process by bench/runs/run.ts (`node --expose-gc --import bench/runs/heap-probe.mjs`):
// on SIGUSR2 it runs two full GCs and writes `process.memoryUsage().heapUsed` (bytes) to $HEAP_PROBE_FILE.
import { renameSync, writeFileSync } from 'node:fs';

const file = process.env.HEAP_PROBE_FILE;
if (file && typeof globalThis.gc === 'function') {
  process.on('SIGUSR2', () => {
    globalThis.gc();
    globalThis.gc();
    const { heapUsed } = process.memoryUsage();
    // Write then rename, so the reader never sees a half-written number.
    writeFileSync(`${file}.tmp`, String(heapUsed));
    renameSync(`${file}.tmp`, file);
  });
}
