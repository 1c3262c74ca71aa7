/**
 * Opening a SQLite file the way every agentos connection uses it: WAL, busy timeout, foreign keys,
 * `synchronous = NORMAL`, the larger checkpoint interval, and prepared statements kept by SQL text.
 * Shared by the store's own connection and the trace file's worker (`trace-worker.ts`).
 * @module
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { AgentOsError } from '../../errors/index.js';

/** WAL size (in 4 KB pages; the same bytes in larger pages) at which a commit checkpoints; see {@link openSqlite}. */
export const WAL_AUTOCHECKPOINT_PAGES = 10_000;

/** How long a writer waits for a lock another connection or process holds, unless told otherwise. */
export const DEFAULT_BUSY_TIMEOUT_MS = 5000;

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

/** An open SQLite connection: the raw handle (for extensions and pragmas) and Kysely over it. */
export interface OpenSqlite<Schema> {
  database: Database.Database;
  db: Kysely<Schema>;
}

/**
 * Opens (creating the file and its folder when missing) a SQLite database at `path` (`:memory:` too).
 * The error names the path: `AOS_STORE_UNAVAILABLE`.
 */
export function openSqlite<Schema>(
  path: string,
  options: { busyTimeoutMs?: number; pageSize?: number } = {},
): OpenSqlite<Schema> {
  let database: Database.Database;
  try {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    database = new Database(path);
  } catch (error) {
    throw new AgentOsError('AOS_STORE_UNAVAILABLE', `Cannot open SQLite database at ${path}: ${String(error)}`, {
      cause: error,
    });
  }
  // Takes effect only on a file without tables yet, and only before WAL mode (which fixes the page size).
  if (options.pageSize) database.pragma(`page_size = ${Math.trunc(options.pageSize)}`);
  if (path !== ':memory:') database.pragma('journal_mode = WAL');
  database.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS)}`);
  database.pragma('foreign_keys = ON');
  // NORMAL is durable in WAL mode except for the last transactions on power loss, the usual trade.
  database.pragma('synchronous = NORMAL');
  // A checkpoint (WAL pages copied into the database, two fsyncs) runs inside the commit that crosses this
  // many WAL pages, on the request path. SQLite's 1,000 checkpointed a few times a second under load
  // (bench/runs); a larger limit checkpoints less often and copies a page that many commits changed once.
  // The WAL file may grow to about this many pages (40 MB at 4 KB); durability is unchanged. A file with larger
  // pages (the trace file) checkpoints after as many bytes, not as many pages.
  if (path !== ':memory:') {
    const pageSize = database.pragma('page_size', { simple: true }) as number;
    database.pragma(`wal_autocheckpoint = ${Math.round((WAL_AUTOCHECKPOINT_PAGES * 4096) / pageSize)}`);
  }
  const db = new Kysely<Schema>({ dialect: new SqliteDialect({ database: withStatementCache(database) }) });
  return { database, db };
}
