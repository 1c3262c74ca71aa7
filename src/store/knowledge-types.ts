/**
 * The knowledge domain of the store: one row per piece of content added to a knowledge base (a file,
 * a URL, a text), with its ingestion status. Its chunks live in the search index (`search/`).
 * @module
 */
import type { Page, PageRequest } from './types.js';

/** Ingestion status, as Agno spells it. */
export type KnowledgeContentStatus = 'processing' | 'completed' | 'failed';

/** One piece of content of a knowledge base. */
export interface KnowledgeContentRecord {
  id: string;
  workspaceId: string;
  knowledgeId: string;
  name: string;
  description: string | null;
  /** Reader that parsed it: `txt`, `md`, `html`, `json`, `csv`, `pdf`. */
  type: string;
  /** Bytes of the original content. */
  size: number;
  /** Where it came from (`file:<path>`, `url:<url>`, `upload:<filename>`, `text`), or null. */
  source: string | null;
  metadata: Record<string, unknown>;
  status: KnowledgeContentStatus;
  statusMessage: string | null;
  /** SHA-256 of the original bytes; config sources re-ingest only when it changes. */
  contentHash: string | null;
  chunkCount: number;
  accessCount: number;
  createdAt: number;
  updatedAt: number;
}

export type KnowledgeContentCreate = Pick<KnowledgeContentRecord, 'id' | 'knowledgeId' | 'name' | 'type'> &
  Partial<
    Pick<
      KnowledgeContentRecord,
      'workspaceId' | 'description' | 'size' | 'source' | 'metadata' | 'status' | 'statusMessage' | 'contentHash'
    >
  >;

export type KnowledgeContentUpdate = Partial<
  Pick<
    KnowledgeContentRecord,
    'name' | 'description' | 'type' | 'size' | 'metadata' | 'status' | 'statusMessage' | 'contentHash' | 'chunkCount'
  >
>;

export interface KnowledgeContentFilter extends PageRequest {
  workspaceId: string;
  knowledgeId?: string;
  sortBy?: 'created_at' | 'updated_at' | 'name';
  order?: 'asc' | 'desc';
}

/**
 * Knowledge contents. Every read and write names the workspace; content of another workspace is
 * indistinguishable from missing content (`null` / `false`).
 */
export interface KnowledgeStore {
  /** `ConflictError` on a duplicate id. */
  create(input: KnowledgeContentCreate): Promise<KnowledgeContentRecord>;
  get(workspaceId: string, id: string): Promise<KnowledgeContentRecord | null>;
  /** Newest first unless `order: 'asc'`. */
  list(filter: KnowledgeContentFilter): Promise<Page<KnowledgeContentRecord>>;
  /** The newest content of a knowledge base that came from `source`, or null. */
  findBySource(workspaceId: string, knowledgeId: string, source: string): Promise<KnowledgeContentRecord | null>;
  /** Applies the patch and bumps `updatedAt`; `null` when missing. */
  update(workspaceId: string, id: string, patch: KnowledgeContentUpdate): Promise<KnowledgeContentRecord | null>;
  /** Deletes the row (not its chunks: the knowledge service removes those first); `false` when missing. */
  delete(workspaceId: string, id: string): Promise<boolean>;
  /** Contents per knowledge base of a workspace. */
  countByKnowledge(workspaceId: string): Promise<Map<string, number>>;
  /** Marks every `processing` content `failed` with `message` (start-up: their ingestion died); returns them. */
  failProcessing(message: string): Promise<KnowledgeContentRecord[]>;
  /** Tests only. */
  dangerouslyClearAll(): Promise<void>;
}
