import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { AgentOsError } from '../../errors/index.js';
import { enablePgvector } from '../../search/pgvector.js';
import { KyselyStore } from '../kysely/kysely-store.js';
import type { Database as Schema } from '../kysely/tables.js';
import { migrations } from '../migrations/index.js';
import type { MigrationResult, StoreCapabilities } from '../types.js';
import { PgRunSignals } from './pg-run-signals.js';

/** Options of {@link createPostgresStore}. */
export interface PostgresStoreOptions {
  /** A `postgres://` or `postgresql://` URL. */
  url: string;
  /** Pool size per process; replicas multiply it, so keep N × max below the server's `max_connections`. */
  maxConnections?: number;
  /** Told when the LISTEN connection fails (it reconnects by itself); for logs. */
  onSignalError?: (error: unknown) => void;
  now?: () => number;
}

const BIGINT_OID = 20;
const NUMERIC_OID = 1700;

/**
 * node-postgres returns `bigint` (and `count(*)`) as strings because they may exceed 2^53. Every bigint
 * agentos stores is an epoch-ms timestamp, a counter or a serial id, all far below that, so they are parsed
 * to numbers once here rather than at every read. The parsers are per pool, not pg's global registry.
 */
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === BIGINT_OID || oid === NUMERIC_OID) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format);
  },
};

/** The pool settings shared by the store and the LISTEN connection. */
export function postgresClientConfig(url: string): pg.ClientConfig {
  return { connectionString: url, types: types as pg.ClientConfig['types'], application_name: 'agentos' };
}

/**
 * The Postgres adapter: the shared Kysely store, run signals over LISTEN/NOTIFY, and a pgvector probe
 * after migrating.
 */
export class PostgresStore extends KyselyStore {
  readonly runSignals: PgRunSignals;
  readonly #capabilities: StoreCapabilities;

  constructor(db: Kysely<Schema>, capabilities: StoreCapabilities, signals: PgRunSignals, now?: () => number) {
    super({ db, capabilities, migrations, onClose: () => signals.close(), ...(now ? { now } : {}) });
    this.runSignals = signals;
    this.#capabilities = capabilities;
  }

  override async migrate(options: { dryRun?: boolean } = {}): Promise<MigrationResult> {
    try {
      await this.ping();
    } catch (error) {
      // Said plainly, not as a failed migration; the message names no credentials (node-postgres' never do).
      throw new AgentOsError(
        'AOS_STORE_UNAVAILABLE',
        `Cannot reach the Postgres database: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
    const result = await super.migrate(options);
    // pgvector is optional (Debian's PostgreSQL lacks it): enabled, or known absent, once the database answers.
    if (!options.dryRun) this.#capabilities.vectorSearch = await enablePgvector(this.kysely as Kysely<unknown>);
    return result;
  }
}

/**
 * Opens the scale-out store: Kysely over a node-postgres pool. Several agentos processes may share one
 * database (`capabilities.multiWriter`). `vectorSearch` says whether pgvector is enabled in the database, known after
 * `migrate()`, which must be called before use.
 */
export function createPostgresStore(options: PostgresStoreOptions): PostgresStore {
  if (!/^postgres(ql)?:\/\//.test(options.url)) {
    throw new AgentOsError('AOS_STORE_UNAVAILABLE', 'A Postgres store needs a postgres:// or postgresql:// URL');
  }
  const pool = new pg.Pool({
    ...postgresClientConfig(options.url),
    max: options.maxConnections ?? 10,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 10_000,
  });
  // An idle client losing its connection (server restart) emits here; without a listener it crashes the process.
  pool.on('error', () => {});
  const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) });
  const signals = new PgRunSignals(postgresClientConfig(options.url), options.onSignalError);
  return new PostgresStore(db, { dialect: 'postgres', vectorSearch: false, multiWriter: true }, signals, options.now);
}
