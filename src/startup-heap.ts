/**
 * Start-up settings of V8 that keep an idle server small (bench/startup), restored once it listens.
 *
 * - Young generation: start-up allocates mostly objects that live on (modules, schemas, route tables), and V8
 *   answers a high survival rate by doubling the semi-spaces up to 2 × 16 MB, pages an idle server then keeps
 *   resident (about 14 MB of its idle RSS). With a growth factor of 1 they stay at 2 × 1 MB meanwhile.
 * - Compilers: start-up code runs once, yet the busiest of it reached Sparkplug and TurboFan, whose code and
 *   machine code pages then stayed resident (about 6 to 8 MB). Neither runs until the server listens.
 *
 * {@link endStartupHeap} restores V8's defaults, so under load the young generation grows and hot code is
 * optimised as usual. For `agentos serve` the bundle's entry begins it before any other module evaluates
 * (scripts/bundle.mjs); `startServer` ends it. A setting given as a node flag is left alone.
 * @module
 */
import { setFlagsFromString } from 'node:v8';

/** Each start-up setting: how to recognise an operator's own flag, the start-up value, V8's default. */
const SETTINGS = [
  { pattern: /semi[-_]space/, hold: '--semi-space-growth-factor=1', release: '--semi-space-growth-factor=2' },
  { pattern: /^--(no-)?(opt|turbofan)$/, hold: '--no-opt', release: '--opt' },
  { pattern: /^--(no-)?sparkplug$/, hold: '--no-sparkplug', release: '--sparkplug' },
] as const;

const held = new Set<(typeof SETTINGS)[number]>();

/** Applies the start-up settings until {@link endStartupHeap}; those the operator set as node flags are skipped. */
export function beginStartupHeap(): void {
  if (held.size > 0) return;
  for (const setting of SETTINGS) {
    if (process.execArgv.some((flag) => setting.pattern.test(flag))) continue;
    setFlagsFromString(setting.hold);
    held.add(setting);
  }
}

/** Restores V8's defaults for what {@link beginStartupHeap} changed, after start-up. */
export function endStartupHeap(): void {
  for (const setting of held) setFlagsFromString(setting.release);
  held.clear();
}
