import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import * as sqliteVec from 'sqlite-vec';
import { AgentOsError } from '../../errors/index.js';
import { KyselyStore } from '../kysely/kysely-store.js';
import type { Database as Schema } from '../kysely/tables.js';
import { migrations } from '../migrations/index.js';

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

/** WAL size (in pages) at which a commit checkpoints; see {@link createSqliteStore}. */
export const WAL_AUTOCHECKPOINT_PAGES = 10_000;

/** How many distinct statements stay prepared; the store issues a few dozen distinct SQL strings. */
const STATEMENT_CACHE_SIZE = 256;

/**
 * Kysely prepares every query anew; better-sqlite3 statements are reusable, and preparing is a
 * measurable share of a run's cost (bench/runs). This keeps prepared statements by SQL text.
 * Kysely runs one query at a time per connection, so reusing a statement object is safe.
 */
function withStatementCache(database: Database.Database): Database.Database {
  const cache = new Map<string, Database.Statement>();
  return new Proxy(database, {
    get(target, property, receiver) {
      if (property !== 'prepare') return Reflect.get(target, property, receiver);
      return (source: string) => {
        let statement = cache.get(source);
        if (!statement) {
          statement = target.prepare(source);
          if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
          cache.set(source, statement);
        }
        return statement;
      };
    },
  });
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
  let database: Database.Database;
  try {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    database = new Database(path);
  } catch (error) {
    throw new AgentOsError('AOS_STORE_UNAVAILABLE', `Cannot open SQLite database at ${path}: ${String(error)}`, {
      cause: error,
    });
  }
  if (path !== ':memory:') database.pragma('journal_mode = WAL');
  database.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`);
  database.pragma('foreign_keys = ON');
  // NORMAL is durable in WAL mode except for the last transactions on power loss, the usual trade.
  database.pragma('synchronous = NORMAL');
  // A checkpoint (WAL pages copied into the database, two fsyncs) runs inside the commit that crosses this
  // many WAL pages, on the request path. SQLite's 1,000 checkpointed a few times a second under load
  // (bench/runs); a larger limit checkpoints less often and copies a page that many commits changed once.
  // The WAL file may grow to about this many pages (40 MB at 4 KB); durability is unchanged.
  if (path !== ':memory:') database.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
  let vectorSearch = true;
  try {
    sqliteVec.load(database);
  } catch {
    vectorSearch = false;
  }
  const db = new Kysely<Schema>({ dialect: new SqliteDialect({ database: withStatementCache(database) }) });
  return new KyselyStore({
    db,
    capabilities: { dialect: 'sqlite', vectorSearch, multiWriter: false },
    migrations,
    ...(options.now ? { now: options.now } : {}),
  });
}
