/**
 * Fastify hooks that feed the request metrics: the duration histogram by route template (never the
 * raw URL, whose ids would explode the label set), 429s, and open SSE streams. Measured when the
 * raw response closes rather than in `onResponse`, which Fastify skips for hijacked (streaming)
 * replies.
 * @module
 */
import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Instruments } from './instruments.js';

/** Label of requests that matched no route. */
const UNMATCHED = 'unmatched';

function isEventStream(value: unknown): boolean {
  return typeof value === 'string' && value.toLowerCase().startsWith('text/event-stream');
}

/** True when `writeHead`'s arguments or the headers already set declare an event stream. */
function declaresEventStream(raw: ServerResponse, args: unknown[]): boolean {
  if (isEventStream(raw.getHeader('content-type'))) return true;
  return args.some(
    (arg) =>
      typeof arg === 'object' &&
      arg !== null &&
      !Array.isArray(arg) &&
      Object.entries(arg).some(([name, value]) => name.toLowerCase() === 'content-type' && isEventStream(value)),
  );
}

/** Registers the hooks on the root instance (so every surface is measured). */
export function registerRequestMetrics(app: FastifyInstance, instruments: Instruments): void {
  app.addHook('onRequest', async (request, reply) => {
    const started = performance.now();
    const raw = reply.raw;
    let stream = false;
    // Streaming routes write their head on the raw response; its headers are not readable afterwards.
    const writeHead = raw.writeHead;
    raw.writeHead = function (this: ServerResponse, ...args: unknown[]) {
      if (!stream && declaresEventStream(raw, args)) {
        stream = true;
        instruments.activeStreams.inc();
      }
      return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
    } as ServerResponse['writeHead'];
    raw.once('close', () => {
      if (stream) instruments.activeStreams.dec();
      const route = request.routeOptions.url ?? UNMATCHED;
      instruments.observeRequest(route, request.method, raw.statusCode, performance.now() - started);
    });
  });
}
