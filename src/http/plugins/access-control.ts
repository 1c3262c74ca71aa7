/**
 * Authentication and scope enforcement for every route, before any handler code runs.
 * Routes declare `config.access` next to their schema; {@link requireDeclaredAccess} makes a
 * surface refuse to register a route without it, and {@link registerAuthentication} fails closed:
 * a route (or unknown path) with no `public` flag needs credentials.
 * @module
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import FindMyWay from 'find-my-way';
import {
  type Authenticator,
  formatRequirement,
  hasAnyScopeFor,
  hasScope,
  isLoopbackHost,
  type Principal,
  parseRequirement,
  type ScopeRequirement,
} from '../../auth/index.js';
import { AgentOsError } from '../../errors/index.js';
import type { RouteAccess } from '../route-config.js';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The authenticated caller, acting in the request's effective workspace (`X-Workspace-ID` or its
     * own); null only on public routes.
     */
    principal: Principal | null;
  }
  interface FastifyInstance {
    /** Every route registered under {@link requireDeclaredAccess}, with its access rule (HEAD twins left out). */
    routeAccess: RegisteredRoute[];
  }
}

/** One entry of `app.routeAccess`: what the auth-matrix test walks. */
export interface RegisteredRoute {
  method: string;
  /** Full path with the prefix, Fastify syntax (`/agents/:agent_id/runs`). */
  url: string;
  access: RouteAccess;
}

/** The request header that names the workspace (CONTRACT.md §4, Automatos). */
export const WORKSPACE_HEADER = 'x-workspace-id';

/**
 * Makes the context throw at registration for a route that declares neither `public` nor a valid `scope`,
 * and records every route in `app.routeAccess` (decorated on the root by {@link registerAuthentication}).
 */
export function requireDeclaredAccess(app: FastifyInstance): void {
  if (!app.hasDecorator('routeAccess')) app.decorate('routeAccess', []);
  const registry = app.routeAccess;
  app.addHook('onRoute', (route) => {
    const access = route.config?.access;
    const where = `${String(route.method)} ${route.url}`;
    if (!access || (!access.public && !access.scope)) {
      throw new Error(`Route ${where} declares no access rule (config.access.public or config.access.scope)`);
    }
    if (access.scope) parseRequirement(access.scope);
    for (const method of [route.method].flat()) {
      const url = route.url;
      // Fastify adds a HEAD twin for every GET; it shares the GET's rule, so it is left out.
      if (method === 'HEAD' && registry.some((entry) => entry.method === 'GET' && entry.url === url)) continue;
      if (registry.some((entry) => entry.method === method && entry.url === url)) continue;
      registry.push({ method, url, access });
    }
  });
}

/** Host name of a `Host` or `Origin` value, without port or brackets. */
function hostnameOf(value: string): string {
  const withoutScheme = value.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  const host = withoutScheme.split('/')[0] ?? '';
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1);
  return host.split(':')[0] ?? '';
}

/**
 * Dev mode is open because only this machine can reach it; a web page in the developer's browser
 * can, though. Refuse requests whose `Host` is not a loopback name (DNS rebinding) or whose
 * `Origin` is another site (cross-site reads and form posts).
 */
function assertLocalCaller(request: FastifyRequest): void {
  const host = request.headers.host;
  if (host !== undefined && !isLoopbackHost(hostnameOf(host))) {
    throw new AgentOsError(
      'AOS_AUTH_FORBIDDEN',
      'Dev mode (no credentials) only answers requests addressed to a loopback host',
    );
  }
  const origin = request.headers.origin;
  // `Origin: null` (sandboxed frames, file: pages) is refused too: any site can produce it.
  if (origin !== undefined && !isLoopbackHost(hostnameOf(origin))) {
    throw new AgentOsError(
      'AOS_AUTH_FORBIDDEN',
      'Dev mode (no credentials) only answers pages served from this machine',
    );
  }
}

/** The workspace a request acts in: the principal's, as the authentication hook settled it. */
export function workspaceOf(request: FastifyRequest): string {
  return request.principal?.workspaceId ?? 'default';
}

/** The credential a request presented: its `Authorization` header, or `?token=` where the route allows it. */
function credentialOf(request: FastifyRequest, access: RouteAccess | undefined): string | undefined {
  const authorization = request.headers.authorization;
  if (authorization !== undefined || !access?.tokenQuery) return authorization;
  const token = (request.query as Record<string, unknown> | undefined)?.token;
  return typeof token === 'string' && token !== '' ? `Bearer ${token}` : undefined;
}

/**
 * Checks again that the credential a long-lived request (a WebSocket) opened with is still good: a key
 * revoked or expired since must not keep starting runs on a socket it opened. Throws as the
 * authentication hook does (401); a request the hook let through without a credential (dev mode,
 * public routes) passes.
 */
export async function reauthenticate(request: FastifyRequest, authenticator: Authenticator): Promise<void> {
  const principal = request.principal;
  if (!principal || principal.kind === 'dev') return;
  await authenticator.authenticate(credentialOf(request, request.routeOptions.config?.access));
}

/** Installs the authentication hook on the root instance. */
export function registerAuthentication(app: FastifyInstance, authenticator: Authenticator): void {
  app.decorateRequest('principal', null);
  // Child contexts see the root's array through the prototype chain, so every surface fills this one.
  if (!app.hasDecorator('routeAccess')) app.decorate('routeAccess', []);
  app.addHook('onRequest', async (request) => {
    // CORS preflights carry no credentials by design.
    if (request.method === 'OPTIONS') return;
    const access = request.routeOptions.config?.access;
    if (access?.public) return;
    const authorization = credentialOf(request, access);
    const header = request.headers[WORKSPACE_HEADER];
    // Node joins a repeated header with ", ", which then fails the id pattern: one workspace per request.
    const requested = Array.isArray(header) ? header.join(', ') : header;
    const principal = authenticator.selectWorkspace(await authenticator.authenticate(authorization), requested);
    if (principal.kind === 'dev') assertLocalCaller(request);
    request.principal = principal;
    if (!access?.scope) return;
    const { allowed, requirement } = checkAccess(
      principal,
      access,
      request.params as Record<string, string | undefined>,
    );
    if (!allowed) {
      throw new AgentOsError(
        'AOS_AUTH_FORBIDDEN',
        `Insufficient permissions. Required scope: ${formatRequirement(requirement)}`,
        { details: { required: formatRequirement(requirement) } },
      );
    }
  });
}

/** Whether `principal` passes a route's declared access with the route's path `params` (the rule of the hook above). */
function checkAccess(
  principal: Principal,
  access: RouteAccess,
  params: Record<string, string | undefined>,
): { allowed: boolean; requirement: ScopeRequirement } {
  if (access.public || !access.scope)
    return { allowed: true, requirement: { resource: '*', action: '*' } as ScopeRequirement };
  const requirement: ScopeRequirement = parseRequirement(access.scope);
  if (access.scopeParam) {
    const id = params[access.scopeParam];
    if (id !== undefined) requirement.id = id;
  }
  const allowed = access.anyId
    ? hasAnyScopeFor(principal.scopes, requirement.resource, requirement.action)
    : hasScope(principal.scopes, requirement);
  return { allowed, requirement };
}

const routers = new WeakMap<
  RegisteredRoute[],
  { size: number; router: FindMyWay.Instance<FindMyWay.HTTPVersion.V1> }
>();

/**
 * Whether `principal` could call `method path` of this server itself. Work done later on a caller's
 * behalf under a broader internal principal (a schedule's endpoint) is checked with this when it is
 * declared, so it can never do what its author could not. An unknown route is refused (fail closed).
 */
export function mayCallRoute(app: FastifyInstance, principal: Principal, method: string, path: string): boolean {
  const registry = app.routeAccess;
  let entry = routers.get(registry);
  if (!entry || entry.size !== registry.length) {
    const router = FindMyWay({ ignoreTrailingSlash: true, ignoreDuplicateSlashes: true });
    for (const route of registry) {
      try {
        router.on(route.method as FindMyWay.HTTPMethod, route.url, () => {}, { access: route.access });
      } catch {
        // A method find-my-way does not know cannot be a schedule's target either.
      }
    }
    entry = { size: registry.length, router };
    routers.set(registry, entry);
  }
  const found = entry.router.find(method.toUpperCase() as FindMyWay.HTTPMethod, path.split('?')[0] ?? path);
  if (!found) return false;
  const access = (found.store as { access: RouteAccess }).access;
  return checkAccess(principal, access, found.params).allowed;
}
