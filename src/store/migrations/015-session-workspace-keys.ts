import { type Kysely, sql } from 'kysely';
import { dialectOf } from './column-types.js';

/**
 * Session ids are unique per workspace, not across workspaces (issue 5): before this, reusing an id that
 * another workspace holds answered 409 and so told the caller it exists. `sessions` is keyed by
 * (workspace_id, session_id), and the tables that point at a session (`runs`, `session_summaries`,
 * `memory_episodes`) reference that pair.
 *
 * Postgres alters the constraints in place. SQLite cannot alter a primary key or a foreign key, so each
 * table is rebuilt from its own stored definition with only the key clauses changed (the documented
 * procedure: foreign keys off, rebuild in one transaction, `foreign_key_check`, foreign keys back on;
 * Kysely runs SQLite migrations outside a transaction, which makes the pragma possible).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  if (dialectOf(db) === 'postgres') {
    await upPostgres(db);
    return;
  }
  await rebuildSqlite(db, [
    {
      table: 'sessions',
      replace: ['"session_id" text primary key', '"session_id" text not null'],
      constraints: ['constraint "sessions_pk" primary key ("workspace_id", "session_id")'],
    },
    {
      table: 'runs',
      replace: [
        '"session_id" text not null references "sessions" ("session_id") on delete cascade',
        '"session_id" text not null',
      ],
      constraints: [SESSION_FOREIGN_KEY],
    },
    {
      table: 'session_summaries',
      replace: [
        '"session_id" text primary key references "sessions" ("session_id") on delete cascade',
        '"session_id" text not null',
      ],
      constraints: [
        'constraint "session_summaries_pk" primary key ("workspace_id", "session_id")',
        SESSION_FOREIGN_KEY,
      ],
    },
    {
      table: 'memory_episodes',
      replace: [
        '"session_id" text not null unique references "sessions" ("session_id") on delete cascade',
        '"session_id" text not null',
      ],
      constraints: ['constraint "memory_episodes_session" unique ("workspace_id", "session_id")', SESSION_FOREIGN_KEY],
    },
  ]);
}

/** Irreversible once two workspaces share a session id; refuses rather than merging them. */
export async function down(): Promise<void> {
  throw new Error('015-session-workspace-keys cannot be undone: session ids may now repeat across workspaces');
}

const SESSION_FOREIGN_KEY =
  'foreign key ("workspace_id", "session_id") references "sessions" ("workspace_id", "session_id") on delete cascade';

async function upPostgres(db: Kysely<unknown>): Promise<void> {
  // Constraint names are Postgres' defaults for the column constraints of migrations 001 and 008.
  for (const statement of [
    'alter table runs drop constraint runs_session_id_fkey',
    'alter table session_summaries drop constraint session_summaries_session_id_fkey',
    'alter table memory_episodes drop constraint memory_episodes_session_id_fkey',
    'alter table memory_episodes drop constraint memory_episodes_session_id_key',
    'alter table session_summaries drop constraint session_summaries_pkey',
    'alter table sessions drop constraint sessions_pkey',
    'alter table sessions add constraint sessions_pkey primary key (workspace_id, session_id)',
    'alter table session_summaries add constraint session_summaries_pkey primary key (workspace_id, session_id)',
    'alter table memory_episodes add constraint memory_episodes_session_key unique (workspace_id, session_id)',
    `alter table runs add constraint runs_session_fkey ${SESSION_FOREIGN_KEY}`,
    `alter table session_summaries add constraint session_summaries_session_fkey ${SESSION_FOREIGN_KEY}`,
    `alter table memory_episodes add constraint memory_episodes_session_fkey ${SESSION_FOREIGN_KEY}`,
  ]) {
    await sql.raw(statement).execute(db);
  }
}

interface Rebuild {
  table: string;
  /** The column definition as migration 001/008 stored it, and what it becomes. */
  replace: [string, string];
  /** Table constraints appended to the definition. */
  constraints: string[];
}

async function rebuildSqlite(db: Kysely<unknown>, rebuilds: Rebuild[]): Promise<void> {
  await sql`pragma foreign_keys = off`.execute(db);
  try {
    await db.transaction().execute(async (transaction) => {
      for (const { table, replace, constraints } of rebuilds) {
        const objects = await sql<{ type: string; sql: string | null }>`
          select type, sql from sqlite_master where tbl_name = ${table}`.execute(transaction);
        const definition = objects.rows.find((row) => row.type === 'table')?.sql;
        if (!definition?.includes(replace[0])) {
          throw new Error(`Migration 015: the definition of ${table} is not the one expected`);
        }
        const indexes = objects.rows.filter((row) => row.type === 'index' && row.sql !== null).map((row) => row.sql);
        const rebuilt = `${definition
          .replace(`CREATE TABLE "${table}"`, `CREATE TABLE "${table}_rekeyed"`)
          .replace(replace[0], replace[1])
          .replace(/\)\s*$/, `, ${constraints.join(', ')})`)}`;
        await sql.raw(rebuilt).execute(transaction);
        await sql.raw(`insert into "${table}_rekeyed" select * from "${table}"`).execute(transaction);
        await sql.raw(`drop table "${table}"`).execute(transaction);
        await sql.raw(`alter table "${table}_rekeyed" rename to "${table}"`).execute(transaction);
        for (const index of indexes) await sql.raw(index as string).execute(transaction);
      }
      const violations = await sql`pragma foreign_key_check`.execute(transaction);
      if (violations.rows.length > 0) throw new Error('Migration 015: rows point at missing sessions');
    });
  } finally {
    await sql`pragma foreign_keys = on`.execute(db);
  }
}
