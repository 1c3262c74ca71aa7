/**
 * The server entry: load config, create services, build the app, listen, and close gracefully.
 * @module
 */
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import { isLoopbackHost } from './auth/index.js';
import { type AgentOsConfigInput, applyOverrides, loadConfig, parseConfig } from './config/index.js';
import { AgentOsError } from './errors/index.js';
import { createLogger, type Logger } from './logging/logger.js';
import { createServices, type Services } from './services.js';

/** Options of {@link startServer}; CLI flags arrive as `host`, `port`, `dbUrl`. */
export interface StartServerOptions {
  configPath?: string;
  /** An inline config (what a config file would hold), used instead of discovering a file. */
  config?: AgentOsConfigInput;
  host?: string;
  port?: number;
  dbUrl?: string;
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** A logger to use instead of one built from the config's `log_level`. */
  logger?: Logger;
}

/** A listening server. */
export interface RunningServer {
  app: FastifyInstance;
  services: Services;
  /** `http://host:port` actually bound (port 0 resolved). */
  url: string;
  /** Stops accepting, lets in-flight requests finish (bounded by `server.shutdown_timeout_ms`), closes the store. */
  close(): Promise<void>;
}

/**
 * Starts agentos. Refuses a non-loopback host while no credential is configured (CONTRACT.md §4):
 * dev mode is open to anyone who can reach the port, so it must only be reachable from this machine.
 */
export async function startServer(options: StartServerOptions = {}): Promise<RunningServer> {
  const env = options.env ?? process.env;
  const overrides = {
    ...(options.host === undefined ? {} : { host: options.host }),
    ...(options.port === undefined ? {} : { port: options.port }),
    ...(options.dbUrl === undefined ? {} : { dbUrl: options.dbUrl }),
  };
  const { config, source } =
    options.config === undefined
      ? await loadConfig({
          ...(options.configPath === undefined ? {} : { path: options.configPath }),
          ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
          env,
          overrides,
        })
      : {
          config: parseConfig(applyOverrides(options.config, env, overrides), { source: 'inline', env }),
          source: 'inline',
        };
  const logger = options.logger ?? createLogger({ level: config.log_level });
  const services = await createServices({
    config,
    configSource: source,
    logger,
    env,
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  });
  const { host, port } = config.server;
  const mode = await services.authenticator.mode();
  if (mode === 'none' && !isLoopbackHost(host)) {
    await services.close();
    throw new AgentOsError(
      'AOS_CONFIG_INVALID',
      `Refusing to listen on ${host} without credentials: set AGENTOS_API_KEY, add auth.api_keys to the config, ` +
        'or create a key with `agentos keys create`; or bind to 127.0.0.1 for dev mode.',
    );
  }
  if (mode === 'none') {
    logger.warn('No credentials configured: dev mode, every route is open to callers on this machine.');
  }

  let app: FastifyInstance;
  try {
    app = await buildApp({ services });
    await app.listen({ host, port });
  } catch (error) {
    await services.close();
    throw error;
  }
  const address = app.server.address();
  const boundPort = typeof address === 'object' && address !== null ? address.port : port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${boundPort}`;
  logger.info({ url, config: source, auth_mode: mode, database: config.database.url }, 'agentos listening');
  if (mode === 'none') logger.info({ console: `${url}/console` }, 'web console open (dev mode: no sign-in needed)');
  // Schedules fire and bus deliveries go out only once the server answers, in every process alike.
  services.scheduling.start();

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      const timeout = config.server.shutdown_timeout_ms;
      // Runs get most of the budget; the rest lets their streams flush the final event and close.
      const runBudget = Math.max(timeout - 1000, Math.floor(timeout / 2));
      // No new firings or deliveries while draining; those in flight are aborted and retried later.
      await services.scheduling.stop(runBudget);
      // Runs still going when their budget passes end as `error` ("the server shut down"), which
      // also ends their streams so those connections can close normally.
      const draining = services.runs.shutdown(runBudget);
      const closed = app.close().then(() => true);
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), timeout);
        timer.unref();
      });
      await draining;
      if (!(await Promise.race([closed, deadline]))) {
        logger.warn({ timeout_ms: timeout }, 'shutdown timeout reached, closing remaining connections');
        app.server.closeAllConnections();
      }
      clearTimeout(timer);
      await services.close();
    })();
    return closing;
  };
  return { app, services, url, close };
}

/** Closes the server on SIGTERM / SIGINT and exits 0 (1 if closing failed). */
export function closeOnSignals(server: RunningServer, logger: Logger): void {
  const onSignal = (signal: NodeJS.Signals) => {
    logger.info({ signal }, 'shutting down');
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}
