/**
 * The composition root: the only file that picks concrete implementations (store adapter,
 * authenticator). Everything else receives {@link Services} or a part of it.
 * @module
 */
import {
  type Authenticator,
  createAuthenticator,
  createJwtVerifier,
  isValidScope,
  type StaticApiKey,
} from './auth/index.js';
import type { AgentOsConfig } from './config/index.js';
import { AgentOsError, ConfigError } from './errors/index.js';
import type { Logger } from './logging/logger.js';
import { createModelRegistry, type ModelRegistry, type ProviderEnv } from './models/registry.js';
import { RunManager } from './runtime/run-manager.js';
import { createAgentToolResolver } from './runtime/tools/agent-tools.js';
import { AuditLog, resolveServerSecret, SECRET_ENV } from './security/index.js';
import { createSqliteStore, type Store } from './store/index.js';
import { VERSION } from './version.js';

/** What routes, the CLI and later the runtime get: one value, built once per process. */
export interface Services {
  config: AgentOsConfig;
  /** Where the config came from (a path or `built-in demo config`), for logs and `/config`. */
  configSource: string;
  store: Store;
  authenticator: Authenticator;
  models: ModelRegistry;
  /** Starts, cancels and replays agent runs. */
  runs: RunManager;
  /** The hash-chained security audit log. */
  audit: AuditLog;
  logger: Logger;
  version: string;
  /** When this process finished starting (epoch ms). */
  startedAt: number;
  /** Releases what the services hold (the database). Idempotent. */
  close(): Promise<void>;
}

/** Options of {@link createServices}. */
export interface CreateServicesOptions {
  config: AgentOsConfig;
  configSource?: string;
  logger: Logger;
  /** Base for relative database paths. */
  cwd?: string;
  /** Apply pending migrations while starting (default true; `agentos migrate --dry-run` passes false). */
  migrate?: boolean;
  /** Provider keys and base URLs (OPENAI_API_KEY, OPENAI_BASE_URL, …); the entry point passes the environment. */
  env?: ProviderEnv & { [SECRET_ENV]?: string | undefined };
  /** Mark runs left behind by dead processes as error and keep leases fresh (default true; one-shot CLI commands pass false). */
  recoverRuns?: boolean;
}

/** Opens the store named by `database.url`. */
export function openStore(url: string, cwd?: string): Store {
  if (url.startsWith('sqlite:')) return createSqliteStore({ url, ...(cwd ? { cwd } : {}) });
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    // The Postgres adapter is its own issue (scale-out); until it lands, say so instead of failing later.
    throw new ConfigError(['database.url: the Postgres store is not available in this build yet'], 'database.url');
  }
  throw new ConfigError([`database.url: unsupported database URL "${url}"`], 'database.url');
}

function staticKeys(config: AgentOsConfig): StaticApiKey[] {
  return config.auth.api_keys.map((entry, index) => {
    const bad = entry.scopes.find((scope) => !isValidScope(scope));
    if (bad !== undefined) throw new ConfigError([`auth.api_keys[${index}].scopes: invalid scope "${bad}"`], 'auth');
    return {
      name: entry.name,
      scopes: entry.scopes,
      ...(entry.key === undefined ? {} : { key: entry.key }),
      ...(entry.key_sha256 === undefined ? {} : { keySha256: entry.key_sha256 }),
    };
  });
}

/** Builds the services: opens and migrates the store, prepares authentication. */
export async function createServices(options: CreateServicesOptions): Promise<Services> {
  const { config, logger, migrate = true } = options;
  const keys = staticKeys(config);
  // Before the store opens: unusable key material is a start-up error, not a 401 on every request.
  const jwt =
    config.auth.jwt === undefined
      ? undefined
      : await createJwtVerifier(config.auth.jwt, options.cwd === undefined ? {} : { cwd: options.cwd });
  const store = openStore(config.database.url, options.cwd);
  try {
    if (migrate) {
      const result = await store.migrate();
      if (result.applied.length > 0) logger.info({ applied: result.applied }, 'database migrated');
    }
  } catch (error) {
    await store.close();
    throw error instanceof AgentOsError
      ? error
      : new AgentOsError('AOS_STORE_UNAVAILABLE', `Database not usable: ${String(error)}`, { cause: error });
  }
  const audit = new AuditLog(store.audit, () =>
    resolveServerSecret({
      env: options.env ?? {},
      databaseUrl: config.database.url,
      ...(options.cwd ? { cwd: options.cwd } : {}),
    }),
  );
  try {
    // Fail at start-up, not on the first refused request; a dry run must not create the secret file.
    if (migrate) audit.ready();
  } catch (error) {
    await store.close();
    throw error;
  }
  const authenticator = createAuthenticator({
    staticKeys: keys,
    apiKeys: store.apiKeys,
    tenancy: config.auth.tenancy,
    ...(jwt === undefined ? {} : { jwt }),
  });
  const models = createModelRegistry({ env: options.env ?? {} });
  const runs = new RunManager({ store, config, models, tools: createAgentToolResolver({ config, logger }), logger });
  // Every process that runs agents renews its leases; only servers also judge other processes' runs.
  if (options.recoverRuns !== false) await runs.recover();
  runs.startBackgroundWork({ sweep: options.recoverRuns !== false });
  let closed = false;
  return {
    config,
    configSource: options.configSource ?? 'inline',
    store,
    authenticator,
    models,
    runs,
    audit,
    logger,
    version: VERSION,
    startedAt: Date.now(),
    async close() {
      if (closed) return;
      closed = true;
      await runs.shutdown(config.server.shutdown_timeout_ms);
      await store.close();
    },
  };
}
