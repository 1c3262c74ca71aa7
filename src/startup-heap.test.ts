import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const moduleUrl = new URL('./startup-heap.ts', import.meta.url).href;

/** Runs a fresh node (its own V8 heap) that allocates survivors, and returns new space sizes in MB. */
function newSpaceSizes(script: string, nodeFlags: string[] = []): number[] {
  const output = execFileSync(
    process.execPath,
    [...nodeFlags, '--import', 'tsx', '--input-type=module', '-e', script],
    { cwd: fileURLToPath(new URL('..', import.meta.url)), encoding: 'utf8' },
  );
  return output.trim().split('\n').map(Number);
}

const helpers = `
import { getHeapSpaceStatistics } from 'node:v8';
import { beginStartupHeap, endStartupHeap } from ${JSON.stringify(moduleUrl)};
const newSpaceMb = () => getHeapSpaceStatistics().find((space) => space.space_name === 'new_space').space_size / 1048576;
const survivors = [];
const allocate = () => { for (let index = 0; index < 1e6; index++) survivors.push({ index, text: 'x' + index }); };
`;

describe('startup heap', () => {
  it('keeps the young generation at its initial size while held, and lets it grow after', () => {
    // Loading tsx may already have grown it a step: held means it grows no further.
    const [before, held, released] = newSpaceSizes(
      `${helpers}
console.log(newSpaceMb()); beginStartupHeap(); allocate(); console.log(newSpaceMb());
endStartupHeap(); allocate(); console.log(newSpaceMb());`,
    );
    expect(held).toBe(before);
    expect(released).toBeGreaterThan(held ?? Number.POSITIVE_INFINITY);
  }, 30_000);

  it('holds TurboFan back while held, and lets hot code be optimised after', () => {
    const output = execFileSync(
      process.execPath,
      [
        '--allow-natives-syntax',
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `import { beginStartupHeap, endStartupHeap } from ${JSON.stringify(moduleUrl)};
const hot = new Function('n', 'let sum = 0; for (let index = 0; index < n; index++) sum += index * 2; return sum');
const optimized = () => (new Function('f', 'return %GetOptimizationStatus(f)')(hot) & 16) !== 0;
beginStartupHeap(); for (let round = 0; round < 20000; round++) hot(1000); console.log(optimized());
endStartupHeap(); for (let round = 0; round < 20000; round++) hot(1000); console.log(optimized());`,
      ],
      { cwd: fileURLToPath(new URL('..', import.meta.url)), encoding: 'utf8' },
    );
    expect(output.trim().split('\n')).toEqual(['false', 'true']);
  }, 30_000);

  it('leaves a semi-space setting given as a node flag alone', () => {
    const [before, held] = newSpaceSizes(
      `${helpers}\nconsole.log(newSpaceMb()); beginStartupHeap(); allocate(); console.log(newSpaceMb());`,
      ['--max-semi-space-size=8'],
    );
    expect(held).toBeGreaterThan(before ?? Number.POSITIVE_INFINITY);
  }, 30_000);
});
