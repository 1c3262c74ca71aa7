/**
 * The run status machine, in one place: pending → running → completed | paused | cancelled | error,
 * paused → running (continue) | cancelled | error. Terminal states never change again.
 * @module
 */
import { AgentOsError } from '../errors/index.js';
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

/** Throws `AOS_RUN_INVALID_TRANSITION` unless the move is allowed. */
export function assertTransition(from: RunStatus, to: RunStatus): void {
  if (!canTransition(from, to)) {
    throw new AgentOsError('AOS_RUN_INVALID_TRANSITION', `A ${from} run cannot become ${to}`);
  }
}

/** True for statuses a run never leaves. */
export function isTerminal(status: RunStatus): boolean {
  return ALLOWED[status].length === 0;
}
