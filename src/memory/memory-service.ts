/**
 * The memory room's entry point: recall before a run (relevant memories of the user, within a token
 * budget, from the term index), the update after a run (new memories, the session summary and its
 * episode, with MemoryUpdateStarted/Completed events) and optimisation. With a real model the work is
 * model-driven; with `local:default`, which is not an LLM, it falls back to `heuristics.ts` and says so
 * (`method: "heuristic"` on the events).
 * @module
 */
import type { LanguageModelV3 } from '@ai-sdk/provider';
import type { ModelMessage } from 'ai';
import type { AgentOsConfig } from '../config/index.js';
import { contentHash, type EmbedderRegistry, type EmbedOptions } from '../embeddings/index.js';
import type { RunEventInput } from '../events/index.js';
import type { Logger } from '../logging/logger.js';
import { estimateTokens } from '../models/local/index.js';
import type { ModelRegistry } from '../models/registry.js';
import type { MemoryCreate, MemoryRecord, MemoryUpdate, Store } from '../store/types.js';
import {
  describeSession,
  dropContainedMemories,
  extractStatedMemories,
  frequentTerms,
  type MemoryCandidate,
} from './heuristics.js';
import { type ConversationLine, optimizeWithModel, planMemoryUpdate } from './model-memory.js';

/** Default recall budget: enough for a dozen one-sentence memories, small beside any context window. */
export const DEFAULT_RECALL_TOKENS = 400;
/** Memories a recall considers from the index before the budget cuts. */
const RECALL_CANDIDATES = 20;
/** Newest memories added after the relevant ones while the budget allows (standing facts such as a name). */
const RECALL_RECENT = 5;

/** One recalled memory. */
export interface RecalledMemory {
  memoryId: string;
  memory: string;
  score: number;
  /** `vector` / `hybrid` only with `memory.embedder` configured. */
  matchType: 'keyword' | 'vector' | 'hybrid' | 'recent';
}

/** What {@link MemoryService.recall} found. */
export interface RecallResult {
  /** The system-prompt section, empty when nothing was recalled. */
  text: string;
  memories: RecalledMemory[];
  tokens: number;
}

/** What the run manager hands over after a completed run of a `memory: true` agent. */
export interface MemoryUpdateInput {
  workspaceId: string;
  sessionId: string;
  userId: string | null;
  agentId: string;
  model: LanguageModelV3;
  modelId: string;
  /** The run's messages: its user message, tool calls and the answer. */
  messages: readonly ModelMessage[];
  emit(event: RunEventInput): void;
  abortSignal?: AbortSignal | undefined;
}

/** What one update did. */
export interface MemoryUpdateResult {
  method: 'model' | 'heuristic';
  memoriesAdded: MemoryRecord[];
  summary: string;
  topics: string[];
}

/** What {@link MemoryService.optimize} reports (Agno `OptimizeMemoriesResponse`). */
export interface OptimizeResult {
  memories: MemoryRecord[];
  memoriesBefore: number;
  memoriesAfter: number;
  tokensBefore: number;
  tokensAfter: number;
  method: 'model' | 'heuristic';
}

/** Options of {@link MemoryService}. */
export interface MemoryServiceOptions {
  store: Store;
  models: ModelRegistry;
  config: AgentOsConfig;
  logger: Logger;
  /** Embedders for semantic recall; used only when `memory.embedder` is configured. */
  embedders?: EmbedderRegistry | undefined;
  recallTokens?: number;
}

/** The search-index scope of one user's memories (semantic recall). */
export function memoryScope(workspaceId: string, userId: string | null): string {
  return `memory\u0000${workspaceId}\u0000${userId ?? ''}`;
}

/** `local:*` models are programs, not LLMs: memory work with them is heuristic. */
export function isHeuristicModel(modelId: string): boolean {
  return modelId.startsWith('local:');
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part) =>
      part && typeof part === 'object' && (part as { type?: string }).type === 'text'
        ? (part as { text: string }).text
        : '',
    )
    .filter((text) => text !== '')
    .join('\n');
}

/** The user and assistant text of a run, tool traffic left out. */
export function conversationOf(messages: readonly ModelMessage[]): ConversationLine[] {
  return messages.flatMap((message) => {
    if (message.role !== 'user' && message.role !== 'assistant') return [];
    const content = textOf(message.content).trim();
    return content === '' ? [] : [{ role: message.role, content }];
  });
}

/** Episode importance without a model: stated facts and longer sessions matter more. */
function heuristicImportance(memoriesAdded: number, requests: number): number {
  return Math.min(1, 0.3 + 0.15 * Math.min(memoriesAdded, 3) + (requests >= 3 ? 0.1 : 0));
}

/** Memory for agents: recall, update after runs, optimise. One per process. */
export class MemoryService {
  private readonly options: MemoryServiceOptions;

  constructor(options: MemoryServiceOptions) {
    this.options = options;
  }

  /**
   * The user's memories relevant to `message`, best first, then the newest ones, until the token
   * budget is spent. Two index reads and one page read; no embedding, no scan of the memories.
   */
  async recall(input: {
    workspaceId: string;
    userId: string | null;
    message: string;
    tokens?: number;
    /** The run's span: the query's `embeddings` span nests under it. */
    traceParent?: EmbedOptions['traceParent'];
  }): Promise<RecallResult> {
    const empty: RecallResult = { text: '', memories: [], tokens: 0 };
    if (input.userId === null) return empty;
    const budget =
      input.tokens ?? this.options.recallTokens ?? this.options.config.memory?.recall_tokens ?? DEFAULT_RECALL_TOKENS;
    const { memory } = this.options.store;
    const [hits, recent] = await Promise.all([
      this.semanticEmbedder()
        ? this.semanticSearch(input.workspaceId, input.userId, input.message, RECALL_CANDIDATES, input.traceParent)
        : memory
            .search(input.workspaceId, input.userId, input.message, RECALL_CANDIDATES)
            .then((found) => found.map((hit) => ({ ...hit, matchType: 'keyword' as const }))),
      memory.list({ workspaceId: input.workspaceId, userId: input.userId, limit: RECALL_RECENT }),
    ]);
    const chosen: RecalledMemory[] = [];
    const seen = new Set<string>();
    let tokens = 0;
    const consider = (record: MemoryRecord, score: number, matchType: RecalledMemory['matchType']) => {
      if (seen.has(record.memoryId)) return;
      const cost = (record.tokens || estimateTokens(record.memory)) + 2;
      if (tokens + cost > budget) return;
      seen.add(record.memoryId);
      tokens += cost;
      chosen.push({ memoryId: record.memoryId, memory: record.memory, score, matchType });
    };
    for (const hit of hits) consider(hit.item, hit.score, hit.matchType);
    for (const record of recent.items) consider(record, 0, 'recent');
    if (chosen.length === 0) return empty;
    const text = [
      'What you remember about the user from earlier conversations (use it when relevant; do not mention this list):',
      ...chosen.map((entry) => `- ${entry.memory}`),
    ].join('\n');
    return { text, memories: chosen, tokens };
  }

  /** The configured embedder id when semantic recall is on (an embedder is set and the index has vectors). */
  private semanticEmbedder(): string | undefined {
    const id = this.options.config.memory?.embedder;
    return id !== undefined && this.options.embedders && this.options.store.search.vectorSearch ? id : undefined;
  }

  /** Hybrid (vector + keyword, RRF) search over one user's memories in the search index. */
  private async semanticSearch(
    workspaceId: string,
    userId: string,
    message: string,
    limit = RECALL_CANDIDATES,
    traceParent?: EmbedOptions['traceParent'],
  ) {
    const embedderId = this.semanticEmbedder() as string;
    const embedders = this.options.embedders as EmbedderRegistry;
    const { store } = this.options;
    const [vector] = await embedders.get(embedderId).embed([message], { traceParent });
    const hits = await store.search.search({
      scope: memoryScope(workspaceId, userId),
      text: message,
      mode: 'hybrid',
      embedding: vector ? { embedder: embedderId, vector } : undefined,
      limit,
    });
    const records = await Promise.all(hits.map((hit) => store.memory.get(workspaceId, hit.sourceId)));
    return hits.flatMap((hit, index) => {
      const item = records[index];
      // The index may briefly hold a memory deleted meanwhile; the table is the truth.
      return item && item.userId === userId ? [{ item, score: hit.score, matchType: hit.matchType }] : [];
    });
  }

  /**
   * One user's memories best matching `query`: hybrid (vector + keyword) with `memory.embedder`, else by
   * keyword through the term index. What `memory_search` and iii's memory route use.
   */
  async search(
    workspaceId: string,
    userId: string,
    query: string,
    limit: number,
  ): Promise<{ item: MemoryRecord; score: number; matchType: 'keyword' | 'vector' | 'hybrid' }[]> {
    if (this.semanticEmbedder()) return this.semanticSearch(workspaceId, userId, query, limit);
    const hits = await this.options.store.memory.search(workspaceId, userId, query, limit);
    return hits.map((hit) => ({ item: hit.item, score: hit.score, matchType: 'keyword' as const }));
  }

  /**
   * Adds memories to the search index (semantic recall on): embedded once, here, in one batch. When the
   * embedder fails they are indexed without vectors (keyword side only) rather than not at all.
   */
  private async indexMemories(records: readonly MemoryRecord[]): Promise<void> {
    const embedderId = this.semanticEmbedder();
    if (!embedderId || records.length === 0) return;
    const embedders = this.options.embedders as EmbedderRegistry;
    let vectors: Float32Array[] | undefined;
    try {
      vectors = await embedders.get(embedderId).embed(records.map((record) => record.memory));
    } catch (error) {
      this.options.logger.warn(
        { err: error, embedder: embedderId },
        'embedding memories failed; indexed by keyword only',
      );
    }
    await this.options.store.search.add(
      records.map((record, index) => {
        const vector = vectors?.[index];
        return {
          scope: memoryScope(record.workspaceId, record.userId),
          sourceId: record.memoryId,
          chunkIndex: 0,
          content: record.memory,
          contentHash: contentHash(record.memory),
          embedding: vector ? { embedder: embedderId, vector } : undefined,
        };
      }),
    );
  }

  private async unindexMemories(records: readonly MemoryRecord[]): Promise<void> {
    if (!this.semanticEmbedder()) return;
    for (const record of records) {
      await this.options.store.search.deleteSource(memoryScope(record.workspaceId, record.userId), record.memoryId);
    }
  }

  /** Stores a memory (once per text and user) and indexes it when semantic recall is on. */
  async create(input: MemoryCreate): Promise<{ record: MemoryRecord; created: boolean }> {
    const result = await this.options.store.memory.create({
      ...input,
      tokens: input.tokens ?? estimateTokens(input.memory),
    });
    if (result.created) await this.indexMemories([result.record]);
    return result;
  }

  /** Updates a memory and, when its text or user changed, its index entry. */
  async update(workspaceId: string, memoryId: string, patch: MemoryUpdate): Promise<MemoryRecord | null> {
    const { store } = this.options;
    const before = this.semanticEmbedder() ? await store.memory.get(workspaceId, memoryId) : null;
    const after = await store.memory.update(workspaceId, memoryId, {
      ...patch,
      ...(patch.memory === undefined ? {} : { tokens: estimateTokens(patch.memory) }),
    });
    if (after && before && (before.memory !== after.memory || before.userId !== after.userId)) {
      await this.unindexMemories([before]);
      await this.indexMemories([after]);
    }
    return after;
  }

  /** Deletes memories (only of `userId` when given) and their index entries; returns how many went. */
  async remove(workspaceId: string, memoryIds: readonly string[], userId?: string | null): Promise<number> {
    const { store } = this.options;
    const doomed = this.semanticEmbedder()
      ? (await Promise.all(memoryIds.map((id) => store.memory.get(workspaceId, id)))).filter(
          (record): record is MemoryRecord => record !== null && (userId === undefined || record.userId === userId),
        )
      : [];
    const count = await store.memory.delete(workspaceId, memoryIds, userId);
    await this.unindexMemories(doomed);
    return count;
  }

  /**
   * After a completed run: new memories of the user (when the run has one), the session summary and
   * the session's episode. Emits MemoryUpdateStarted, then MemoryUpdateCompleted (with `error` when it
   * failed); never throws, a failed update must not fail the run that answered.
   */
  async updateAfterRun(input: MemoryUpdateInput): Promise<MemoryUpdateResult | undefined> {
    const method = isHeuristicModel(input.modelId) ? 'heuristic' : 'model';
    input.emit({ event: 'MemoryUpdateStarted' });
    try {
      const result = await this.runUpdate(input, method);
      input.emit({
        event: 'MemoryUpdateCompleted',
        method,
        memories_added: result.memoriesAdded.length,
        memory_ids: result.memoriesAdded.map((record) => record.memoryId),
        topics: result.topics,
      });
      return result;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.options.logger.warn({ err: error, session_id: input.sessionId }, 'memory update failed');
      input.emit({ event: 'MemoryUpdateCompleted', method, memories_added: 0, error: message });
      return undefined;
    }
  }

  private async runUpdate(input: MemoryUpdateInput, method: 'model' | 'heuristic'): Promise<MemoryUpdateResult> {
    const { store } = this.options;
    const conversation = conversationOf(input.messages);
    const userText = conversation
      .filter((line) => line.role === 'user')
      .map((line) => line.content)
      .join('\n');
    let candidates: MemoryCandidate[];
    let summary: string;
    let topics: string[];
    let importance: number | undefined;
    let requests = 1;
    if (method === 'model') {
      const [previous, known] = await Promise.all([
        store.memory.getSessionSummary(input.workspaceId, input.sessionId),
        input.userId === null
          ? Promise.resolve([])
          : store.memory
              .search(input.workspaceId, input.userId, userText, 20)
              .then((hits) => hits.map((hit) => hit.item.memory)),
      ]);
      const plan = await planMemoryUpdate({
        model: input.model,
        conversation,
        previousSummary: previous?.summary ?? null,
        knownMemories: known,
        abortSignal: input.abortSignal,
      });
      candidates = plan.memories;
      summary = plan.summary || previous?.summary || describeSession([userText]).summary;
      topics = plan.topics.length > 0 ? plan.topics : frequentTerms([userText], 3);
      importance = plan.importance;
    } else {
      candidates = extractStatedMemories(userText);
      // The run being finished is not `completed` yet, so its own message is added to the earlier ones.
      const earlier = await store.runs.list({
        workspaceId: input.workspaceId,
        sessionId: input.sessionId,
        status: 'completed',
        order: 'asc',
        limit: 100,
      });
      const messages = [
        ...earlier.items.map((run) => String((run.input as { message?: unknown }).message ?? '')).filter(Boolean),
        userText,
      ];
      requests = messages.length;
      ({ summary, topics } = describeSession(messages));
    }
    const added: MemoryRecord[] = [];
    if (input.userId !== null) {
      for (const candidate of candidates) {
        const { record, created } = await this.create({
          workspaceId: input.workspaceId,
          userId: input.userId,
          agentId: input.agentId,
          memory: candidate.memory,
          topics: candidate.topics,
          input: userText.slice(0, 5000),
          source: 'agent',
          tokens: estimateTokens(candidate.memory),
        });
        if (created) added.push(record);
      }
    }
    await store.memory.putSessionSummary({
      sessionId: input.sessionId,
      workspaceId: input.workspaceId,
      userId: input.userId,
      agentId: input.agentId,
      summary,
      topics,
    });
    await store.memory.putEpisode({
      sessionId: input.sessionId,
      workspaceId: input.workspaceId,
      userId: input.userId,
      agentId: input.agentId,
      summary,
      keywords: [...new Set([...topics, ...frequentTerms([summary, userText], 6)])].slice(0, 8),
      topic: topics[0] ?? 'general',
      importance: importance ?? heuristicImportance(added.length, requests),
      type: 'conversation',
    });
    return { method, memoriesAdded: added, summary, topics };
  }

  private async replaceForUser(workspaceId: string, userId: string | null, drafts: MemoryCreate[]) {
    const records = await this.options.store.memory.replaceForUser(workspaceId, userId, drafts);
    if (this.semanticEmbedder()) {
      await this.options.store.search.deleteScope(memoryScope(workspaceId, userId));
      await this.indexMemories(records);
    }
    return records;
  }

  /**
   * Rewrites a user's memories as a smaller set: with a model, merged by it; with `local:default`, only
   * near-duplicates are dropped (memories whose words another memory already holds). `apply: false`
   * reports without writing.
   */
  async optimize(input: {
    workspaceId: string;
    userId: string | null;
    modelId?: string | undefined;
    apply: boolean;
  }): Promise<OptimizeResult> {
    const { store, models, config } = this.options;
    const current = await store.memory.list({
      workspaceId: input.workspaceId,
      userId: input.userId,
      limit: 1000,
      order: 'asc',
    });
    const before = current.items;
    const tokensBefore = before.reduce((sum, record) => sum + estimateTokens(record.memory), 0);
    const modelId = input.modelId ?? config.models.default;
    const method = isHeuristicModel(modelId) ? 'heuristic' : 'model';
    // Resolved first, so a bad model id is a 400 even for a user without memories.
    const model = method === 'model' ? await models.languageModel(modelId) : undefined;
    let next: MemoryCandidate[] = [];
    if (before.length > 0 && model) next = await optimizeWithModel({ model, memories: before });
    else if (before.length > 0) next = dropContainedMemories(before).map(({ memory, topics }) => ({ memory, topics }));
    const drafts = next.map((candidate) => ({
      workspaceId: input.workspaceId,
      memory: candidate.memory,
      topics: candidate.topics,
      source: 'optimize' as const,
      tokens: estimateTokens(candidate.memory),
    }));
    const memories = input.apply
      ? await this.replaceForUser(input.workspaceId, input.userId, drafts)
      : drafts.map((draft, index) => ({
          memoryId: `preview-${index + 1}`,
          workspaceId: input.workspaceId,
          userId: input.userId,
          agentId: null,
          teamId: null,
          memory: draft.memory,
          topics: draft.topics,
          input: null,
          source: draft.source,
          tokens: draft.tokens,
          createdAt: Date.now(),
          updatedAt: Date.now(),
        }));
    const tokensAfter = memories.reduce((sum, record) => sum + estimateTokens(record.memory), 0);
    return {
      memories,
      memoriesBefore: before.length,
      memoriesAfter: memories.length,
      tokensBefore,
      tokensAfter,
      method,
    };
  }
}
