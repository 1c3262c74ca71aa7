/**
 * The composition root: the only file that picks concrete implementations (store adapter,
 * authenticator). Everything else receives {@link Services} or a part of it.
 * @module
 */

import { createDbAgentResolver } from './agents/runtime-agent.js';
import { withDbAgentTools } from './agents/tools.js';
import { ApprovalService } from './approvals/service.js';
import {
  type Authenticator,
  createAuthenticator,
  createJwtVerifier,
  expandRoles,
  isValidScope,
  type StaticApiKey,
} from './auth/index.js';
import type { AgentOsConfig } from './config/index.js';
import { createEmbedderRegistry, type EmbedderRegistry } from './embeddings/index.js';
import { AgentOsError, ConfigError } from './errors/index.js';
import { McpClientManager, withMcpTools } from './interfaces/mcp-client/manager.js';
import { KnowledgeService } from './knowledge/service.js';
import type { Logger } from './logging/logger.js';
import { withMemoryTools } from './memory/memory-search-tool.js';
import { MemoryService } from './memory/memory-service.js';
import { createModelRegistry, type ModelRegistry, type ProviderEnv } from './models/registry.js';
import { createObservability, type Observability } from './observability/index.js';
import { QuotaService } from './quotas/index.js';
import { RunManager } from './runtime/run-manager.js';
import { createAgentToolResolver } from './runtime/tools/agent-tools.js';
import { withKnowledgeTools } from './runtime/tools/knowledge-search.js';
import { createCompositeRunners, type TeamRunner, type WorkflowRunner } from './runtime/workflow/index.js';
import { createScheduling, type Scheduling } from './schedules/scheduling.js';
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
  /** Starts team runs (issue 7). */
  teams: TeamRunner;
  /** Starts, continues and resumes workflow runs (issue 7). */
  workflows: WorkflowRunner;
  /** User memories, session summaries and episodes (issue 6). */
  memory: MemoryService;
  /** Embedders by id (`local:default`, `openai:…`), cached by content hash (issue 6). */
  embedders: EmbedderRegistry;
  /** Knowledge bases: content, ingestion queue and hybrid search (issue 6). */
  knowledge: KnowledgeService;
  /** The hash-chained security audit log. */
  audit: AuditLog;
  /** Schedules and the event bus (issue 8); the server entry starts them once it listens. */
  scheduling: Scheduling;
  /** Approvals of paused runs: the inbox, the continue gate, the expiry sweep (issue 8). */
  approvals: ApprovalService;
  /** Tracing, Prometheus instruments and prices (issue 10); `withSpan` for runners. */
  observability: Observability;
  /** Daily token and cost budgets per caller and agent, and the usage they read (issue 5). */
  quotas: QuotaService;
  /** Connections to the configured MCP servers, whose tools agents may list (issue 11). */
  mcp: McpClientManager;
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
export async function openStore(url: string, cwd?: string, logger?: Logger): Promise<Store> {
  if (url.startsWith('sqlite:')) return createSqliteStore({ url, ...(cwd ? { cwd } : {}) });
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    // Loaded on demand: SQLite deployments never parse the pg driver at start-up.
    const { createPostgresStore } = await import('./store/postgres/postgres-store.js');
    return createPostgresStore({
      url,
      // Cross-replica streams and cancels fall back to polling until the LISTEN connection is back.
      onSignalError: (error) => logger?.warn({ err: error }, 'Postgres LISTEN connection failed; reconnecting'),
    });
  }
  throw new ConfigError([`database.url: unsupported database URL "${url}"`], 'database.url');
}

function staticKeys(config: AgentOsConfig): StaticApiKey[] {
  return config.auth.api_keys.map((entry, index) => {
    const bad = entry.scopes.find((scope) => !isValidScope(scope));
    if (bad !== undefined) throw new ConfigError([`auth.api_keys[${index}].scopes: invalid scope "${bad}"`], 'auth');
    return {
      name: entry.name,
      // A role expands here, once: config keys are not stored, so their grant is fixed at start-up.
      scopes: expandRoles(entry.role === undefined ? [] : [entry.role], entry.scopes),
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
  const store = await openStore(config.database.url, options.cwd, logger);
  try {
    if (migrate) {
      const result = await store.migrate();
      if (result.applied.length > 0) logger.info({ applied: result.applied }, 'database migrated');
      if (store.capabilities.dialect === 'postgres' && !store.search.vectorSearch) {
        logger.warn(
          { pgvector_installed: store.capabilities.vectorSearch },
          'vector search is not available on this Postgres: knowledge search falls back to keyword search',
        );
      }
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
    serviceAccounts: store.serviceAccounts,
    tenancy: config.auth.tenancy,
    ...(jwt === undefined ? {} : { jwt }),
  });
  const models = createModelRegistry({ env: options.env ?? {} });
  const observability = await createObservability({ config, store: store.observability, logger });
  const embedders = createEmbedderRegistry({
    env: options.env ?? {},
    lookup: (embedder, hashes) => store.search.findEmbeddings(embedder, hashes),
    ...(observability.tracing.enabled ? { tracer: observability.tracing.tracer } : {}),
  });
  const knowledge = new KnowledgeService({
    store,
    config,
    embedders,
    logger,
    ...(options.cwd ? { cwd: options.cwd } : {}),
  });
  // Built before the run manager, which reports pauses to it; it reaches the manager lazily.
  const approvals: ApprovalService = new ApprovalService({ store, audit, logger, runs: () => runs });
  const memory = new MemoryService({ store, models, config, logger, embedders });
  // MCP servers connect in the background; one that is down only withholds its tools (and retries).
  const mcp = new McpClientManager(config, logger);
  await mcp.start();
  const quotas = new QuotaService({
    config: config.quotas,
    usage: store.usage,
    prices: observability.prices,
    registry: observability.instruments.registry,
  });
  const runs = new RunManager({
    store,
    memory,
    hitl: approvals,
    observability,
    quotas,
    config,
    models,
    tools: withMcpTools(
      withMemoryTools(
        withKnowledgeTools(withDbAgentTools(createAgentToolResolver({ config, logger }), config), knowledge),
        memory,
      ),
      mcp,
    ),
    // Agents created over /api/agents run through the same runtime (issue 9).
    resolveAgent: createDbAgentResolver({ store, config, logger }),
    logger,
    ...(config.server.run_heartbeat_ms === undefined ? {} : { heartbeatMs: config.server.run_heartbeat_ms }),
    ...(config.server.run_lease_ms === undefined ? {} : { staleAfterMs: config.server.run_lease_ms }),
  });
  // Teams and workflows run through the same manager; registered before `recover()`, which resumes
  // interrupted workflow runs from their checkpoints (issue 7).
  const { teams, workflows } = createCompositeRunners({
    store,
    config,
    models,
    runs,
    logger,
    observability,
    tools: withMcpTools(
      withMemoryTools(
        withKnowledgeTools(withDbAgentTools(createAgentToolResolver({ config, logger }), config), knowledge),
        memory,
      ),
      mcp,
    ),
  });
  // Every process that runs agents renews its leases; only servers also judge other processes' runs.
  if (options.recoverRuns !== false) await runs.recover();
  runs.startBackgroundWork({ sweep: options.recoverRuns !== false });
  if (options.recoverRuns !== false) {
    await knowledge.recover();
    // Off the start-up path: /health answers while the configured sources are (re)indexed.
    void knowledge
      .syncConfigSources()
      .then((summary) => summary.added + summary.failed > 0 && logger.info(summary, 'knowledge sources synced'))
      .catch((error: unknown) => logger.warn({ err: error }, 'knowledge source sync failed'));
  }
  const scheduling = createScheduling({ store, config, runs, logger, worker: runs.instanceId });
  // Servers expire overdue approvals (and cancel their runs); one-shot CLI commands do not.
  if (options.recoverRuns !== false) approvals.start();
  let closed = false;
  return {
    config,
    configSource: options.configSource ?? 'inline',
    store,
    // Firings and bus subscribers call routes in-process with an internal token only this process knows.
    authenticator: scheduling.internal.wrap(authenticator),
    scheduling,
    models,
    runs,
    memory,
    embedders,
    knowledge,
    teams,
    workflows,
    audit,
    approvals,
    observability,
    quotas,
    mcp,
    logger,
    version: VERSION,
    startedAt: Date.now(),
    async close() {
      if (closed) return;
      closed = true;
      approvals.stop();
      await scheduling.stop();
      await runs.shutdown(config.server.shutdown_timeout_ms);
      await mcp.close();
      await knowledge.close();
      // Spans still queued are written while the store is open.
      await observability.shutdown().catch((error: unknown) => logger.warn({ err: error }, 'flushing traces failed'));
      await store.close();
    },
  };
}
