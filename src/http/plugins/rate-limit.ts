/**
 * Rate limits (seed 000 GCRA, CONTRACT.md §5): per principal and request class, state in the store so
 * limits hold across replicas. Registered after authentication, so the principal is known; public
 * routes and CORS preflights are never limited (health checks must answer under load).
 *
 * Every limited response carries `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset`
 * (seconds until the bucket is full, seed 002). A refusal is `AOS_RATE_LIMITED` with `retryAfter`, which
 * the error handler turns into `Retry-After` and each surface's body. The limiter never fails open: when
 * the store cannot decide, the request is refused with `AOS_RATE_LIMITER_UNAVAILABLE` (503).
 *
 * The most specific rule wins ({@link resolveRateLimit}): the caller's own rule for the route
 * (`rate_limits.keys.<id>.routes`), the route's rule (`rate_limits.routes`), the caller's rule for the class
 * (`rate_limits.keys.<id>.<class>`), then the class rule. A route rule counts in a bucket of its own.
 * @module
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { callerSubjectOf, configuredKeyOf, type Principal } from '../../auth/index.js';
import {
  RATE_LIMIT_CLASSES,
  type RateLimitClass,
  type RateLimitConfig,
  type RateLimitRule,
} from '../../config/index.js';
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
  if (principal && principal.kind !== 'dev') return callerSubjectOf(principal);
  return `ip:${request.ip}`;
}

/** The rule a request counts against and the bucket it counts in. */
export interface AppliedRateLimit {
  /** Store key: `<class>:<subject>`, or `route:<METHOD path>:<subject>` for a route rule. */
  bucket: string;
  rule: RateLimitRule;
  rateLimitClass: RateLimitClass;
}

/**
 * Picks the most specific rule for the request, or `null` when that rule is `false` (not limited): the
 * caller's route rule, the route rule, the caller's class rule, the class rule. Callers are matched by
 * key (API key id, config key name; never a JWT `sub`); routes by `METHOD /path` as Fastify registered it.
 */
export function resolveRateLimit(
  rules: Exclude<RateLimitConfig, false>,
  request: FastifyRequest,
): AppliedRateLimit | null {
  const rateLimitClass = rateLimitClassOf(request);
  const subject = rateLimitSubject(request);
  const keyRules = callerRules(rules, request);
  const url = request.routeOptions.url;
  const route = url === undefined ? undefined : `${request.method} ${url}`;
  const routeRule = route === undefined ? undefined : (keyRules?.routes?.[route] ?? rules.routes?.[route]);
  if (route !== undefined && routeRule !== undefined) {
    return routeRule === false ? null : { bucket: `route:${route}:${subject}`, rule: routeRule, rateLimitClass };
  }
  const classRule = classRuleFor(rules, request, rateLimitClass);
  return classRule === false ? null : { bucket: `${rateLimitClass}:${subject}`, rule: classRule, rateLimitClass };
}

function callerRules(rules: Exclude<RateLimitConfig, false>, request: FastifyRequest) {
  const principal = (request as FastifyRequest & { principal?: Principal | null }).principal;
  // Only keys match `rate_limits.keys`: a JWT whose `sub` equals a key's name gets no key's rules.
  const key = principal ? configuredKeyOf(principal) : undefined;
  return key === undefined ? undefined : rules.keys?.[key];
}

/**
 * The rule of one class for the request's caller: its own (`rate_limits.keys.<id>.<class>`), else the class
 * rule; `false` when not limited. For runs started over an open socket, which count in the class bucket.
 */
export function classRuleFor(
  rules: RateLimitConfig,
  request: FastifyRequest,
  rateLimitClass: RateLimitClass,
): RateLimitRule | false {
  if (rules === false) return false;
  return callerRules(rules, request)?.[rateLimitClass] ?? rules[rateLimitClass];
}

function limitsNothing(rules: RateLimitConfig): boolean {
  if (rules === false) return true;
  const hasRouteRules = Object.keys(rules.routes ?? {}).length > 0;
  const hasKeyRules = Object.keys(rules.keys ?? {}).length > 0;
  return !hasRouteRules && !hasKeyRules && RATE_LIMIT_CLASSES.every((name) => rules[name] === false);
}

/** Installs the limiter hook on the root instance; call after authentication is registered. */
export function registerRateLimit(app: FastifyInstance, options: RateLimitOptions): void {
  const { rules, store } = options;
  if (rules === false || limitsNothing(rules)) return;
  const now = options.now ?? Date.now;
  const pruneIntervalMs = options.pruneIntervalMs ?? 10 * 60_000;
  let lastPrune = now();

  app.addHook('onRequest', async (request, reply) => {
    if (request.method === 'OPTIONS') return;
    const config = request.routeOptions.config;
    if (config?.access?.public) return;
    const applied = resolveRateLimit(rules, request);
    if (applied === null) return;
    const { bucket, rule, rateLimitClass } = applied;
    const at = now();
    let decision: Awaited<ReturnType<RateLimitStore['consume']>>;
    try {
      decision = await store.consume(bucket, { limit: rule.limit, windowMs: rule.window_ms }, at);
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
