import { type ColumnDataType, type CreateTableBuilder, type Kysely, PostgresAdapter } from 'kysely';

/**
 * One set of migrations serves both dialects (issue 12): a migration asks this module for the few
 * column types that differ and writes everything else (`text`, `double precision`) once.
 *
 * - `json`: text on SQLite (its JSON functions read text), jsonb on Postgres.
 * - `epochMs`: timestamps are epoch milliseconds, which overflow Postgres' 32-bit `integer`:
 *   `bigint` there, `integer` (64-bit) on SQLite.
 * - `bool`: SQLite has no boolean; 0/1 integers there, `boolean` on Postgres.
 * - `blob`: raw bytes (embeddings, uploads).
 * @module
 */
export interface ColumnTypes {
  dialect: 'sqlite' | 'postgres';
  json: ColumnDataType;
  epochMs: ColumnDataType;
  bool: ColumnDataType;
  blob: ColumnDataType;
}

/** Which dialect a migration runs on, from the Kysely adapter it was handed. */
export function dialectOf(db: Kysely<unknown>): 'sqlite' | 'postgres' {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

export function columnTypes(db: Kysely<unknown>): ColumnTypes {
  const dialect = dialectOf(db);
  return dialect === 'postgres'
    ? { dialect, json: 'jsonb', epochMs: 'bigint', bool: 'boolean', blob: 'bytea' }
    : { dialect, json: 'text', epochMs: 'integer', bool: 'integer', blob: 'blob' };
}

/**
 * Adds an auto-incrementing integer primary key: `integer primary key autoincrement` on SQLite
 * (ids never reused), `bigint generated always as identity` on Postgres.
 */
export function addSerialPrimaryKey<T extends string, C extends string>(
  table: CreateTableBuilder<T, C>,
  types: ColumnTypes,
  name: string,
): CreateTableBuilder<T, C> {
  return types.dialect === 'postgres'
    ? table.addColumn(name, 'bigint', (column) => column.primaryKey().generatedAlwaysAsIdentity())
    : table.addColumn(name, 'integer', (column) => column.primaryKey().autoIncrement());
}
