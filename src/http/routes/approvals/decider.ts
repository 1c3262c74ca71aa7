import type { FastifyRequest } from 'fastify';
import type { Decider } from '../../../approvals/service.js';
import { hasScope, parseRequirement } from '../../../auth/index.js';

const APPROVALS_WRITE = parseRequirement('approvals:write');

/**
 * Who decides: a JWT caller is recorded as its subject whatever the body says (Agno overwrites
 * `resolved_by` with the `sub`); other callers may name the person they act for.
 */
export function deciderOf(request: FastifyRequest, named?: string): Decider {
  const principal = request.principal;
  const id = principal?.id ?? 'anonymous';
  const resolvedBy = principal?.kind === 'jwt' ? (principal.userId ?? id) : (named ?? id);
  return { principal: id, resolvedBy };
}

/** True when the caller may decide approvals (and so continue a run whose approval is pending). */
export function canApprove(request: FastifyRequest): boolean {
  return hasScope(request.principal?.scopes ?? [], APPROVALS_WRITE);
}
