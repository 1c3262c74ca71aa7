import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { describe, expect, it, vi } from 'vitest';
import { BUSY_REQUESTS, releaseMemoryWhenIdle } from './idle-memory.js';

// A fresh process, as a server is right after start-up: a long-lived test worker has long since had
// its young generation shrunk by V8 itself.
const child = `
import { getHeapSpaceStatistics } from 'node:v8';
import { collectAllGarbage } from ${JSON.stringify(new URL('./idle-memory.ts', import.meta.url).href)};
const newSpace = () => getHeapSpaceStatistics().find((space) => space.space_name === 'new_space').space_size;
// A burst of long-lived allocations, as start-up makes, grows the young generation.
let kept = [];
for (let index = 0; index < 400_000; index++) kept.push({ index, label: 'item ' + index });
kept = [];
const grown = newSpace();
// The inspector session closes a turn after the collection; a deadlock there would never call back.
await new Promise((resolve) => collectAllGarbage(resolve));
console.log(JSON.stringify({ grown, after: newSpace() }));
`;

describe('idle memory release', () => {
  it('collectAllGarbage gives back the young generation a burst grew, and returns', () => {
    const output = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', child], {
      encoding: 'utf8',
      timeout: 15_000,
    });
    const { grown, after } = JSON.parse(output.trim().split('\n').at(-1) as string) as { grown: number; after: number };
    expect(grown).toBeGreaterThan(8 * 1024 * 1024);
    expect(after).toBeLessThan(grown / 4);
  });

  it('collects once after start-up and once after each busy spell, never while requests keep coming', () => {
    vi.useFakeTimers();
    const server = createServer();
    let collections = 0;
    const stop = releaseMemoryWhenIdle(server, 100, () => collections++);
    try {
      vi.advanceTimersByTime(100);
      expect(collections).toBe(1); // start-up's spell, once
      vi.advanceTimersByTime(500);
      expect(collections).toBe(1);
      // A few requests (health checks) do not make a busy spell.
      for (let tick = 0; tick < 5; tick++) {
        server.emit('request');
        vi.advanceTimersByTime(300);
      }
      expect(collections).toBe(1);
      // Requests in every interval: busy, so no collection meanwhile.
      for (let tick = 0; tick < 5; tick++) {
        for (let request = 0; request < BUSY_REQUESTS / 5; request++) server.emit('request');
        vi.advanceTimersByTime(100);
      }
      expect(collections).toBe(1);
      vi.advanceTimersByTime(100);
      expect(collections).toBe(2); // the burst's spell, once
      vi.advanceTimersByTime(1000);
      expect(collections).toBe(2);
      stop();
      server.emit('request');
      vi.advanceTimersByTime(1000);
      expect(collections).toBe(2);
    } finally {
      stop();
      vi.useRealTimers();
    }
  });
});
