/**
 * OpenAPI generated from the zod route schemas, served as `/openapi.json`, with Swagger UI at `/docs`.
 * Both are public (CONTRACT.md §4); the plugin's own routes are marked public in their own context.
 * @module
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import { markRoutesPublic } from './access-control.js';

/** Options of {@link registerOpenApi}. */
export interface OpenApiOptions {
  title: string;
  version: string;
  description?: string;
}

/** Registers the document generator (before any route, so it sees them all) and the docs routes. */
export async function registerOpenApi(app: FastifyInstance, options: OpenApiOptions): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: options.title,
        version: options.version,
        description: options.description ?? 'agentos: agents, teams and workflows behind one API.',
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'API key or JWT' } },
      },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(async (docs) => {
    markRoutesPublic(docs);
    await docs.register(swaggerUi, { routePrefix: '/docs' });
    docs.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  });
}
