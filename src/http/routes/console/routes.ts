/**
 * Serves the web console (issue 13) at `/console`: the static files Vite built into `dist/console`.
 * The files are public (CONTRACT §4); the console then calls the authenticated public API with the key
 * the user enters. A small handler rather than @fastify/static, for the reason `/docs` gives: no extra
 * start-up cost, and only files of the built folder can ever be read.
 * @module
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'application/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

/**
 * Where the build put the console, seen from this module: the bundle (`dist/agentos.mjs`) or one of its
 * chunks (`dist/chunks/`), tsc's output (`dist/http/routes/console/`), or the sources (`src/…`, tests and tsx).
 */
export function findConsoleDir(): string | undefined {
  const candidates = ['./console/', '../console/', '../../../console/', '../../../../dist/console/'].map((relative) =>
    fileURLToPath(new URL(relative, import.meta.url)),
  );
  return candidates.find((dir) => existsSync(join(dir, 'index.html')));
}

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>agentos console</title>
<p>The console is not built. Run <code>npm run build</code> and restart agentos.</p>`;

/** Route table of `/console`. `dir` overrides where the built files are looked for. */
export const consoleRoutes: FastifyPluginAsync<{ dir?: string }> = async (app, options) => {
  const dir = options.dir ?? findConsoleDir();
  const cache = new Map<string, Buffer>();
  const publicRoute = { config: { access: { public: true as const } }, schema: { hide: true } };

  const sendFile = async (file: string, reply: import('fastify').FastifyReply) => {
    if (dir === undefined)
      return reply
        .code(503)
        .type(TYPES['.html'] as string)
        .send(NOT_BUILT);
    // normalize() folds `..`; anything that would leave the folder is simply not found.
    const path = normalize(join(dir, file));
    if (!path.startsWith(dir.endsWith(sep) ? dir : dir + sep)) return reply.callNotFound();
    let body = cache.get(path);
    if (body === undefined) {
      if (!existsSync(path)) return reply.callNotFound();
      body = await readFile(path);
      cache.set(path, body);
    }
    const type = TYPES[extname(path)] ?? 'application/octet-stream';
    // Assets carry a content hash in their names, so they may be cached for good; the page may not.
    const caching = file.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache';
    return reply.type(type).header('cache-control', caching).send(body);
  };

  // The server ignores trailing slashes, so this one route answers `/console` and `/console/`; asset URLs are
  // absolute (Vite's `base`), so the page works from either.
  app.get('/console', publicRoute, async (_request, reply) => sendFile('index.html', reply));
  app.get('/console/*', publicRoute, async (request, reply) => {
    const { '*': file } = z.object({ '*': z.string() }).parse(request.params);
    return sendFile(file === '' ? 'index.html' : file, reply);
  });
};
