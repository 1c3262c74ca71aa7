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

/** The roles, weakest first: each grants everything the one before it does (owner ⊇ admin ⊇ editor ⊇ viewer). */
export const ROLES = ['viewer', 'editor', 'admin', 'owner'] as const;

/** A role a JWT (`role` / `roles` claim), an API key or a service account may carry. */
export type Role = (typeof ROLES)[number];

/** Resource types of the scope grammar (research/agno.md §4, plus this server's own rooms). */
const RESOURCES = [
  'agents',
  'teams',
  'workflows',
  'sessions',
  'memories',
  'learnings',
  'knowledge',
  'evals',
  'components',
  'schedules',
  'approvals',
  'metrics',
  'traces',
  'config',
  'registry',
  'events',
] as const;

/** Resources whose `run` action exists. */
const RUNNABLE = ['agents', 'teams', 'workflows'] as const;

function scopesFor(resources: readonly string[], actions: readonly string[]): string[] {
  return resources.flatMap((resource) => actions.map((action) => `${resource}:${action}`));
}

const VIEWER_SCOPES = scopesFor(RESOURCES, ['read']);
const EDITOR_SCOPES = [...VIEWER_SCOPES, ...scopesFor(RESOURCES, ['write']), ...scopesFor(RUNNABLE, ['run'])];
/**
 * Everything inside the principal's own workspace, keys and service accounts included, but never the
 * `admin` scope: that one crosses workspaces and opens the server-wide routes (migrations, the audit log).
 */
const ADMIN_ROLE_SCOPES = [
  ...EDITOR_SCOPES,
  ...scopesFor(RESOURCES, ['delete']),
  ...scopesFor(['keys', 'service_accounts'], ['read', 'write', 'delete']),
  'mcp:connect',
];
/** Workspace administration on top of admin: members, settings and the workspace itself. */
const OWNER_SCOPES = [...ADMIN_ROLE_SCOPES, ...scopesFor(['workspaces'], ['read', 'write', 'delete'])];

/**
 * The role table: what each role expands to. Frozen, so no caller can widen a role at run time.
 *
 * | role   | grants                                                                  |
 * |--------|-------------------------------------------------------------------------|
 * | viewer | `<resource>:read` for every resource                                   |
 * | editor | viewer + `<resource>:write` + `agents|teams|workflows:run`               |
 * | admin  | editor + `<resource>:delete`, `keys:*`, `service_accounts:*`, `mcp:connect` (own workspace) |
 * | owner  | admin + `workspaces:read|write|delete`                                   |
 */
export const ROLE_SCOPES: Readonly<Record<Role, readonly string[]>> = Object.freeze({
  viewer: Object.freeze(VIEWER_SCOPES),
  editor: Object.freeze(EDITOR_SCOPES),
  admin: Object.freeze(ADMIN_ROLE_SCOPES),
  owner: Object.freeze(OWNER_SCOPES),
});

/** True when `value` names a role of {@link ROLES}. */
export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/**
 * The scopes of `roles` joined with the explicit `scopes`, without duplicates. Throws `unknown role`
 * for any name outside {@link ROLES}, so a typo fails closed instead of granting nothing silently.
 * An empty role list and an empty scope list give an empty set, which grants nothing.
 */
export function expandRoles(roles: readonly string[], scopes: readonly string[] = []): string[] {
  const granted = new Set<string>(scopes);
  for (const role of roles) {
    if (!isRole(role)) throw new Error(`unknown role "${role}"`);
    for (const scope of ROLE_SCOPES[role]) granted.add(scope);
  }
  return [...granted];
}

/** True when every scope of `wanted` is covered by `granted` (a principal may only hand out what it holds). */
export function coversScopes(granted: readonly string[], wanted: readonly string[]): boolean {
  return wanted.every((scope) => {
    if (scope === ADMIN_SCOPE) return granted.includes(ADMIN_SCOPE);
    const first = scope.indexOf(':');
    const last = scope.lastIndexOf(':');
    const resource = scope.slice(0, first);
    const action = scope.slice(last + 1);
    if (first === last) return hasScope(granted, { resource, action });
    const id = scope.slice(first + 1, last);
    // `resource:*:action` is as broad as the global form.
    return id === '*' ? hasScope(granted, { resource, action }) : hasScope(granted, { resource, action, id });
  });
}
