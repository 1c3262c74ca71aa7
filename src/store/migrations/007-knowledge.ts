import { type Kysely, sql } from 'kysely';
import { addSerialPrimaryKey, columnTypes } from './column-types.js';

/**
 * Knowledge (issue 6): the content of knowledge bases and the hybrid search index over their chunks.
 *
 * - `search_docs` holds every indexed chunk (knowledge now, other rooms later) with its vector as a blob,
 *   keyed by `scope` (who may search it) and `source_id` (what to delete together). Its
 *   `(embedder, content_hash)` index is the persistent embedding cache.
 * - Keyword search: on SQLite an FTS5 table over `search_docs.content` kept in step by triggers (so a
 *   delete can never leave keyword hits behind); on Postgres a generated `tsvector` column with a GIN index.
 * - Vector search on SQLite uses sqlite-vec `vec0` tables, one per dimension (`search_vec_<n>`), created on
 *   demand by `search/kysely-search-index.ts`, since embedders of different sizes cannot share one.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const t = columnTypes(db);
  await db.schema
    .createTable('knowledge_contents')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('workspace_id', 'text', (column) => column.notNull())
    .addColumn('knowledge_id', 'text', (column) => column.notNull())
    .addColumn('name', 'text', (column) => column.notNull())
    .addColumn('description', 'text')
    .addColumn('type', 'text', (column) => column.notNull())
    .addColumn('size', 'integer', (column) => column.notNull().defaultTo(0))
    .addColumn('source', 'text')
    .addColumn('metadata', t.json, (column) => column.notNull().defaultTo('{}'))
    .addColumn('status', 'text', (column) => column.notNull())
    .addColumn('status_message', 'text')
    .addColumn('content_hash', 'text')
    .addColumn('chunk_count', 'integer', (column) => column.notNull().defaultTo(0))
    .addColumn('access_count', 'integer', (column) => column.notNull().defaultTo(0))
    .addColumn('created_at', t.epochMs, (column) => column.notNull())
    .addColumn('updated_at', t.epochMs, (column) => column.notNull())
    .execute();
  await db.schema
    .createIndex('knowledge_contents_workspace_kb')
    .on('knowledge_contents')
    .columns(['workspace_id', 'knowledge_id', 'created_at'])
    .execute();
  await db.schema
    .createIndex('knowledge_contents_source')
    .on('knowledge_contents')
    .columns(['workspace_id', 'knowledge_id', 'source'])
    .execute();

  await addSerialPrimaryKey(db.schema.createTable('search_docs'), t, 'id')
    .addColumn('scope', 'text', (column) => column.notNull())
    .addColumn('source_id', 'text', (column) => column.notNull())
    .addColumn('chunk_index', 'integer', (column) => column.notNull())
    .addColumn('content', 'text', (column) => column.notNull())
    .addColumn('metadata', t.json, (column) => column.notNull().defaultTo('{}'))
    .addColumn('content_hash', 'text', (column) => column.notNull())
    .addColumn('embedder', 'text')
    .addColumn('dims', 'integer')
    .addColumn('embedding', t.blob)
    .addColumn('created_at', t.epochMs, (column) => column.notNull())
    .execute();
  await db.schema.createIndex('search_docs_scope_source').on('search_docs').columns(['scope', 'source_id']).execute();
  await db.schema
    .createIndex('search_docs_embedder_hash')
    .on('search_docs')
    .columns(['embedder', 'content_hash'])
    .execute();

  if (t.dialect === 'postgres') {
    await sql`alter table search_docs add column tsv tsvector generated always as (to_tsvector('english', content)) stored`.execute(
      db,
    );
    await sql`create index search_docs_tsv on search_docs using gin (tsv)`.execute(db);
  } else {
    // External-content FTS5: the text is stored once (in search_docs); triggers keep the index in step.
    await sql`create virtual table search_fts using fts5(content, content='search_docs', content_rowid='id', tokenize='porter unicode61')`.execute(
      db,
    );
    await sql`create trigger search_docs_ai after insert on search_docs begin
      insert into search_fts(rowid, content) values (new.id, new.content);
    end`.execute(db);
    await sql`create trigger search_docs_ad after delete on search_docs begin
      insert into search_fts(search_fts, rowid, content) values ('delete', old.id, old.content);
    end`.execute(db);
    await sql`create trigger search_docs_au after update of content on search_docs begin
      insert into search_fts(search_fts, rowid, content) values ('delete', old.id, old.content);
      insert into search_fts(rowid, content) values (new.id, new.content);
    end`.execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  if (columnTypes(db).dialect === 'sqlite') await sql`drop table if exists search_fts`.execute(db);
  await db.schema.dropTable('search_docs').ifExists().execute();
  await db.schema.dropTable('knowledge_contents').ifExists().execute();
}
