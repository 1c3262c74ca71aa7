/**
 * `GET /api/health`: one body for iii (seed 000) and agtOS (seed 002) clients, with one checker per
 * service (the database, each model provider the config uses) and its `responseTime`. 503 with the same
 * body plus `error`/`message` when a check fails, so both kinds of client read it. `GET /health/:service`
 * (agtOS, root mount, needs `config:read`) checks one service.
 * @module
 */
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { NotFoundError } from '../../../errors/index.js';
import type { Services } from '../../../services.js';
import { checkService, serviceNames } from './provider-probe.js';

const serviceStatus = z.object({
  status: z.enum(['healthy', 'unhealthy']),
  responseTime: z.number().describe('Milliseconds the check took'),
  error: z.string().optional(),
});

const apiHealthResponse = z.object({
  status: z.enum(['healthy', 'degraded']),
  version: z.string(),
  workers: z.number().int(),
  uptime: z.number().describe('Seconds since start'),
  services: z.record(z.string(), serviceStatus),
  timestamp: z.number().int().describe('Epoch milliseconds'),
  error: z.string().optional(),
  message: z.string().optional(),
});

function publicStatus(name: string, check: z.infer<typeof serviceStatus>): z.infer<typeof serviceStatus> {
  if (check.error === undefined) return check;
  return { ...check, error: name.startsWith('mcp-') ? 'tools unavailable' : 'unavailable' };
}

/** Route table of `/api/health`. */
export const apiHealthRoutes: FastifyPluginAsync<{ services: Services }> = async (fastify, { services }) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  app.get('/health', {
    config: { access: { public: true } },
    schema: {
      summary: 'Health of the server and its services (iii / agtOS shape)',
      description: 'Checkers: `db` and `provider-<name>` for each model provider the config uses (local needs none).',
      tags: ['API'],
      operationId: 'apiHealth',
      response: { 200: apiHealthResponse, 503: apiHealthResponse },
    },
    handler: async (_request, reply) => {
      const names = serviceNames(services);
      const checks = await Promise.all(names.map(async (name) => [name, await checkService(services, name)] as const));
      // This route is public: raw check errors (hosts, database users, MCP commands) stay behind
      // `GET /health/:service` (config:read); anonymous callers learn only what is down.
      const results = Object.fromEntries(
        checks
          .filter((entry) => entry[1] !== undefined)
          .map(([name, check]) => [name, publicStatus(name, check as z.infer<typeof serviceStatus>)]),
      ) as Record<string, z.infer<typeof serviceStatus>>;
      const failed = Object.entries(results).filter(([, check]) => check.status === 'unhealthy');
      const body = {
        status: failed.length > 0 ? ('degraded' as const) : ('healthy' as const),
        version: services.version,
        // One process serves every request; scale-out adds replicas, not workers.
        workers: 1,
        uptime: Math.round((Date.now() - services.startedAt) / 10) / 100,
        services: results,
        timestamp: Date.now(),
        ...(failed.length > 0
          ? {
              error: 'Health check failed',
              message: failed.map(([name, check]) => `${name}: ${check.error ?? 'unhealthy'}`).join('; '),
            }
          : {}),
      };
      return reply.code(failed.length > 0 ? 503 : 200).send(body);
    },
  });
};

/** `GET /health/:service` (agtOS), registered on the root mount beside `/health`. */
export const serviceHealthRoutes: FastifyPluginAsync<{ services: Services }> = async (fastify, { services }) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  app.get('/health/:service', {
    // Not public (CONTRACT.md §4 names the public routes): the answer names providers and their errors.
    config: { access: { scope: 'config:read' } },
    schema: {
      summary: 'Health of one service (agtOS)',
      description:
        '`db` or `provider-<name>`: `{status, responseTime}`; 503 `{status:"unhealthy", error}`; 404 unknown.',
      tags: ['Health'],
      operationId: 'serviceHealth',
      params: z.object({ service: z.string().regex(/^[a-zA-Z0-9\-_]{1,128}$/) }),
      response: { 200: serviceStatus, 503: serviceStatus },
    },
    handler: async (request, reply) => {
      const check = await checkService(services, request.params.service);
      if (!check)
        throw new NotFoundError(
          `Unknown service "${request.params.service}" (known: ${serviceNames(services).join(', ')})`,
        );
      return reply.code(check.status === 'healthy' ? 200 : 503).send(check);
    },
  });
};
