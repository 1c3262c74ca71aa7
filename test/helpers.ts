/**
 * Test helpers: the real app over a real SQLite database, built in-process (`app.inject()`) or
 * listening on 127.0.0.1:0 for tests that need sockets.
 * @module
 */
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { buildApp } from '../src/app.js';
import { type AgentOsConfigInput, parseConfig } from '../src/config/index.js';
import { createLogger, type Logger } from '../src/logging/logger.js';
import { type RunningServer, type StartServerOptions, startServer } from '../src/main.js';
import { createServices, type Services } from '../src/services.js';
import { type FakeOpenAI, startFakeOpenAI } from './fake-openai.js';

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

/**
 * Builds the real app (as {@link buildTestApp}) before the file's tests and closes it after them; with
 * `clearEachTest`, every test starts from an empty store. Call inside a `describe`; the fields are set once
 * its `beforeAll` has run.
 */
export function useTestApp(input: AgentOsConfigInput = {}, options: { clearEachTest?: boolean } = {}): TestApp {
  let test: TestApp | undefined;
  const started = (): TestApp => {
    if (test === undefined) throw new Error('the test app is used before its beforeAll ran');
    return test;
  };
  beforeAll(async () => {
    test = await buildTestApp(input);
  });
  afterAll(async () => {
    await test?.close();
  });
  if (options.clearEachTest) {
    beforeEach(async () => {
      await started().services.store.dangerouslyClearAll();
    });
  }
  return {
    get app() {
      return started().app;
    },
    get services() {
      return started().services;
    },
    close: () => started().close(),
  };
}

/** A real server whose `openai:` models call the scripted fake upstream. */
export interface FakeUpstreamServer {
  readonly fake: FakeOpenAI;
  readonly server: RunningServer;
}

/**
 * Starts the scripted fake upstream and a real server on 127.0.0.1:0 pointed at it (as
 * {@link startTestServer}) before the file's tests, and closes both after them. The fake's script is reset
 * before each test unless `resetEachTest` is false. Call inside a `describe`.
 */
export function useFakeUpstreamServer(
  options: StartServerOptions & { resetEachTest?: boolean } = {},
): FakeUpstreamServer {
  const { resetEachTest = true, ...serverOptions } = options;
  let fake: FakeOpenAI | undefined;
  let server: RunningServer | undefined;
  beforeAll(async () => {
    fake = await startFakeOpenAI();
    server = await startTestServer({
      ...serverOptions,
      env: { OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'test-key', ...serverOptions.env },
    });
  });
  afterAll(async () => {
    await server?.close();
    await fake?.close();
  });
  if (resetEachTest) beforeEach(() => fake?.reset());
  return {
    get fake() {
      if (fake === undefined) throw new Error('the fake upstream is used before its beforeAll ran');
      return fake;
    },
    get server() {
      if (server === undefined) throw new Error('the server is used before its beforeAll ran');
      return server;
    },
  };
}

/** Polls `probe` until it returns a value (not `undefined`); throws after `timeoutMs`. */
export async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs = 5_000, intervalMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
