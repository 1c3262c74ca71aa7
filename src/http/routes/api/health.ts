/**
 * `GET /api/health`: one body for iii (seed 000) and agtOS (seed 002) clients. 503 with the same body
 * plus `error`/`message` when a service check fails, so both kinds of client read it.
 * @module
 */
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Services } from '../../../services.js';

const serviceStatus = z.object({ status: z.enum(['healthy', 'unhealthy']), responseTime: z.number() });

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

/** Route table of `/api/health`. */
export const apiHealthRoutes: FastifyPluginAsync<{ services: Services }> = async (fastify, { services }) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  app.get('/health', {
    config: { access: { public: true } },
    schema: {
      summary: 'Health of the server and its services (iii / agtOS shape)',
      tags: ['API'],
      operationId: 'apiHealth',
      response: { 200: apiHealthResponse, 503: apiHealthResponse },
    },
    handler: async (_request, reply) => {
      const started = performance.now();
      let failure: string | undefined;
      try {
        await services.store.ping();
      } catch (error) {
        failure = `Database check failed: ${error instanceof Error ? error.message : String(error)}`;
      }
      const responseTime = Math.round((performance.now() - started) * 100) / 100;
      const body = {
        status: failure ? ('degraded' as const) : ('healthy' as const),
        version: services.version,
        // One process serves every request; scale-out adds replicas, not workers.
        workers: 1,
        uptime: Math.round((Date.now() - services.startedAt) / 10) / 100,
        services: { db: { status: failure ? ('unhealthy' as const) : ('healthy' as const), responseTime } },
        timestamp: Date.now(),
        ...(failure ? { error: 'Health check failed', message: failure } : {}),
      };
      return reply.code(failure ? 503 : 200).send(body);
    },
  });
};
