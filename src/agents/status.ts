/**
 * The status machine of database agents (Automatos docs, research/agtos-automatos.md §2.3, which its
 * code never enforced): active ↔ idle ↔ failed, an active agent may fail, a failed one is reset to idle
 * before it is activated again, and deleted is final.
 * @module
 */
import { AgentOsError } from '../errors/index.js';
import type { StoredAgentStatus } from '../store/types.js';

const ALLOWED: Record<StoredAgentStatus, readonly StoredAgentStatus[]> = {
  active: ['idle', 'failed', 'deleted'],
  idle: ['active', 'failed', 'deleted'],
  failed: ['idle', 'deleted'],
  deleted: [],
};

/** True when an agent may move from `from` to `to` (staying put is always allowed, except once deleted). */
export function canMoveAgent(from: StoredAgentStatus, to: StoredAgentStatus): boolean {
  return (from === to && from !== 'deleted') || ALLOWED[from].includes(to);
}

/** Throws `AOS_AGENT_INVALID_TRANSITION` (400) when the move is not allowed. */
export function assertAgentTransition(agentId: string, from: StoredAgentStatus, to: StoredAgentStatus): void {
  if (canMoveAgent(from, to)) return;
  const allowed = ALLOWED[from];
  throw new AgentOsError(
    'AOS_AGENT_INVALID_TRANSITION',
    from === 'deleted'
      ? `Agent ${agentId} is deleted; a deleted agent cannot change`
      : `Agent ${agentId} cannot move from ${from} to ${to} (allowed: ${allowed.join(', ')})`,
    { details: { from, to, allowed } },
  );
}
