/**
 * Security headers of seed 000 and the request id, on every response: set in `onRequest`, before any
 * handler, error handler or not-found handler runs, so no path can leave them out.
 * @module
 */
import type { FastifyInstance } from 'fastify';

/** The seed 000 headers; streaming code that writes to the raw socket copies them from here. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'x-xss-protection': '1; mode=block',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
});

/** A client-sent request id is kept only when it is short and plain, so it cannot inject into logs or headers. */
const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Picks the request id: the client's `X-Request-Id` when safe, else a fresh UUID. */
export function requestIdFrom(header: string | string[] | undefined, fresh: () => string): string {
  return typeof header === 'string' && CLIENT_REQUEST_ID.test(header) ? header : fresh();
}

/** Adds the headers hook to the root instance. */
export function registerSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onRequest', async (request, reply) => {
    reply.headers(SECURITY_HEADERS);
    reply.header('x-request-id', request.id);
  });
}
