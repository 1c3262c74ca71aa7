import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { describe, expect, it, vi } from 'vitest';
import { releaseStartupMemory } from './idle-memory.js';

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

  it('collects once, after the first quiet interval, never while requests keep coming', () => {
    vi.useFakeTimers();
    const server = createServer();
    let collections = 0;
    const stop = releaseStartupMemory(server, 100, () => collections++);
    try {
      // Requests in every interval (start-up traffic): no collection meanwhile.
      for (let tick = 0; tick < 5; tick++) {
        server.emit('request');
        vi.advanceTimersByTime(100);
      }
      expect(collections).toBe(0);
      vi.advanceTimersByTime(100);
      expect(collections).toBe(1);
      // A burst and a quiet spell later: not again (a collection after a burst slows the next one).
      for (let tick = 0; tick < 5; tick++) {
        for (let request = 0; request < 20; request++) server.emit('request');
        vi.advanceTimersByTime(100);
      }
      vi.advanceTimersByTime(1000);
      expect(collections).toBe(1);
      expect(server.listenerCount('request')).toBe(0);
    } finally {
      stop();
      vi.useRealTimers();
    }
  });
});
