/**
 * The process logger: pino, JSON lines when stdout is not a terminal, pretty when it is.
 * Created once by the entry point and passed down; no module keeps a global logger.
 * @module
 */
import { createRequire } from 'node:module';
import { type Logger, pino } from 'pino';
import { redactUrl } from './redact-url.js';

export type { Logger } from 'pino';

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  level?: string;
  /** Human-readable output (defaults to whether stdout is a TTY). */
  pretty?: boolean;
  /** Where JSON lines go; defaults to stdout. Tests pass a stream to read logs back. */
  destination?: NodeJS.WritableStream;
}

interface LoggedRequest {
  method?: string;
  url?: string;
  host?: string;
  ip?: string;
  socket?: { remotePort?: number };
}

function serializeRequest(request: LoggedRequest): Record<string, unknown> {
  return {
    method: request.method,
    url: request.url === undefined ? undefined : redactUrl(request.url),
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  };
}

/** Creates the logger; credentials in headers and query strings are redacted. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const { level = 'info', pretty = process.stdout.isTTY === true, destination } = options;
  const base = {
    level,
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization'],
      censor: '[redacted]',
    },
    // Replaces Fastify's request serializer (same fields) so a `?token=` never reaches a log line.
    serializers: { req: serializeRequest },
  };
  if (pretty && !destination) {
    // Pretty output is for a person at a terminal, so it is formatted in-process (no worker thread),
    // and pino-pretty is loaded only then.
    const pinoPretty = createRequire(import.meta.url)('pino-pretty') as (options: object) => pino.DestinationStream;
    return pino(base, pinoPretty({ colorize: true, ignore: 'pid,hostname' }));
  }
  return destination ? pino(base, destination as pino.DestinationStream) : pino(base);
}
