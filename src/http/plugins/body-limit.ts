/**
 * Rejects a request whose declared `Content-Length` exceeds the route's body limit before reading it,
 * and before routing decides anything: an unknown path under `/api` answers 413 in `/api`'s shape
 * rather than buffering megabytes first. Fastify still enforces the same limit while parsing JSON and
 * urlencoded bodies that declare no length (chunked); multipart bodies are counted in `form-body.ts`.
 * @module
 */
import type { FastifyInstance } from 'fastify';
import '../route-config.js';
import { AgentOsError } from '../../errors/index.js';

/** Installs the early body-limit check; multipart uploads on routes that take them get `uploadLimit`. */
export function registerBodyLimit(app: FastifyInstance, limits: { body: number; upload: number }): void {
  app.addHook('onRequest', async (request) => {
    // A preflight's body is never read.
    if (request.method === 'OPTIONS') return;
    const declared = request.headers['content-length'];
    if (declared === undefined) return;
    const length = Number(declared);
    const multipart = request.headers['content-type']?.startsWith('multipart/form-data') === true;
    const limit =
      multipart && request.routeOptions.config?.uploads
        ? limits.upload
        : (request.routeOptions.bodyLimit ?? limits.body);
    if (Number.isFinite(length) && length > limit) {
      throw new AgentOsError('AOS_PAYLOAD_TOO_LARGE', `Request body is larger than ${limit} bytes`, {
        details: { limit },
      });
    }
  });
}
