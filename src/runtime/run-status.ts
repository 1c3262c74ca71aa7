/**
 * The run status machine, in one place: pending → running → completed | paused | cancelled | error,
 * paused → running (continue) | cancelled | error. Terminal states never change again.
 * @module
 */
import type { RunStatus } from '../store/types.js';

const ALLOWED: Readonly<Record<RunStatus, readonly RunStatus[]>> = {
  pending: ['running', 'cancelled', 'error'],
  running: ['completed', 'paused', 'cancelled', 'error'],
  paused: ['running', 'cancelled', 'error'],
  completed: [],
  cancelled: [],
  error: [],
};

/** True when a run may move from `from` to `to`. */
export function canTransition(from: RunStatus, to: RunStatus): boolean {
  return ALLOWED[from].includes(to);
}
