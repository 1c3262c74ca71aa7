/**
 * Builds the Fastify application from services; never listens (see `main.ts`). Tests call
 * `buildApp()` and `app.inject()`; the server entry adds `listen` and signal handling.
 * @module
 */
import { randomUUID } from 'node:crypto';
import cors from '@fastify/cors';
import websocket from '@fastify/websocket';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { registerAuthentication, requireDeclaredAccess } from './http/plugins/access-control.js';
import { registerBodyLimit } from './http/plugins/body-limit.js';
import { frameworkErrorHandler, registerSurfaceErrors } from './http/plugins/error-handler.js';
import { registerFormBodies } from './http/plugins/form-body.js';
import { registerJsonBody } from './http/plugins/json-body.js';
import { registerOpenApi } from './http/plugins/openapi.js';
import { registerQuota } from './http/plugins/quota.js';
import { registerRateLimit } from './http/plugins/rate-limit.js';
import { registerSecurityAudit } from './http/plugins/security-audit.js';
import { registerSecurityHeaders, requestIdFrom } from './http/plugins/security-headers.js';
import { a2aRoutes } from './http/routes/a2a/routes.js';
import { agtosRoutes } from './http/routes/agtos/routes.js';
import { apiAgentRoutes } from './http/routes/api/agents.js';
import { apiHealthRoutes, serviceHealthRoutes } from './http/routes/api/health.js';
import { apiPersonaPluginRoutes } from './http/routes/api/personas-plugins.js';
import { securityRoutes } from './http/routes/api/security.js';
import { apiApprovalRoutes } from './http/routes/approvals/api-routes.js';
import { approvalRoutes } from './http/routes/approvals/routes.js';
import { catalogRoutes } from './http/routes/catalog/routes.js';
import { chatRoutes } from './http/routes/chat/routes.js';
import { componentRoutes } from './http/routes/components/routes.js';
import { consoleRoutes } from './http/routes/console/routes.js';
import { coreRoutes } from './http/routes/core/routes.js';
import { costsRoutes } from './http/routes/costs/routes.js';
import { evalRoutes } from './http/routes/evals/routes.js';
import { knowledgeRoutes } from './http/routes/knowledge/routes.js';
import { mcpRoutes } from './http/routes/mcp/routes.js';
import { apiMemoryRoutes } from './http/routes/memory/api-routes.js';
import { memoryRoutes } from './http/routes/memory/routes.js';
import { apiMetricsRoutes, metricsRoutes } from './http/routes/metrics/routes.js';
import { openAiRoutes } from './http/routes/openai/routes.js';
import { runRoutes } from './http/routes/runs/routes.js';
import { schedulerApiRoutes } from './http/routes/schedules/api-routes.js';
import { scheduleRoutes } from './http/routes/schedules/routes.js';
import { serviceAccountRoutes } from './http/routes/service-accounts/routes.js';
import { sessionRoutes } from './http/routes/sessions/routes.js';
import { teamRunRoutes } from './http/routes/teams/routes.js';
import { traceRoutes } from './http/routes/traces/routes.js';
import { voiceApiRoutes } from './http/routes/voice/api-routes.js';
import { audioWsRoutes } from './http/routes/voice/audio-ws.js';
import { workflowApiRoutes } from './http/routes/workflows/api-routes.js';
import { workflowRunRoutes } from './http/routes/workflows/routes.js';
import { workflowWsRoutes } from './http/routes/workflows/ws.js';
import { wsRoutes } from './http/routes/ws/routes.js';
import { registerRequestMetrics } from './observability/index.js';
import type { Services } from './services.js';

// Fastify types these factories after Ajv's; zod's compilers satisfy the same runtime contract
// (schema in, validate/serialise function out).
const zodCompilers = {
  buildValidator: () => validatorCompiler,
  buildSerializer: () => serializerCompiler,
} as unknown as NonNullable<FastifyServerOptions['schemaController']>['compilersFactory'];

/** `server.trust_proxy` as Fastify takes it: a hop count becomes "trust the nearest n hops". */
function trustProxyOption(setting: boolean | number | string[] | undefined): FastifyServerOptions['trustProxy'] {
  if (typeof setting === 'number') return (_address: string, hop: number) => hop < setting;
  return setting ?? false;
}

/** Options of {@link buildApp}. */
export interface BuildAppOptions {
  services: Services;
}

/**
 * Assembles the app: cross-cutting plugins first (headers, CORS, auth, OpenAPI), then one
 * encapsulated context per surface, each with its own error body and the rule that every route
 * declares its access.
 */
export async function buildApp({ services }: BuildAppOptions): Promise<FastifyInstance> {
  const { config } = services;
  const app = Fastify({
    // pino's Logger is wider than Fastify's logger type; the instance itself is what Fastify expects.
    loggerInstance: services.logger as FastifyBaseLogger,
    bodyLimit: config.server.body_limit,
    requestIdHeader: false,
    genReqId: (request) => requestIdFrom(request.headers['x-request-id'], randomUUID),
    // Agno strips a trailing slash instead of answering 404. Ids may be 128 characters (CONTRACT.md §2).
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 256 },
    frameworkErrors: frameworkErrorHandler,
    // `request.ip` (the rate-limit key of unauthenticated callers) reads X-Forwarded-For only behind a trusted proxy.
    trustProxy: trustProxyOption(config.server.trust_proxy),
    // Every route validates and serialises with zod; naming the compilers here (rather than with
    // setValidatorCompiler) also keeps Fastify from loading Ajv and fast-json-stringify at start-up.
    schemaController: { compilersFactory: zodCompilers },
  });
  app.decorate('services', services);
  // First: routes registered by plugins (the CORS preflight route) take the error handler in place
  // when they are added, and theirs must answer in the root shape too.
  registerSurfaceErrors(app, 'root');
  registerJsonBody(app);

  registerSecurityHeaders(app);
  // Before authentication, so refused requests (401, 403, 429) are measured too.
  registerRequestMetrics(app, services.observability.instruments);
  registerBodyLimit(app, { body: config.server.body_limit, upload: config.server.upload_limit });
  await app.register(cors, {
    origin: config.server.cors_origins.includes('*') ? '*' : config.server.cors_origins,
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
    exposedHeaders: ['x-request-id', 'retry-after', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset'],
    // An OPTIONS without preflight headers is answered like a preflight instead of a text/plain 400.
    strictPreflight: false,
  });
  // Before authentication: the plugin's own hooks must see upgrade requests first, so a refused
  // upgrade (401/403) still gets its socket closed after the error response.
  await app.register(websocket, { options: { maxPayload: config.server.body_limit } });
  registerAuthentication(app, services.authenticator);
  // After authentication: limits count per principal, and refusals (401/403/429) reach the audit log.
  registerRateLimit(app, { rules: config.rate_limits, store: services.store.rateLimits });
  // After rate limits: a run-starting request of a caller whose daily budget is used up is refused (429).
  registerQuota(app, { quotas: services.quotas });
  registerSecurityAudit(app, services.audit);
  // Run bodies come as multipart or urlencoded forms (Agno) as well as JSON.
  await registerFormBodies(app, { bodyLimit: config.server.body_limit, uploadLimit: config.server.upload_limit });
  await registerOpenApi(app, { title: config.name, version: services.version });

  // Root surface (Agno): its error body, set above, is also the default for paths that match no surface.
  await app.register(async (root) => {
    requireDeclaredAccess(root);
    await root.register(coreRoutes, { services });
    await root.register(consoleRoutes);
    await root.register(catalogRoutes, { services });
    await root.register(serviceHealthRoutes, { services });
    await root.register(componentRoutes, { services });
    await root.register(runRoutes, { services });
    await root.register(chatRoutes, { services });
    await root.register(mcpRoutes, { services });
    await root.register(a2aRoutes, { services });
    await root.register(sessionRoutes, { services });
    await root.register(knowledgeRoutes, { services });
    await root.register(memoryRoutes, { services });
    await root.register(scheduleRoutes, { services });
    await root.register(approvalRoutes, { services });
    await root.register(serviceAccountRoutes, { services });
    await root.register(wsRoutes, { services });
    await root.register(teamRunRoutes, { services });
    await root.register(workflowRunRoutes, { services });
    await root.register(workflowWsRoutes, { services });
    await root.register(audioWsRoutes, { services });
    await root.register(traceRoutes, { services });
    await root.register(metricsRoutes, { services });
    await root.register(evalRoutes, { services });
  });

  await app.register(
    async (api) => {
      registerSurfaceErrors(api, 'api');
      requireDeclaredAccess(api);
      await api.register(apiHealthRoutes, { services });
      await api.register(securityRoutes, { services });
      await api.register(apiAgentRoutes, { services });
      await api.register(apiPersonaPluginRoutes, { services });
      await api.register(agtosRoutes, { services });
      await api.register(voiceApiRoutes, { services });
      await api.register(workflowApiRoutes, { services });
      await api.register(apiMemoryRoutes, { services });
      await api.register(apiMetricsRoutes, { services });
      await api.register(costsRoutes, { services });
      await api.register(schedulerApiRoutes, { services });
      await api.register(apiApprovalRoutes, { services });
    },
    { prefix: '/api' },
  );

  await app.register(
    async (openai) => {
      registerSurfaceErrors(openai, 'openai');
      requireDeclaredAccess(openai);
      await openai.register(openAiRoutes, { services });
    },
    { prefix: '/v1' },
  );

  await app.ready();
  // Scheduled firings and bus subscribers call this app's routes in-process.
  services.scheduling.bindApp(app);
  return app;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The process services, for routes users add through `os.getApp()`. */
    services: Services;
  }
}
