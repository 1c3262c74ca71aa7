/**
 * User isolation (`auth.user_isolation`, research/agno.md §4): a non-admin caller with a user id (a JWT
 * `sub`) is pinned to it. What it creates carries that user whatever the request says, lists show only that
 * user's objects, and another user's object answers 404 like a missing one, so its existence does not leak.
 * API keys have no user id, so they are not pinned; admins never are. With isolation off nothing changes.
 * Routes call these helpers instead of repeating the rule.
 * @module
 */
import type { FastifyRequest } from 'fastify';
import { ADMIN_SCOPE } from '../auth/index.js';
import type { AgentOsConfig } from '../config/index.js';

/** The user the request is pinned to under user isolation, else undefined (isolation off, admin, no user id). */
export function effectiveUserId(request: FastifyRequest, config: AgentOsConfig): string | undefined {
  if (!config.auth.user_isolation) return undefined;
  const principal = request.principal;
  if (!principal?.userId || principal.scopes.includes(ADMIN_SCOPE)) return undefined;
  return principal.userId;
}

/** True when the record exists and, if `userId` is given, belongs to that user. */
export function isOwnedBy<T extends { userId: string | null }>(
  record: T | null | undefined,
  userId: string | undefined,
): record is T {
  return !!record && (userId === undefined || record.userId === userId);
}

/**
 * The record when it exists and, if `userId` is given, belongs to that user; otherwise the error of
 * `notFound` (a 404), the same answer for another user's object as for a missing one.
 */
export function assertOwnedBy<T extends { userId: string | null }>(
  record: T | null | undefined,
  userId: string | undefined,
  notFound: () => Error,
): T {
  if (!isOwnedBy(record, userId)) throw notFound();
  return record;
}
