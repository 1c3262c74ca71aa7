/**
 * Keeps V8's young generation at its initial size while agentos starts. Start-up allocates mostly objects
 * that live on (modules, schemas, route tables), and V8 answers a high survival rate by doubling the
 * semi-spaces up to 2 × 16 MB, pages an idle server then keeps resident: about 14 MB of its idle RSS
 * (bench/startup). With a growth factor of 1 during start-up they stay at 2 × 1 MB; once the server
 * listens, {@link endStartupHeap} restores V8's default, so under load the young generation grows as
 * usual. The CLI entry begins it from its first import (`cli/hold-startup-heap.ts`), before the other
 * modules are evaluated. A growth factor or semi-space size given as a node flag is left alone.
 * @module
 */
import { setFlagsFromString } from 'node:v8';

/** V8's default `--semi-space-growth-factor`. */
const DEFAULT_GROWTH_FACTOR = 2;

const operatorTuned = process.execArgv.some((flag) => flag.includes('semi-space') || flag.includes('semi_space'));

let holding = false;

/** Stops the young generation from growing until {@link endStartupHeap}; a no-op when the operator tuned it. */
export function beginStartupHeap(): void {
  if (operatorTuned || holding) return;
  setFlagsFromString('--semi-space-growth-factor=1');
  holding = true;
}

/** Lets the young generation grow again (V8's default growth), after start-up. */
export function endStartupHeap(): void {
  if (!holding) return;
  setFlagsFromString(`--semi-space-growth-factor=${DEFAULT_GROWTH_FACTOR}`);
  holding = false;
}
