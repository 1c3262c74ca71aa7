/**
 * The knowledge service: knowledge bases from the config, content added to them (files, text, URLs),
 * an ingestion queue that runs off the request (read → chunk → embed → index), and search.
 *
 * Ingestion is all-or-nothing per content: chunks reach the search index in one transaction at the
 * very end, so a content that fails (a malformed PDF, a refused URL, an embedder error) is `failed`
 * with a message and has nothing indexed. Embeddings are computed once per distinct chunk text and
 * embedder (`embeddings/CachedEmbedder` backed by the vectors already in the index).
 * @module
 */
import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { AgentOsConfig, KnowledgeConfig } from '../config/index.js';
import type { EmbedderRegistry, EmbedOptions } from '../embeddings/index.js';
import { contentHash } from '../embeddings/index.js';
import { AgentOsError } from '../errors/index.js';
import type { Logger } from '../logging/logger.js';
import type { SearchHit, SearchMode } from '../search/types.js';
import type { KnowledgeContentRecord, KnowledgeContentUpdate } from '../store/knowledge-types.js';
import type { Page, Store } from '../store/types.js';
import { chunkText } from './chunker.js';
import { detectReaderType, isReadableFile, type ReaderType, readContent } from './readers.js';
import { createUrlFetcher, type UrlFetcher } from './url-source.js';

/** The workspace that content of config sources belongs to. */
export const CONFIG_SOURCE_WORKSPACE = 'default';

/** What to ingest. */
export type ContentInput =
  | { kind: 'file'; data: Uint8Array; filename?: string | undefined; mimetype?: string | undefined }
  | { kind: 'text'; text: string }
  | { kind: 'url'; url: string };

/** One add request. */
export interface AddContentRequest {
  workspaceId: string;
  knowledgeId: string;
  input: ContentInput;
  name?: string | undefined;
  description?: string | undefined;
  metadata?: Record<string, unknown> | undefined;
  chunkSize?: number | undefined;
  chunkOverlap?: number | undefined;
  /** Where it came from, for incremental re-ingestion (`file:<abs path>`, `url:<url>`). */
  source?: string | undefined;
}

/** One search request. */
export interface KnowledgeSearchRequest {
  workspaceId: string;
  /** Searches every configured knowledge base when omitted. */
  knowledgeId?: string | undefined;
  query: string;
  mode?: SearchMode | undefined;
  limit?: number | undefined;
  filters?: Record<string, string | number | boolean> | undefined;
  /** The span the query's `embeddings` span belongs under (the tool call's `retrieval` span). */
  traceParent?: EmbedOptions['traceParent'];
}

/** A search hit with the knowledge base it came from. */
export interface KnowledgeHit extends SearchHit {
  knowledgeId: string;
}

/** Progress of one content's ingestion, for the CLI's progress bar. */
export interface IngestProgress {
  contentId: string;
  name: string;
  stage: 'reading' | 'embedding' | 'indexing' | 'completed' | 'failed';
  chunks: number;
  message?: string;
}

/** What a config-source sync did. */
export interface SyncSummary {
  added: number;
  unchanged: number;
  failed: number;
}

/** Options of {@link KnowledgeService}. */
export interface KnowledgeServiceOptions {
  store: Store;
  config: AgentOsConfig;
  embedders: EmbedderRegistry;
  logger: Logger;
  /** URL fetcher (default: the guarded http_request tool with the config's allowed hosts). */
  fetchUrl?: UrlFetcher;
  /** Base for relative source paths in the config. */
  cwd?: string;
}

const SEARCH_DEFAULT_LIMIT = 10;

/** The search scope of a knowledge base in a workspace. */
export function knowledgeScope(workspaceId: string, knowledgeId: string): string {
  return `knowledge\u0000${workspaceId}\u0000${knowledgeId}`;
}

/** A chunk's metadata: the content's own, plus where it came from (filters and hits read these). */
function chunkMetadata(record: KnowledgeContentRecord, chunk: number): Record<string, unknown> {
  return { ...record.metadata, content_id: record.id, name: record.name, chunk };
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The readable files under a path (the path itself when it is a file), sorted. */
export async function listSourceFiles(path: string): Promise<string[]> {
  const info = await stat(path);
  if (info.isFile()) return [path];
  const entries = await readdir(path, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile() && isReadableFile(entry.name))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

interface Job {
  record: KnowledgeContentRecord;
  request: AddContentRequest;
}

/** Knowledge bases, their content and search. One per process (services). */
export class KnowledgeService {
  private readonly bases: Map<string, KnowledgeConfig>;
  private readonly fetchUrl: UrlFetcher;
  private tail: Promise<void> = Promise.resolve();
  private pending = 0;
  private readonly listeners = new Set<(progress: IngestProgress) => void>();
  private readonly abort = new AbortController();

  constructor(private readonly options: KnowledgeServiceOptions) {
    this.bases = new Map(options.config.knowledge.map((base) => [base.id, base]));
    const http = options.config.builtin_tools.http_request;
    this.fetchUrl =
      options.fetchUrl ??
      createUrlFetcher({
        allowedHosts: http.allowed_hosts,
        timeoutMs: http.timeout_ms,
        maxResponseBytes: options.config.server.upload_limit,
      });
  }

  /** The configured knowledge bases, in config order. */
  list(): KnowledgeConfig[] {
    return [...this.bases.values()];
  }

  /** The knowledge base `id`; `AOS_KNOWLEDGE_NOT_FOUND` when the config has none. */
  base(id: string): KnowledgeConfig {
    const base = this.bases.get(id);
    if (!base) throw new AgentOsError('AOS_KNOWLEDGE_NOT_FOUND', `Unknown knowledge base "${id}"`);
    return base;
  }

  /** `id`, or the only knowledge base when none is named; `AOS_BAD_REQUEST` when that is ambiguous. */
  resolve(id: string | undefined): KnowledgeConfig {
    if (id !== undefined) return this.base(id);
    const [first, second] = this.bases.values();
    if (!first) throw new AgentOsError('AOS_KNOWLEDGE_NOT_FOUND', 'No knowledge base is configured');
    if (second) throw new AgentOsError('AOS_BAD_REQUEST', 'Several knowledge bases are configured: name knowledge_id');
    return first;
  }

  /** Subscribes to ingestion progress; returns the unsubscribe function. */
  onProgress(listener: (progress: IngestProgress) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Contents waiting or being ingested. */
  get queued(): number {
    return this.pending;
  }

  /** Resolves when the queue is empty. */
  async idle(): Promise<void> {
    while (this.pending > 0) await this.tail;
  }

  /**
   * Records the content as `processing` and queues its ingestion; returns at once. The record's id is
   * what `GET /knowledge/content/{id}/status` polls.
   */
  async add(request: AddContentRequest): Promise<KnowledgeContentRecord> {
    this.base(request.knowledgeId);
    const { input } = request;
    const name =
      request.name ??
      (input.kind === 'file' ? input.filename : undefined) ??
      (input.kind === 'url' ? input.url : undefined) ??
      'text content';
    const size =
      input.kind === 'file' ? input.data.byteLength : input.kind === 'text' ? Buffer.byteLength(input.text) : 0;
    const type: ReaderType =
      input.kind === 'file'
        ? detectReaderType({ filename: input.filename, mimetype: input.mimetype, data: input.data })
        : input.kind === 'text'
          ? 'txt'
          : 'html';
    const source =
      request.source ??
      (input.kind === 'url'
        ? `url:${input.url}`
        : input.kind === 'file' && input.filename
          ? `upload:${input.filename}`
          : 'text');
    const record = await this.options.store.knowledge.create({
      id: randomUUID(),
      workspaceId: request.workspaceId,
      knowledgeId: request.knowledgeId,
      name,
      description: request.description ?? null,
      type,
      size,
      source,
      metadata: request.metadata ?? {},
      status: 'processing',
      ...(input.kind === 'file' ? { contentHash: sha256(input.data) } : {}),
      ...(input.kind === 'text' ? { contentHash: contentHash(input.text) } : {}),
    });
    this.enqueue({ record, request });
    return record;
  }

  private enqueue(job: Job): void {
    this.pending += 1;
    this.tail = this.tail.then(async () => {
      try {
        await this.ingest(job);
      } finally {
        this.pending -= 1;
      }
    });
  }

  private emit(progress: IngestProgress): void {
    for (const listener of this.listeners) listener(progress);
  }

  private async ingest({ record, request }: Job): Promise<void> {
    const { store, logger } = this.options;
    if (this.abort.signal.aborted) return;
    const progress = (stage: IngestProgress['stage'], chunks: number, text?: string) =>
      this.emit({ contentId: record.id, name: record.name, stage, chunks, ...(text ? { message: text } : {}) });
    try {
      progress('reading', 0);
      const { data, type } = await this.bytesOf(request.input, record.type as ReaderType);
      const text = await readContent(type, data);
      const pieces = chunkText(text, {
        ...(request.chunkSize === undefined ? {} : { chunkSize: request.chunkSize }),
        ...(request.chunkOverlap === undefined ? {} : { overlap: request.chunkOverlap }),
      });
      if (pieces.length === 0)
        throw new AgentOsError('AOS_KNOWLEDGE_UNREADABLE', `No text found in this ${type} content`);
      const base = this.base(record.knowledgeId);
      let vectors: Float32Array[] | undefined;
      if (store.search.vectorSearch) {
        progress('embedding', pieces.length);
        vectors = await this.options.embedders.get(base.embedder).embed(pieces, { abortSignal: this.abort.signal });
      }
      progress('indexing', pieces.length);
      const scope = knowledgeScope(record.workspaceId, record.knowledgeId);
      await store.search.add(
        pieces.map((content, index) => ({
          scope,
          sourceId: record.id,
          chunkIndex: index,
          content,
          contentHash: contentHash(content),
          metadata: chunkMetadata(record, index),
          embedding: vectors ? { embedder: base.embedder, vector: vectors[index] as Float32Array } : undefined,
        })),
      );
      const patch: KnowledgeContentUpdate = {
        status: 'completed',
        statusMessage: null,
        chunkCount: pieces.length,
        type,
        size: data.byteLength,
        contentHash: record.contentHash ?? sha256(data),
      };
      // Deleted while it was being ingested: its chunks must not outlive it.
      const updated = await store.knowledge.update(record.workspaceId, record.id, patch);
      if (!updated) {
        await store.search.deleteSource(scope, record.id);
        return;
      }
      // Renamed or given new metadata while it was being ingested: the chunks take the latest.
      if (updated.name !== record.name || JSON.stringify(updated.metadata) !== JSON.stringify(record.metadata)) {
        await this.restampChunks(updated);
      }
      progress('completed', pieces.length);
    } catch (error) {
      // Shutting down: left `processing`, so the next start reports it as interrupted.
      if (this.abort.signal.aborted) return;
      const text = message(error);
      logger.warn(
        { err: error, content_id: record.id, knowledge_id: record.knowledgeId },
        'knowledge ingestion failed',
      );
      await store.knowledge
        .update(record.workspaceId, record.id, { status: 'failed', statusMessage: text })
        .catch((updateError: unknown) => logger.error({ err: updateError }, 'could not record a failed ingestion'));
      progress('failed', 0, text);
    }
  }

  private async bytesOf(input: ContentInput, recorded: ReaderType): Promise<{ data: Uint8Array; type: ReaderType }> {
    if (input.kind === 'file') return { data: input.data, type: recorded };
    if (input.kind === 'text') return { data: Buffer.from(input.text, 'utf8'), type: 'txt' };
    const fetched = await this.fetchUrl(input.url, this.abort.signal);
    const data = Buffer.from(fetched.body, 'utf8');
    const type = detectReaderType({ filename: new URL(fetched.url).pathname, mimetype: fetched.contentType, data });
    if (type === 'pdf') {
      // The guarded fetch returns text; PDF bytes would arrive mangled.
      throw new AgentOsError('AOS_KNOWLEDGE_UNREADABLE', 'PDF by URL is not supported yet: upload the file instead');
    }
    return { data, type };
  }

  get(workspaceId: string, id: string): Promise<KnowledgeContentRecord> {
    return this.options.store.knowledge.get(workspaceId, id).then((record) => {
      if (!record) throw new AgentOsError('AOS_KNOWLEDGE_CONTENT_NOT_FOUND', `Content ${id} not found`);
      return record;
    });
  }

  listContent(filter: Parameters<Store['knowledge']['list']>[0]): Promise<Page<KnowledgeContentRecord>> {
    return this.options.store.knowledge.list(filter);
  }

  async update(
    workspaceId: string,
    id: string,
    patch: Pick<KnowledgeContentUpdate, 'name' | 'description' | 'metadata'>,
  ): Promise<KnowledgeContentRecord> {
    const { store } = this.options;
    const record = await store.knowledge.update(workspaceId, id, patch);
    if (!record) throw new AgentOsError('AOS_KNOWLEDGE_CONTENT_NOT_FOUND', `Content ${id} not found`);
    // Search filters read the chunks' metadata, so a new name or metadata restamps them.
    if (patch.metadata !== undefined || patch.name !== undefined) await this.restampChunks(record);
    return record;
  }

  /** Sets every chunk of a content to the metadata ingestion would stamp now (one transaction). */
  private restampChunks(record: KnowledgeContentRecord): Promise<number> {
    return this.options.store.search.updateSourceMetadata(
      knowledgeScope(record.workspaceId, record.knowledgeId),
      record.id,
      (chunk) => chunkMetadata(record, chunk),
    );
  }

  /** Deletes the content and its chunks from the keyword and the vector index. */
  async delete(workspaceId: string, id: string): Promise<KnowledgeContentRecord> {
    const record = await this.get(workspaceId, id);
    await this.options.store.search.deleteSource(knowledgeScope(workspaceId, record.knowledgeId), id);
    await this.options.store.knowledge.delete(workspaceId, id);
    return record;
  }

  /** Deletes every content of the workspace (in one knowledge base, or all); returns how many. */
  async deleteAll(workspaceId: string, knowledgeId?: string): Promise<number> {
    let deleted = 0;
    for (const base of knowledgeId === undefined ? this.list() : [this.base(knowledgeId)]) {
      for (;;) {
        const page = await this.options.store.knowledge.list({ workspaceId, knowledgeId: base.id, limit: 500 });
        if (page.items.length === 0) break;
        for (const record of page.items) await this.delete(workspaceId, record.id);
        deleted += page.items.length;
      }
    }
    return deleted;
  }

  /** Searches one knowledge base (or all); keyword-only where no vectors can be searched. */
  async search(request: KnowledgeSearchRequest): Promise<KnowledgeHit[]> {
    const { store } = this.options;
    const mode = request.mode ?? 'hybrid';
    const limit = request.limit ?? SEARCH_DEFAULT_LIMIT;
    const bases = request.knowledgeId === undefined ? this.list() : [this.base(request.knowledgeId)];
    const results = await Promise.all(
      bases.map(async (base) => {
        let embedding: { embedder: string; vector: Float32Array } | undefined;
        if (mode !== 'keyword' && store.search.vectorSearch) {
          const [vector] = await this.options.embedders
            .get(base.embedder)
            .embed([request.query], { traceParent: request.traceParent });
          if (vector) embedding = { embedder: base.embedder, vector };
        }
        const hits = await store.search.search({
          scope: knowledgeScope(request.workspaceId, base.id),
          text: request.query,
          mode,
          embedding,
          limit,
          filters: request.filters,
        });
        return hits.map((hit) => ({ ...hit, knowledgeId: base.id }));
      }),
    );
    return results
      .flat()
      .sort((a, b) => b.score - a.score)
      .slice(0, limit);
  }

  /** Chunks and content counts of a knowledge base in a workspace. */
  async documentCounts(workspaceId: string): Promise<Map<string, number>> {
    return this.options.store.knowledge.countByKnowledge(workspaceId);
  }

  /** Marks contents whose ingestion died with a previous process as failed. */
  async recover(): Promise<void> {
    const failed = await this.options.store.knowledge.failProcessing('Ingestion was interrupted by a restart');
    if (failed.length > 0) this.options.logger.warn({ count: failed.length }, 'knowledge ingestions interrupted');
  }

  /**
   * Ingests the configured sources (files, folders, URLs) into the default workspace, incrementally: a
   * source whose bytes hash the same as its completed content is skipped; a changed one is ingested
   * anew and its previous content removed once the new one completed.
   */
  async syncConfigSources(): Promise<SyncSummary> {
    const summary: SyncSummary = { added: 0, unchanged: 0, failed: 0 };
    const replaced: { previous: KnowledgeContentRecord; next: KnowledgeContentRecord }[] = [];
    for (const base of this.list()) {
      for (const source of base.sources) {
        if (source.url !== undefined) {
          const previous = await this.options.store.knowledge.findBySource(
            CONFIG_SOURCE_WORKSPACE,
            base.id,
            `url:${source.url}`,
          );
          if (previous?.status === 'completed') {
            summary.unchanged += 1;
            continue;
          }
          const next = await this.add({
            workspaceId: CONFIG_SOURCE_WORKSPACE,
            knowledgeId: base.id,
            input: { kind: 'url', url: source.url },
          });
          if (previous) replaced.push({ previous, next });
          summary.added += 1;
          continue;
        }
        const root = resolve(this.options.cwd ?? process.cwd(), source.path ?? '.');
        let files: string[];
        try {
          files = await listSourceFiles(root);
        } catch (error) {
          this.options.logger.warn({ err: error, path: root, knowledge_id: base.id }, 'knowledge source not readable');
          summary.failed += 1;
          continue;
        }
        for (const file of files) {
          const result = await this.addFile(base.id, file, CONFIG_SOURCE_WORKSPACE);
          if (result.kind === 'unchanged') summary.unchanged += 1;
          else {
            summary.added += 1;
            if (result.previous) replaced.push({ previous: result.previous, next: result.record });
          }
        }
      }
    }
    if (replaced.length > 0) {
      await this.idle();
      await this.retirePrevious(replaced);
    }
    return summary;
  }

  /** Deletes each previous version whose replacement completed (call once the queue is idle). */
  async retirePrevious(
    replaced: readonly { previous: KnowledgeContentRecord; next: KnowledgeContentRecord }[],
  ): Promise<void> {
    for (const { previous, next } of replaced) {
      const current = await this.options.store.knowledge.get(next.workspaceId, next.id);
      if (current?.status === 'completed') await this.delete(previous.workspaceId, previous.id).catch(() => undefined);
    }
  }

  /**
   * Adds one file from disk unless its completed content with the same bytes exists (by SHA-256);
   * returns what it did. Used by config sync and `agentos knowledge add`.
   */
  async addFile(
    knowledgeId: string,
    path: string,
    workspaceId: string = CONFIG_SOURCE_WORKSPACE,
  ): Promise<
    | { kind: 'unchanged'; record: KnowledgeContentRecord }
    | { kind: 'added'; record: KnowledgeContentRecord; previous: KnowledgeContentRecord | null }
  > {
    const absolute = resolve(path);
    const data = await readFile(absolute);
    const source = `file:${absolute}`;
    const previous = await this.options.store.knowledge.findBySource(workspaceId, knowledgeId, source);
    if (previous?.status === 'completed' && previous.contentHash === sha256(data)) {
      return { kind: 'unchanged', record: previous };
    }
    const record = await this.add({
      workspaceId,
      knowledgeId,
      input: { kind: 'file', data, filename: basename(absolute) },
      source,
    });
    return { kind: 'added', record, previous };
  }

  /**
   * Stops ingesting (shutdown): queued contents are left `processing` (the next start marks them failed) and
   * the one in progress is awaited for at most `timeoutMs`, so nothing writes after the store closes.
   */
  async close(timeoutMs = 2000): Promise<void> {
    this.abort.abort();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.tail, new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
  }
}
