/**
 * The vector side of the search index on Postgres, through pgvector: one table per dimension
 * (`search_pgvec_<n>`, like sqlite-vec's `search_vec_<n>`), so embedders of different sizes coexist, each row
 * keyed by its `search_docs` id (deleted with it, by cascade) and tagged with its partition (scope and
 * embedder). An HNSW index with cosine distance answers the KNN; `<=>` is cosine distance, so the score is
 * `1 − distance` as on SQLite.
 * @module
 */
import { type Kysely, sql } from 'kysely';

/** pgvector's HNSW index takes `vector` columns of at most this many dimensions; larger ones are scanned. */
const HNSW_MAX_DIMS = 2000;

/** The table holding vectors of `dims` dimensions. */
export function pgvecTableName(dims: number): string {
  return `search_pgvec_${Math.trunc(dims)}`;
}

/** pgvector's text form of a vector, `[x,y,…]`, which it casts from a bound text parameter. */
export function pgvectorLiteral(vector: Float32Array): string {
  return `[${Array.from(vector).join(',')}]`;
}

/**
 * Whether the `vector` extension is usable in this database: created here when the server has it and the
 * role may (an existing extension needs no privilege).
 */
export async function enablePgvector(db: Kysely<unknown>): Promise<boolean> {
  try {
    const available = await sql<{ name: string }>`
      select name from pg_available_extensions where name = 'vector'`.execute(db);
    if (available.rows.length === 0) return false;
    await sql`create extension if not exists vector`.execute(db);
  } catch {
    // No privilege to create it: usable only if someone already did.
  }
  return (await pgvectorVersion(db)) !== undefined;
}

async function pgvectorVersion(db: Kysely<unknown>): Promise<string | undefined> {
  const installed = await sql<{ extversion: string }>`
    select extversion from pg_extension where extname = 'vector'`
    .execute(db)
    .catch(() => ({ rows: [] as { extversion: string }[] }));
  return installed.rows[0]?.extversion;
}

/** The cache of tables known to exist, per index instance. */
export class PgvectorSide {
  private readonly tables = new Set<number>();
  /** Whether HNSW can scan on past the partition filter (`hnsw.iterative_scan`, pgvector ≥ 0.8). */
  private iterativeScan: boolean | undefined;

  /** Forgets what a rolled-back transaction may have created. */
  reset(): void {
    this.tables.clear();
  }

  /**
   * Creates the table of one dimension once. Replicas may race to create it: a transaction-scoped advisory
   * lock per table name serializes them, and `if not exists` makes the loser's statements no-ops.
   */
  async ensureTable(db: Kysely<unknown>, dims: number): Promise<string> {
    const table = pgvecTableName(dims);
    if (this.tables.has(dims)) return table;
    const size = sql.raw(String(Math.trunc(dims)));
    await sql`select pg_advisory_xact_lock(hashtext(${table}))`.execute(db);
    await sql`create table if not exists ${sql.table(table)} (
      id bigint primary key references search_docs (id) on delete cascade,
      part text not null,
      embedding vector(${size}) not null)`.execute(db);
    await sql`create index if not exists ${sql.raw(`${table}_part`)} on ${sql.table(table)} (part)`.execute(db);
    if (dims <= HNSW_MAX_DIMS) {
      await sql`create index if not exists ${sql.raw(`${table}_hnsw`)} on ${sql.table(table)}
        using hnsw (embedding vector_cosine_ops)`.execute(db);
    }
    this.tables.add(dims);
    return table;
  }

  async hasTable(db: Kysely<unknown>, dims: number): Promise<boolean> {
    if (this.tables.has(dims)) return true;
    const result = await sql<{ found: string | null }>`
      select to_regclass(${pgvecTableName(dims)})::text as found`.execute(db);
    const found = result.rows[0]?.found != null;
    if (found) this.tables.add(dims);
    return found;
  }

  /** Inserts vectors of one dimension (inside the caller's transaction). */
  async insert(
    db: Kysely<unknown>,
    dims: number,
    entries: readonly { id: number; partition: string; vector: Float32Array }[],
  ): Promise<void> {
    if (entries.length === 0) return;
    const table = await this.ensureTable(db, dims);
    const values = sql.join(
      entries.map((entry) => sql`(${entry.id}, ${entry.partition}, ${pgvectorLiteral(entry.vector)}::vector)`),
    );
    await sql`insert into ${sql.table(table)} (id, part, embedding) values ${values}`.execute(db);
  }

  /** The `k` nearest vectors of one partition by cosine distance, best first, scored `1 − distance`. */
  async nearest(
    db: Kysely<unknown>,
    partition: string,
    vector: Float32Array,
    k: number,
  ): Promise<{ id: number; score: number }[]> {
    const dims = vector.length;
    if (!(await this.hasTable(db, dims))) return [];
    const table = pgvecTableName(dims);
    const literal = pgvectorLiteral(vector);
    const query = sql<{ id: number; distance: number }>`
      select id, embedding <=> ${literal}::vector as distance from ${sql.table(table)}
      where part = ${partition}
      order by embedding <=> ${literal}::vector limit ${k}`;
    // HNSW stops after `ef_search` candidates, and the partition filter applies after it: without an
    // iterative scan (pgvector 0.8) a scope in a large shared table could come back short. Raising
    // `ef_search` to k keeps the page full for the common case; iterative scan covers the rest.
    if (this.iterativeScan === undefined) {
      const [major = 0, minor = 0] = ((await pgvectorVersion(db)) ?? '0.0').split('.').map(Number);
      this.iterativeScan = major > 0 || minor >= 8;
    }
    const iterative = this.iterativeScan;
    const rows = await db.transaction().execute(async (trx) => {
      await sql`select set_config('hnsw.ef_search', ${String(Math.min(Math.max(k, 40), 1000))}, true)`.execute(trx);
      if (iterative) await sql`select set_config('hnsw.iterative_scan', 'relaxed_order', true)`.execute(trx);
      return (await query.execute(trx)).rows;
    });
    // relaxed_order may return neighbours slightly out of order: sort by the exact distance it returned.
    return rows
      .map((row) => ({ id: Number(row.id), score: 1 - Number(row.distance) }))
      .sort((a, b) => b.score - a.score || a.id - b.id);
  }
}
