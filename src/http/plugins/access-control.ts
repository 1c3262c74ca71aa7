/**
 * Authentication and scope enforcement for every route, before any handler code runs.
 * Routes declare `config.access` next to their schema; {@link requireDeclaredAccess} makes a
 * surface refuse to register a route without it, and {@link registerAuthentication} fails closed:
 * a route (or unknown path) with no `public` flag needs credentials.
 * @module
 */
import type { FastifyInstance } from 'fastify';
import {
  type Authenticator,
  formatRequirement,
  hasAnyScopeFor,
  hasScope,
  type Principal,
  parseRequirement,
  type ScopeRequirement,
} from '../../auth/index.js';
import { AgentOsError } from '../../errors/index.js';
import '../route-config.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated caller; null only on public routes. */
    principal: Principal | null;
  }
}

/** Makes the context throw at registration for a route that declares neither `public` nor a valid `scope`. */
export function requireDeclaredAccess(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    const access = route.config?.access;
    const where = `${String(route.method)} ${route.url}`;
    if (!access || (!access.public && !access.scope)) {
      throw new Error(`Route ${where} declares no access rule (config.access.public or config.access.scope)`);
    }
    if (access.scope) parseRequirement(access.scope);
  });
}

/** Installs the authentication hook on the root instance. */
export function registerAuthentication(app: FastifyInstance, authenticator: Authenticator): void {
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request) => {
    // CORS preflights carry no credentials by design.
    if (request.method === 'OPTIONS') return;
    const access = request.routeOptions.config?.access;
    if (access?.public) return;
    let authorization = request.headers.authorization;
    if (authorization === undefined && access?.tokenQuery) {
      const token = (request.query as Record<string, unknown> | undefined)?.token;
      if (typeof token === 'string' && token !== '') authorization = `Bearer ${token}`;
    }
    const principal = await authenticator.authenticate(authorization);
    request.principal = principal;
    if (!access?.scope) return;
    const requirement: ScopeRequirement = parseRequirement(access.scope);
    if (access.scopeParam) {
      const id = (request.params as Record<string, string | undefined>)[access.scopeParam];
      if (id !== undefined) requirement.id = id;
    }
    const allowed = access.anyId
      ? hasAnyScopeFor(principal.scopes, requirement.resource, requirement.action)
      : hasScope(principal.scopes, requirement);
    if (!allowed) {
      throw new AgentOsError(
        'AOS_AUTH_FORBIDDEN',
        `Insufficient permissions. Required scope: ${formatRequirement(requirement)}`,
        { details: { required: formatRequirement(requirement) } },
      );
    }
  });
}
