/**
 * Test helpers: the real app over a real SQLite database, built in-process (`app.inject()`) or
 * listening on 127.0.0.1:0 for tests that need sockets.
 * @module
 */
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app.js';
import { type AgentOsConfigInput, parseConfig } from '../src/config/index.js';
import { createLogger, type Logger } from '../src/logging/logger.js';
import { type RunningServer, type StartServerOptions, startServer } from '../src/main.js';
import { createServices, type Services } from '../src/services.js';

/** A logger that keeps JSON lines in memory, so tests can assert on logs without noise. */
export function memoryLogger(level = 'warn'): { logger: Logger; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      chunks.push(String(chunk));
      callback();
    },
  });
  const logger = createLogger({ level, pretty: false, destination });
  return {
    logger,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

/**
 * The config tests start from: in-memory SQLite, no credentials and no rate limits unless given (suites that
 * send many requests must not be throttled by the defaults).
 */
export function testConfig(input: AgentOsConfigInput = {}): AgentOsConfigInput {
  return { rate_limits: false, ...input, database: { url: 'sqlite::memory:', ...input.database } };
}

/** A built app with its services; `close()` releases both. */
export interface TestApp {
  app: FastifyInstance;
  services: Services;
  close(): Promise<void>;
}

/** Builds the real app for `inject()` tests. */
export async function buildTestApp(
  input: AgentOsConfigInput = {},
  env: Record<string, string> = {},
  logger: Logger = memoryLogger().logger,
): Promise<TestApp> {
  const config = parseConfig(testConfig(input), { source: 'test', env });
  const services = await createServices({ config, configSource: 'test', logger, env });
  const app = await buildApp({ services });
  return {
    app,
    services,
    async close() {
      await app.close();
      await services.close();
    },
  };
}

/** Starts the real server on 127.0.0.1:0. */
export async function startTestServer(options: StartServerOptions = {}): Promise<RunningServer> {
  return startServer({
    host: '127.0.0.1',
    port: 0,
    env: {},
    logger: memoryLogger().logger,
    ...options,
    config: testConfig(options.config ?? {}),
  });
}
