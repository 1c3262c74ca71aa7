/**
 * {@link KnowledgeStore} over Kysely, dialect-neutral (SQLite and Postgres).
 * @module
 */
import type { Kysely, Selectable } from 'kysely';
import { ConflictError } from '../../errors/index.js';
import type {
  KnowledgeContentCreate,
  KnowledgeContentFilter,
  KnowledgeContentRecord,
  KnowledgeContentStatus,
  KnowledgeContentUpdate,
  KnowledgeStore,
} from '../knowledge-types.js';
import type { Page } from '../types.js';
import { isUniqueViolation } from './constraint-errors.js';
import { decodeJson, encodeJson } from './json-codec.js';

/** Row of `knowledge_contents` (migration 007). */
export interface KnowledgeContentsTable {
  id: string;
  workspace_id: string;
  knowledge_id: string;
  name: string;
  description: string | null;
  type: string;
  size: number;
  source: string | null;
  metadata: string;
  status: string;
  status_message: string | null;
  content_hash: string | null;
  chunk_count: number;
  access_count: number;
  created_at: number;
  updated_at: number;
}

interface KnowledgeTables {
  knowledge_contents: KnowledgeContentsTable;
}

const DEFAULT_WORKSPACE = 'default';

function toRecord(row: Selectable<KnowledgeContentsTable>): KnowledgeContentRecord {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    knowledgeId: row.knowledge_id,
    name: row.name,
    description: row.description,
    type: row.type,
    size: Number(row.size),
    source: row.source,
    metadata: decodeJson(row.metadata, {}),
    status: row.status as KnowledgeContentStatus,
    statusMessage: row.status_message,
    contentHash: row.content_hash,
    chunkCount: Number(row.chunk_count),
    accessCount: Number(row.access_count),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

/** The Kysely implementation. */
export class KyselyKnowledgeStore implements KnowledgeStore {
  private readonly db: Kysely<KnowledgeTables>;

  constructor(
    db: Kysely<unknown>,
    private readonly now: () => number,
  ) {
    this.db = db as unknown as Kysely<KnowledgeTables>;
  }

  async create(input: KnowledgeContentCreate): Promise<KnowledgeContentRecord> {
    const at = this.now();
    const row: KnowledgeContentsTable = {
      id: input.id,
      workspace_id: input.workspaceId ?? DEFAULT_WORKSPACE,
      knowledge_id: input.knowledgeId,
      name: input.name,
      description: input.description ?? null,
      type: input.type,
      size: input.size ?? 0,
      source: input.source ?? null,
      metadata: encodeJson(input.metadata ?? {}),
      status: input.status ?? 'processing',
      status_message: input.statusMessage ?? null,
      content_hash: input.contentHash ?? null,
      chunk_count: 0,
      access_count: 0,
      created_at: at,
      updated_at: at,
    };
    try {
      await this.db.insertInto('knowledge_contents').values(row).execute();
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictError(`Content ${input.id} already exists`);
      throw error;
    }
    return toRecord(row);
  }

  async get(workspaceId: string, id: string): Promise<KnowledgeContentRecord | null> {
    const row = await this.db
      .selectFrom('knowledge_contents')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? toRecord(row) : null;
  }

  async list(filter: KnowledgeContentFilter): Promise<Page<KnowledgeContentRecord>> {
    const limit = Math.min(Math.max(Math.trunc(filter.limit ?? 20), 1), 1000);
    const page = Math.max(Math.trunc(filter.page ?? 1), 1);
    let query = this.db.selectFrom('knowledge_contents').where('workspace_id', '=', filter.workspaceId);
    if (filter.knowledgeId !== undefined) query = query.where('knowledge_id', '=', filter.knowledgeId);
    const order = filter.order ?? 'desc';
    const [rows, count] = await Promise.all([
      query
        .selectAll()
        .orderBy(filter.sortBy ?? 'created_at', order)
        .orderBy('id', order)
        .limit(limit)
        .offset((page - 1) * limit)
        .execute(),
      query.select((eb) => eb.fn.countAll().as('total')).executeTakeFirst(),
    ]);
    return { items: rows.map(toRecord), total: Number(count?.total ?? 0) };
  }

  async findBySource(workspaceId: string, knowledgeId: string, source: string): Promise<KnowledgeContentRecord | null> {
    const row = await this.db
      .selectFrom('knowledge_contents')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('knowledge_id', '=', knowledgeId)
      .where('source', '=', source)
      .orderBy('created_at', 'desc')
      .executeTakeFirst();
    return row ? toRecord(row) : null;
  }

  async update(workspaceId: string, id: string, patch: KnowledgeContentUpdate): Promise<KnowledgeContentRecord | null> {
    const values: Partial<KnowledgeContentsTable> = { updated_at: this.now() };
    if (patch.name !== undefined) values.name = patch.name;
    if (patch.description !== undefined) values.description = patch.description;
    if (patch.type !== undefined) values.type = patch.type;
    if (patch.size !== undefined) values.size = patch.size;
    if (patch.metadata !== undefined) values.metadata = encodeJson(patch.metadata);
    if (patch.status !== undefined) values.status = patch.status;
    if (patch.statusMessage !== undefined) values.status_message = patch.statusMessage;
    if (patch.contentHash !== undefined) values.content_hash = patch.contentHash;
    if (patch.chunkCount !== undefined) values.chunk_count = patch.chunkCount;
    const result = await this.db
      .updateTable('knowledge_contents')
      .set(values)
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', id)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) return null;
    return this.get(workspaceId, id);
  }

  async delete(workspaceId: string, id: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('knowledge_contents')
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async countByKnowledge(workspaceId: string): Promise<Map<string, number>> {
    const rows = await this.db
      .selectFrom('knowledge_contents')
      .select((eb) => ['knowledge_id', eb.fn.countAll().as('total')])
      .where('workspace_id', '=', workspaceId)
      .groupBy('knowledge_id')
      .execute();
    return new Map(rows.map((row) => [row.knowledge_id, Number(row.total)]));
  }

  async failProcessing(message: string): Promise<KnowledgeContentRecord[]> {
    const rows = await this.db
      .updateTable('knowledge_contents')
      .set({ status: 'failed', status_message: message, updated_at: this.now() })
      .where('status', '=', 'processing')
      .returningAll()
      .execute();
    return rows.map(toRecord);
  }

  async dangerouslyClearAll(): Promise<void> {
    await this.db.deleteFrom('knowledge_contents').execute();
  }
}
