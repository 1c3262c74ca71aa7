import { resolve } from 'node:path';
import * as sqliteVec from 'sqlite-vec';
import { KyselyStore } from '../kysely/kysely-store.js';
import type { Database as Schema } from '../kysely/tables.js';
import { migrations } from '../migrations/index.js';
import { DEFAULT_BUSY_TIMEOUT_MS, openSqlite } from './open.js';
import { SplitObservabilityStore, TraceWorkerClient, traceFilePath } from './trace-client.js';

export { WAL_AUTOCHECKPOINT_PAGES } from './open.js';

/** Options of {@link createSqliteStore}. */
export interface SqliteStoreOptions {
  /** A `sqlite:` URL (`sqlite:./.agentos/agentos.db`, `sqlite::memory:`) or a bare file path. */
  url: string;
  /** Base for relative paths; defaults to the process working directory. */
  cwd?: string;
  /** How long a writer waits for the lock held by another connection or process. */
  busyTimeoutMs?: number;
  now?: () => number;
}

/** Resolves a `sqlite:` URL to a file path, or `:memory:`. */
export function sqlitePathFromUrl(url: string, cwd: string = process.cwd()): string {
  let path = url.startsWith('sqlite:') ? url.slice('sqlite:'.length) : url;
  if (path.startsWith('//')) path = path.slice(2);
  if (path === '' || path === ':memory:') return ':memory:';
  return resolve(cwd, path);
}

/**
 * Opens the embedded default store: better-sqlite3 in WAL mode with foreign keys and a busy timeout,
 * sqlite-vec loaded for vector search. The database file and its folder are created when missing.
 * Call `migrate()` before use.
 *
 * SQLite has one writer at a time: several processes may open the same file (the CLI beside a server),
 * but only Postgres supports N serving replicas (`capabilities.multiWriter`).
 */
export function createSqliteStore(options: SqliteStoreOptions): KyselyStore {
  const path = sqlitePathFromUrl(options.url, options.cwd);
  const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  const { database, db } = openSqlite<Schema>(path, { busyTimeoutMs });
  let vectorSearch = true;
  try {
    sqliteVec.load(database);
  } catch {
    vectorSearch = false;
  }
  // A file store keeps its traces in a file of its own, written by a worker thread (trace-worker.ts): span
  // writes leave the event loop and never wait for, or hold up, the runs' writes. In memory they stay here.
  const traces =
    path === ':memory:'
      ? undefined
      : new TraceWorkerClient({ path: traceFilePath(path), busyTimeoutMs, importFrom: path });
  return new KyselyStore({
    db,
    capabilities: { dialect: 'sqlite', vectorSearch, multiWriter: false },
    migrations,
    ...(traces
      ? { observability: (base) => new SplitObservabilityStore(base, traces), onClose: () => traces.close() }
      : {}),
    ...(options.now ? { now: options.now } : {}),
  });
}
