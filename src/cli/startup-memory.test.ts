import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

// A fresh process, as a server is right after start-up: a long-lived test worker has long since had
// its young generation shrunk by V8 itself.
const child = `
import { getHeapSpaceStatistics } from 'node:v8';
import { releaseStartupMemory } from ${JSON.stringify(new URL('./startup-memory.ts', import.meta.url).href)};
const newSpace = () => getHeapSpaceStatistics().find((space) => space.space_name === 'new_space').space_size;
// A burst of long-lived allocations, as start-up makes, grows the young generation.
let kept = [];
for (let index = 0; index < 400_000; index++) kept.push({ index, label: 'item ' + index });
kept = [];
const grown = newSpace();
releaseStartupMemory(0);
await new Promise((resolve) => setTimeout(resolve, 100));
// The inspector session closes a turn after the collection; a deadlock there would stop this timer.
await new Promise((resolve) => setImmediate(resolve));
console.log(JSON.stringify({ grown, after: newSpace() }));
`;

describe('releaseStartupMemory', () => {
  it('gives back the young generation start-up grew, and the event loop keeps turning', () => {
    const output = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', child], {
      encoding: 'utf8',
      timeout: 15_000,
    });
    const { grown, after } = JSON.parse(output.trim().split('\n').at(-1) as string) as { grown: number; after: number };
    expect(grown).toBeGreaterThan(8 * 1024 * 1024);
    expect(after).toBeLessThan(grown / 4);
  });
});
