/**
 * Scope grammar (research/agno.md §4): `resource:action` (global), `resource:<id>:action` (one
 * resource), `resource:*:action` (every resource of the type), and `admin`.
 * @module
 */
import { ADMIN_SCOPE } from './principal.js';

/** What a route needs: an action on a resource type, optionally on one resource id. */
export interface ScopeRequirement {
  resource: string;
  action: string;
  /** The resource id from the path (`agents/{agent_id}` → the agent id), when the route names one. */
  id?: string;
}

const SCOPE_PATTERN = /^(?:admin|[a-z_]+:[a-z_]+|[a-z_]+:(?:\*|[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}):[a-z_]+)$/;

/** True when the string is a well-formed scope. */
export function isValidScope(scope: string): boolean {
  return SCOPE_PATTERN.test(scope);
}

/** Parses `resource:action` (what routes declare) into a requirement. */
export function parseRequirement(scope: string): ScopeRequirement {
  // `admin` as a route scope means "admin only": no resource scope can satisfy it.
  if (scope === ADMIN_SCOPE) return { resource: ADMIN_SCOPE, action: ADMIN_SCOPE };
  const [resource, action, ...rest] = scope.split(':');
  if (!resource || !action || rest.length > 0) throw new Error(`Route scope "${scope}" is not resource:action`);
  return { resource, action };
}

/**
 * True when `granted` satisfies `required`. A global `agents:run` satisfies `agents:<id>:run`;
 * `agents:*:run` satisfies any id and the global form; `agents:x:run` satisfies only agent `x`.
 */
export function hasScope(granted: readonly string[], required: ScopeRequirement): boolean {
  for (const scope of granted) {
    if (scope === ADMIN_SCOPE) return true;
    // Ids may contain ':' themselves, so the resource is the first segment, the action the last.
    const first = scope.indexOf(':');
    const last = scope.lastIndexOf(':');
    if (first <= 0) continue;
    if (scope.slice(0, first) !== required.resource || scope.slice(last + 1) !== required.action) continue;
    if (first === last) return true;
    const id = scope.slice(first + 1, last);
    if (id === '*') return true;
    if (required.id !== undefined && id === required.id) return true;
  }
  return false;
}

/** True when `granted` allows `action` on at least one resource of the type (global, `*` or one id). */
export function hasAnyScopeFor(granted: readonly string[], resource: string, action: string): boolean {
  return granted.some(
    (scope) => scope === ADMIN_SCOPE || (scope.startsWith(`${resource}:`) && scope.endsWith(`:${action}`)),
  );
}

/** Renders a requirement for 403 messages: `agents:assistant:run` or `config:read`. */
export function formatRequirement(required: ScopeRequirement): string {
  if (required.resource === ADMIN_SCOPE) return ADMIN_SCOPE;
  return required.id === undefined
    ? `${required.resource}:${required.action}`
    : `${required.resource}:${required.id}:${required.action}`;
}
