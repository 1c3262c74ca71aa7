/**
 * Rate limits (seed 000 GCRA, CONTRACT.md §5): per principal and request class, state in the store so
 * limits hold across replicas. Registered after authentication, so the principal is known; public
 * routes and CORS preflights are never limited (health checks must answer under load).
 *
 * Every limited response carries `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset`
 * (seconds until the bucket is full, seed 002). A refusal is `AOS_RATE_LIMITED` with `retryAfter`, which
 * the error handler turns into `Retry-After` and each surface's body. The limiter never fails open: when
 * the store cannot decide, the request is refused with `AOS_RATE_LIMITER_UNAVAILABLE` (503).
 * @module
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Principal } from '../../auth/index.js';
import { RATE_LIMIT_CLASSES, type RateLimitClass, type RateLimitConfig } from '../../config/index.js';
import { AgentOsError } from '../../errors/index.js';
import type { RateLimitStore } from '../../store/index.js';
import '../route-config.js';

/** Options of {@link registerRateLimit}. */
export interface RateLimitOptions {
  /** `rate_limits` of the config: `false`, or one rule (or `false`) per class. */
  rules: RateLimitConfig;
  /** Looked up on every request (`store.rateLimits`), so a test can swap `consume` at run time. */
  store: RateLimitStore;
  now?: () => number;
  /** How often full buckets are deleted from the store (default 10 minutes). */
  pruneIntervalMs?: number;
}

/** The class of a request: the route's declared class, else `read` for GET/HEAD and `write` for the rest. */
export function rateLimitClassOf(request: FastifyRequest): RateLimitClass {
  const declared = request.routeOptions.config?.rateLimitClass;
  if (declared !== undefined) return declared;
  return request.method === 'GET' || request.method === 'HEAD' ? 'read' : 'write';
}

/**
 * Whom a limit counts against: the authenticated principal (API key id, config key name, JWT `sub`), or
 * the client address when there is none (dev mode). `request.ip` honours `X-Forwarded-For` only when
 * `server.trust_proxy` is set, so a client cannot pick its own bucket by sending the header.
 */
export function rateLimitSubject(request: FastifyRequest): string {
  const principal = (request as FastifyRequest & { principal?: Principal | null }).principal;
  if (principal && principal.kind !== 'dev') return `${principal.kind}:${principal.id}`;
  return `ip:${request.ip}`;
}

/** Installs the limiter hook on the root instance; call after authentication is registered. */
export function registerRateLimit(app: FastifyInstance, options: RateLimitOptions): void {
  const { rules, store } = options;
  if (rules === false || RATE_LIMIT_CLASSES.every((name) => rules[name] === false)) return;
  const now = options.now ?? Date.now;
  const pruneIntervalMs = options.pruneIntervalMs ?? 10 * 60_000;
  let lastPrune = now();

  app.addHook('onRequest', async (request, reply) => {
    if (request.method === 'OPTIONS') return;
    const config = request.routeOptions.config;
    if (config?.access?.public) return;
    const rateLimitClass = rateLimitClassOf(request);
    const rule = rules[rateLimitClass];
    if (rule === false) return;
    const at = now();
    let decision: Awaited<ReturnType<RateLimitStore['consume']>>;
    try {
      decision = await store.consume(
        `${rateLimitClass}:${rateLimitSubject(request)}`,
        { limit: rule.limit, windowMs: rule.window_ms },
        at,
      );
    } catch (error) {
      throw new AgentOsError('AOS_RATE_LIMITER_UNAVAILABLE', 'The rate limiter is unavailable; request refused', {
        cause: error,
      });
    }
    reply.header('x-ratelimit-limit', String(decision.limit));
    reply.header('x-ratelimit-remaining', String(decision.remaining));
    reply.header('x-ratelimit-reset', String(Math.ceil(decision.resetMs / 1000)));
    if (at - lastPrune >= pruneIntervalMs) {
      lastPrune = at;
      store.prune(at).catch((error: unknown) => request.log.warn({ err: error }, 'rate-limit prune failed'));
    }
    if (!decision.allowed) {
      const retryAfter = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
      throw new AgentOsError('AOS_RATE_LIMITED', 'Too many requests', {
        details: { retryAfter, rateLimitClass },
      });
    }
  });
}
