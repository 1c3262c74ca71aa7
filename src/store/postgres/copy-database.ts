/**
 * Copies every table of one agentos database into another (`agentos migrate --from … --to …`), the way
 * from the embedded SQLite to Postgres when one machine is outgrown. Both sides are migrated to the same
 * schema first; rows are copied parents before children (foreign keys), in one target transaction, and
 * each table is then verified by its row count and an order-independent checksum computed on both
 * sides from values normalised across dialects (JSON text vs jsonb, 0/1 vs boolean).
 * @module
 */
import { createHash } from 'node:crypto';
import { type Kysely, sql, type Transaction } from 'kysely';
import { AgentOsError } from '../../errors/index.js';
import type { KyselyStore } from '../kysely/kysely-store.js';

type Dialect = 'sqlite' | 'postgres';
// biome-ignore lint/suspicious/noExplicitAny: whole-table copy works on tables the typed schema does not list
type AnyDb = Kysely<any>;
type Row = Record<string, unknown>;

/** Bookkeeping tables each side keeps for itself. */
const OWN_TABLES = new Set(['agentos_migrations', 'agentos_migrations_lock']);
const BATCH = 500;

/** One copied table as verified. */
export interface TableCopy {
  table: string;
  rows: number;
  /** Order-independent checksum of the normalised rows; '' in a dry run. */
  checksum: string;
}

/** What {@link copyDatabase} did. */
export interface CopyResult {
  tables: TableCopy[];
  /** Source tables with no counterpart in the target (SQLite full-text and vector indexes), not copied. */
  skipped: string[];
  dryRun: boolean;
}

interface Side {
  db: AnyDb;
  dialect: Dialect;
}

function sideOf(store: KyselyStore): Side {
  return { db: store.kysely as AnyDb, dialect: store.capabilities.dialect };
}

/** Tables to copy, and (SQLite) the virtual index tables and their shadows that are left out. */
async function tableNames(side: Side): Promise<{ tables: string[]; internal: string[] }> {
  if (side.dialect === 'postgres') {
    const { rows } = await sql<{ name: string }>`
      select table_name as name from information_schema.tables
      where table_schema = current_schema() and table_type = 'BASE TABLE'`.execute(side.db);
    return { tables: rows.map((row) => row.name).filter((name) => !OWN_TABLES.has(name)), internal: [] };
  }
  // Virtual tables (fts5, vec0) and their shadow tables are indexes SQLite keeps for itself.
  const { rows } = await sql<{ name: string; sql: string | null }>`
    select name, sql from sqlite_master where type = 'table' and name not like 'sqlite_%'`.execute(side.db);
  const virtual = rows.filter((row) => /^create virtual table/i.test(row.sql ?? '')).map((row) => row.name);
  const isInternal = (name: string) => virtual.some((base) => name === base || name.startsWith(`${base}_`));
  const names = rows.map((row) => row.name).filter((name) => !OWN_TABLES.has(name));
  return { tables: names.filter((name) => !isInternal(name)), internal: virtual };
}

/** Parent tables of `table` through foreign keys. */
async function parents(side: Side, table: string): Promise<string[]> {
  if (side.dialect === 'postgres') {
    const { rows } = await sql<{ parent: string }>`
      select distinct confrelid::regclass::text as parent from pg_constraint
      where contype = 'f' and conrelid = ${table}::regclass`.execute(side.db);
    return rows.map((row) => row.parent.replace(/^"|"$/g, ''));
  }
  const { rows } = await sql<{ table: string }>`select "table" from pragma_foreign_key_list(${table})`.execute(side.db);
  return rows.map((row) => row.table);
}

/** Parents before children; a self-reference or cycle keeps the name order for the rest. */
async function copyOrder(side: Side, tables: string[]): Promise<string[]> {
  const deps = new Map<string, string[]>();
  for (const table of tables)
    deps.set(
      table,
      (await parents(side, table)).filter((p) => p !== table),
    );
  const ordered: string[] = [];
  const placed = new Set<string>();
  const visit = (table: string, path: Set<string>) => {
    if (placed.has(table) || path.has(table)) return;
    path.add(table);
    for (const parent of deps.get(table) ?? []) if (deps.has(parent)) visit(parent, path);
    placed.add(table);
    ordered.push(table);
  };
  for (const table of [...tables].sort()) visit(table, new Set());
  return ordered;
}

/** Postgres column types by table, to normalise values for checksums and to bind them on insert. */
async function postgresColumnTypes(db: AnyDb): Promise<Map<string, Map<string, string>>> {
  const { rows } = await sql<{ table_name: string; column_name: string; data_type: string }>`
    select table_name, column_name, data_type from information_schema.columns
    where table_schema = current_schema()`.execute(db);
  const types = new Map<string, Map<string, string>>();
  for (const row of rows) {
    let columns = types.get(row.table_name);
    if (!columns) {
      columns = new Map();
      types.set(row.table_name, columns);
    }
    columns.set(row.column_name, row.data_type);
  }
  return types;
}

async function identityColumns(db: AnyDb, table: string): Promise<string[]> {
  const { rows } = await sql<{ column_name: string }>`
    select column_name from information_schema.columns
    where table_schema = current_schema() and table_name = ${table} and is_identity = 'YES'`.execute(db);
  return rows.map((row) => row.column_name);
}

function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Row).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
}

const isJson = (pgType: string | undefined) => pgType === 'jsonb' || pgType === 'json';

/**
 * One value as both dialects would agree on it, given the Postgres type of its column. node-postgres hands
 * jsonb over parsed (a JSON string scalar arrives as a JS string); SQLite hands the JSON text.
 */
function normalise(value: unknown, pgType: string | undefined, from: Dialect): string {
  if (value === null || value === undefined) return '\u0000null';
  if (isJson(pgType)) return canonicalJson(from === 'sqlite' && typeof value === 'string' ? JSON.parse(value) : value);
  if (pgType === 'boolean') return value === true || value === 1 || value === '1' || value === 't' ? 'true' : 'false';
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (typeof value === 'number' || typeof value === 'bigint') return String(Number(value));
  if (value instanceof Date) return String(value.getTime());
  return String(value);
}

/** Makes a value bindable on the target: JSON values as text, booleans as 0/1 on SQLite. */
function bindable(value: unknown, from: Dialect, target: Dialect, pgType: string | undefined): unknown {
  if (value === null || value === undefined) return null;
  if (from === 'postgres' && isJson(pgType)) return JSON.stringify(value);
  if (typeof value === 'boolean') return target === 'sqlite' ? (value ? 1 : 0) : value;
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return value;
  // node-postgres would send a JS array as a Postgres array; jsonb wants JSON text.
  if (typeof value === 'object') return JSON.stringify(value);
  if (target === 'postgres' && pgType === 'boolean') return value === 1 || value === '1';
  return value;
}

/** One batch of rows in a stable order (every column), so consecutive pages neither skip nor repeat a row. */
async function page(db: AnyDb, table: string, columns: string[], offset: number): Promise<Row[]> {
  let query = db.selectFrom(table).select(columns);
  for (const column of columns) query = query.orderBy(sql.ref(column));
  return (await query.limit(BATCH).offset(offset).execute()) as Row[];
}

/** Count and an order-independent checksum (sum of per-row SHA-256 prefixes mod 2^64). */
async function tableChecksum(
  side: Side,
  table: string,
  columns: string[],
  types: Map<string, string> | undefined,
): Promise<{ rows: number; checksum: string }> {
  let sum = 0n;
  let rows = 0;
  for (let offset = 0; ; offset += BATCH) {
    const batch = await page(side.db, table, columns, offset);
    for (const row of batch) {
      const digest = createHash('sha256')
        .update(columns.map((column) => normalise(row[column], types?.get(column), side.dialect)).join('\u0001'))
        .digest();
      sum = (sum + digest.readBigUInt64BE(0)) & 0xffff_ffff_ffff_ffffn;
      rows += 1;
    }
    if (batch.length < BATCH) break;
  }
  return { rows, checksum: sum.toString(16).padStart(16, '0') };
}

async function columnsOf(side: Side, table: string): Promise<string[]> {
  if (side.dialect === 'postgres') {
    const { rows } = await sql<{ column_name: string }>`
      select column_name from information_schema.columns
      where table_schema = current_schema() and table_name = ${table} order by ordinal_position`.execute(side.db);
    return rows.map((row) => row.column_name);
  }
  const { rows } = await sql<{ name: string }>`select name from pragma_table_info(${table})`.execute(side.db);
  return rows.map((row) => row.name);
}

async function insertBatch(
  source: Dialect,
  target: Side,
  transaction: Transaction<unknown>,
  table: string,
  columns: string[],
  rows: Row[],
  overriding: boolean,
  types: Map<string, string> | undefined,
): Promise<void> {
  const values = rows.map(
    (row) =>
      sql`(${sql.join(columns.map((column) => bindable(row[column], source, target.dialect, types?.get(column))))})`,
  );
  const override = overriding ? sql` overriding system value` : sql``;
  await sql`insert into ${sql.table(table)} (${sql.join(columns.map((column) => sql.ref(column)))})${override} values ${sql.join(values)}`.execute(
    transaction,
  );
}

/**
 * Copies `source` into the empty, migrated `target` and verifies every table. Refuses a source with
 * pending migrations (migrate it first, so both have one schema) and a target that already holds rows.
 */
export async function copyDatabase(
  sourceStore: KyselyStore,
  targetStore: KyselyStore,
  options: { dryRun?: boolean; onTable?: (copy: TableCopy) => void } = {},
): Promise<CopyResult> {
  const source = sideOf(sourceStore);
  const target = sideOf(targetStore);
  const pending = (await sourceStore.migrate({ dryRun: true })).applied;
  if (pending.length > 0) {
    throw new AgentOsError(
      'AOS_STORE_MIGRATION_FAILED',
      `The source database has pending migrations (${pending.join(', ')}): run agentos migrate on it first`,
    );
  }
  const dryRun = options.dryRun ?? false;
  if (!dryRun) await targetStore.migrate();
  const { tables: sourceTables, internal } = await tableNames(source);
  const targetTables = new Set(dryRun ? sourceTables : (await tableNames(target)).tables);
  const tables = await copyOrder(
    source,
    sourceTables.filter((table) => targetTables.has(table)),
  );
  const skipped = [...internal, ...sourceTables.filter((table) => !targetTables.has(table))].sort();
  const pgSide = source.dialect === 'postgres' ? source : target.dialect === 'postgres' ? target : undefined;
  const pgTypes = pgSide && !dryRun ? await postgresColumnTypes(pgSide.db) : new Map<string, Map<string, string>>();
  const columns = new Map<string, string[]>();
  for (const table of tables) columns.set(table, await columnsOf(source, table));

  if (dryRun) {
    // Counts only: checksums normalise by the target's column types, which a dry run does not create.
    const result: TableCopy[] = [];
    for (const table of tables) {
      const row = await source.db
        .selectFrom(table)
        .select((builder) => builder.fn.countAll().as('n'))
        .executeTakeFirst();
      const copy = { table, rows: Number(row?.n ?? 0), checksum: '' };
      options.onTable?.(copy);
      result.push(copy);
    }
    return { tables: result, skipped, dryRun };
  }

  for (const table of tables) {
    const row = await target.db
      .selectFrom(table)
      .select((builder) => builder.fn.countAll().as('n'))
      .executeTakeFirst();
    if (Number(row?.n ?? 0) > 0) {
      throw new AgentOsError('AOS_CONFLICT', `The target database is not empty (table ${table} has rows)`);
    }
  }

  const result: TableCopy[] = [];
  await target.db.transaction().execute(async (transaction) => {
    for (const table of tables) {
      const names = columns.get(table) ?? [];
      const identity = target.dialect === 'postgres' ? await identityColumns(target.db, table) : [];
      for (let offset = 0; ; offset += BATCH) {
        const rows = await page(source.db, table, names, offset);
        if (rows.length > 0) {
          await insertBatch(
            source.dialect,
            target,
            transaction,
            table,
            names,
            rows,
            identity.length > 0,
            pgTypes.get(table),
          );
        }
        if (rows.length < BATCH) break;
      }
      // Identity sequences continue after the copied ids, so the next insert does not collide.
      for (const column of identity) {
        await sql`select setval(pg_get_serial_sequence(${table}, ${column}), coalesce((select max(${sql.ref(column)}) from ${sql.table(table)}), 0) + 1, false)`.execute(
          transaction,
        );
      }
    }
    // Verified before commit: a difference rolls the whole copy back.
    const written: Side = { db: transaction as AnyDb, dialect: target.dialect };
    for (const table of tables) {
      const names = columns.get(table) ?? [];
      const from = await tableChecksum(source, table, names, pgTypes.get(table));
      const to = await tableChecksum(written, table, names, pgTypes.get(table));
      if (from.rows !== to.rows || from.checksum !== to.checksum) {
        throw new AgentOsError(
          'AOS_STORE_MIGRATION_FAILED',
          `Verification failed for ${table}: ${from.rows} rows (checksum ${from.checksum}) copied as ${to.rows} rows (checksum ${to.checksum}); nothing was written`,
        );
      }
      result.push({ table, ...from });
    }
  });
  for (const copy of result) options.onTable?.(copy);
  return { tables: result, skipped, dryRun };
}
