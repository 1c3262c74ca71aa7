import type { Kysely } from 'kysely';
import { columnTypes } from './column-types.js';

/**
 * Memory (issue 6): user memories, their keyword index, session summaries and episodes.
 *
 * Keyword recall must stay fast for users with many memories (Mastra #11702), so every memory's terms
 * are written once, on write, into `memory_terms`, and recall is an index range scan over the query's
 * terms rather than a scan of the user's memories. The same layout serves episodes. Both dialects run
 * it (no FTS5 here); the term tables cascade from their owners, and summaries and episodes from their
 * session, so deleting a session or a memory leaves nothing behind.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const t = columnTypes(db);
  await db.schema
    .createTable('memories')
    .addColumn('memory_id', 'text', (column) => column.primaryKey())
    .addColumn('workspace_id', 'text', (column) => column.notNull())
    // '' when the memory belongs to no user, so equality lookups and the unique hash work on both dialects.
    .addColumn('user_key', 'text', (column) => column.notNull())
    .addColumn('user_id', 'text')
    .addColumn('agent_id', 'text')
    .addColumn('team_id', 'text')
    .addColumn('memory', 'text', (column) => column.notNull())
    .addColumn('topics', t.json, (column) => column.notNull().defaultTo('[]'))
    .addColumn('input', 'text')
    .addColumn('source', 'text', (column) => column.notNull())
    .addColumn('content_hash', 'text', (column) => column.notNull())
    .addColumn('tokens', 'integer', (column) => column.notNull().defaultTo(0))
    .addColumn('created_at', t.epochMs, (column) => column.notNull())
    .addColumn('updated_at', t.epochMs, (column) => column.notNull())
    .execute();
  await db.schema
    .createIndex('memories_workspace_user_updated')
    .on('memories')
    .columns(['workspace_id', 'user_key', 'updated_at'])
    .execute();
  await db.schema
    .createIndex('memories_workspace_hash')
    .on('memories')
    .columns(['workspace_id', 'content_hash'])
    .unique()
    .execute();

  await db.schema
    .createTable('memory_terms')
    .addColumn('memory_id', 'text', (column) => column.notNull().references('memories.memory_id').onDelete('cascade'))
    .addColumn('workspace_id', 'text', (column) => column.notNull())
    .addColumn('user_key', 'text', (column) => column.notNull())
    .addColumn('term', 'text', (column) => column.notNull())
    .addPrimaryKeyConstraint('memory_terms_pk', ['memory_id', 'term'])
    .execute();
  await db.schema
    .createIndex('memory_terms_lookup')
    .on('memory_terms')
    .columns(['workspace_id', 'user_key', 'term'])
    .execute();

  await db.schema
    .createTable('session_summaries')
    .addColumn('session_id', 'text', (column) =>
      column.primaryKey().references('sessions.session_id').onDelete('cascade'),
    )
    .addColumn('workspace_id', 'text', (column) => column.notNull())
    .addColumn('user_key', 'text', (column) => column.notNull())
    .addColumn('user_id', 'text')
    .addColumn('agent_id', 'text')
    .addColumn('summary', 'text', (column) => column.notNull())
    .addColumn('topics', t.json, (column) => column.notNull().defaultTo('[]'))
    .addColumn('created_at', t.epochMs, (column) => column.notNull())
    .addColumn('updated_at', t.epochMs, (column) => column.notNull())
    .execute();
  await db.schema
    .createIndex('session_summaries_user')
    .on('session_summaries')
    .columns(['workspace_id', 'user_key', 'updated_at'])
    .execute();

  await db.schema
    .createTable('memory_episodes')
    .addColumn('episode_id', 'text', (column) => column.primaryKey())
    .addColumn('session_id', 'text', (column) =>
      column.notNull().unique().references('sessions.session_id').onDelete('cascade'),
    )
    .addColumn('workspace_id', 'text', (column) => column.notNull())
    .addColumn('user_key', 'text', (column) => column.notNull())
    .addColumn('user_id', 'text')
    .addColumn('agent_id', 'text')
    .addColumn('summary', 'text', (column) => column.notNull())
    .addColumn('keywords', t.json, (column) => column.notNull().defaultTo('[]'))
    .addColumn('topic', 'text', (column) => column.notNull())
    .addColumn('importance', 'double precision', (column) => column.notNull())
    .addColumn('episode_type', 'text', (column) => column.notNull())
    .addColumn('created_at', t.epochMs, (column) => column.notNull())
    .addColumn('updated_at', t.epochMs, (column) => column.notNull())
    .execute();
  await db.schema
    .createIndex('memory_episodes_workspace_updated')
    .on('memory_episodes')
    .columns(['workspace_id', 'updated_at'])
    .execute();

  await db.schema
    .createTable('episode_terms')
    .addColumn('episode_id', 'text', (column) =>
      column.notNull().references('memory_episodes.episode_id').onDelete('cascade'),
    )
    .addColumn('workspace_id', 'text', (column) => column.notNull())
    .addColumn('user_key', 'text', (column) => column.notNull())
    .addColumn('term', 'text', (column) => column.notNull())
    .addPrimaryKeyConstraint('episode_terms_pk', ['episode_id', 'term'])
    .execute();
  await db.schema
    .createIndex('episode_terms_lookup')
    .on('episode_terms')
    .columns(['workspace_id', 'term', 'user_key'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['episode_terms', 'memory_episodes', 'session_summaries', 'memory_terms', 'memories']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
