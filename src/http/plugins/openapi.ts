/**
 * OpenAPI generated from the zod route schemas, served as `/openapi.json`, with Swagger UI at `/docs`.
 * Both are public (CONTRACT.md §4).
 *
 * Swagger UI is served from the official `swagger-ui-dist` files by three small routes rather than
 * through @fastify/swagger-ui: that plugin pulls @fastify/static, glob and send into every start-up
 * (about 50 ms of the cold-start budget, bench/startup) to serve five fixed files.
 * @module
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import { z } from 'zod';

/** Options of {@link registerOpenApi}. */
export interface OpenApiOptions {
  title: string;
  version: string;
  description?: string;
}

/** The Swagger UI assets `/docs` needs, with their content types; nothing else is served. */
const ASSETS: Readonly<Record<string, string>> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'application/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'application/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

function docsPage(title: string): string {
  const escaped = title.replace(/[<>&"]/g, (character) => `&#${character.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>${escaped} — API docs</title>
  <link rel="stylesheet" href="/docs/static/swagger-ui.css">
  <link rel="icon" type="image/png" href="/docs/static/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/static/swagger-ui-bundle.js"></script>
  <script src="/docs/static/swagger-ui-standalone-preset.js"></script>
  <script src="/docs/static/init.js"></script>
</body>
</html>`;
}

// Kept in a file of its own (not inline) so a strict Content-Security-Policy can forbid inline scripts.
const INIT_SCRIPT = `window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  persistAuthorization: false,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: 'StandaloneLayout',
});
`;

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

  const assetsDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  const cache = new Map<string, Buffer>();
  const publicRoute = { config: { access: { public: true as const } }, schema: { hide: true } };

  app.get('/openapi.json', publicRoute, async () => app.swagger());
  app.get('/docs', publicRoute, async (_request, reply) =>
    reply.type('text/html; charset=utf-8').send(docsPage(options.title)),
  );
  app.get('/docs/static/:file', publicRoute, async (request, reply) => {
    const { file } = z.object({ file: z.string() }).parse(request.params);
    if (file === 'init.js') return reply.type(ASSETS['swagger-ui-bundle.js'] ?? '').send(INIT_SCRIPT);
    const type = ASSETS[file];
    if (type === undefined) return reply.callNotFound();
    let body = cache.get(file);
    if (body === undefined) {
      body = await readFile(join(assetsDir, file));
      cache.set(file, body);
    }
    return reply.type(type).header('cache-control', 'public, max-age=86400').send(body);
  });
}
