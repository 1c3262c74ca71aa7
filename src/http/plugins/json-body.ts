/**
 * JSON bodies: Fastify's own parser (prototype-poisoning protection included), plus a nesting limit.
 * A body nested thousands of levels deep parses fine but overflows the stack of whatever walks it
 * next (serialisers, the store's JSON encoding), so it is refused up front with a 400.
 * @module
 */
import type { FastifyInstance } from 'fastify';
import { AgentOsError } from '../../errors/index.js';

/** Deepest nesting of arrays and objects a JSON body may have. */
export const MAX_JSON_DEPTH = 64;

/** True when `value` nests deeper than `limit`; iterative, so it cannot overflow itself. */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop() as [unknown, number];
    if (current === null || typeof current !== 'object') continue;
    if (depth >= limit) return true;
    for (const child of Object.values(current)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return false;
}

/** Replaces the JSON parser with one that also enforces {@link MAX_JSON_DEPTH}. */
export function registerJsonBody(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'ignore');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    parse(request, String(body), (error: Error | null, value?: unknown) => {
      if (error) return done(error, undefined);
      if (nestsDeeperThan(value, MAX_JSON_DEPTH)) {
        return done(
          new AgentOsError('AOS_BAD_REQUEST', `JSON body nests deeper than ${MAX_JSON_DEPTH} levels`),
          undefined,
        );
      }
      done(null, value);
    });
  });
}
