/**
 * The memory domain of the store (issue 6): user memories with a keyword index written on write,
 * session summaries and episodes. Every call names a workspace; `userId: null` means "no user" and
 * is a value of its own (a user's memories never match a null-user query and vice versa).
 * @module
 */
import type { Page, PageRequest } from './types.js';

/** Who wrote a memory. */
export type MemorySource = 'api' | 'agent' | 'optimize';

/** One user memory (Agno `UserMemory`). */
export interface MemoryRecord {
  memoryId: string;
  workspaceId: string;
  userId: string | null;
  agentId: string | null;
  teamId: string | null;
  memory: string;
  topics: string[];
  /** The message the memory was extracted from, when an agent wrote it. */
  input: string | null;
  source: MemorySource;
  /** Estimated token count of `memory`, for recall budgets. */
  tokens: number;
  createdAt: number;
  updatedAt: number;
}

export interface MemoryCreate {
  memoryId?: string;
  workspaceId: string;
  userId?: string | null;
  agentId?: string | null;
  teamId?: string | null;
  memory: string;
  topics?: string[];
  input?: string | null;
  source?: MemorySource;
  tokens?: number;
}

export type MemoryUpdate = Partial<Pick<MemoryRecord, 'memory' | 'topics' | 'userId' | 'agentId' | 'teamId'>> & {
  tokens?: number;
};

export interface MemoryFilter extends PageRequest {
  workspaceId: string;
  /** `undefined`: every user; `null`: memories of no user. */
  userId?: string | null;
  agentId?: string;
  teamId?: string;
  /** Memories carrying any of these topics. */
  topics?: string[];
  /** Case-insensitive substring of the memory text. */
  search?: string;
  /** By `updatedAt`; default `desc`. */
  order?: 'asc' | 'desc';
}

/** One keyword hit: BM25-style IDF weights of the matched terms, normalised to 0..1 of the query's weight. */
export interface ScoredHit<T> {
  item: T;
  score: number;
  /** The query terms the item matched. */
  matched: string[];
}

/** Per-user counts (Agno `/user_memory_stats`). */
export interface UserMemoryStats {
  userId: string | null;
  totalMemories: number;
  lastMemoryUpdatedAt: number;
}

/** The summary of a session, rewritten after its runs (seed 001 `memory: {topics, summary}`). */
export interface SessionSummaryRecord {
  sessionId: string;
  workspaceId: string;
  userId: string | null;
  agentId: string | null;
  summary: string;
  topics: string[];
  createdAt: number;
  updatedAt: number;
}

export type SessionSummaryWrite = Omit<SessionSummaryRecord, 'createdAt' | 'updatedAt'>;

/** An episodic memory (agtOS): one per session, rewritten as the session goes on. */
export interface EpisodeRecord {
  episodeId: string;
  sessionId: string;
  workspaceId: string;
  userId: string | null;
  agentId: string | null;
  summary: string;
  keywords: string[];
  topic: string;
  /** 0..1 */
  importance: number;
  type: string;
  createdAt: number;
  updatedAt: number;
}

export type EpisodeWrite = Omit<EpisodeRecord, 'episodeId' | 'createdAt' | 'updatedAt'>;

/** Memories, session summaries and episodes. */
export interface MemoryStore {
  /**
   * Inserts a memory and its terms in one transaction. A memory whose normalised text the same user
   * already has in the workspace is not stored twice: the existing record comes back with `created: false`.
   */
  create(input: MemoryCreate): Promise<{ record: MemoryRecord; created: boolean }>;
  get(workspaceId: string, memoryId: string): Promise<MemoryRecord | null>;
  list(filter: MemoryFilter): Promise<Page<MemoryRecord>>;
  /** Replaces the given fields (and the terms when the text changes); `null` when missing. `ConflictError` when the new text duplicates another memory of the user. */
  update(workspaceId: string, memoryId: string, patch: MemoryUpdate): Promise<MemoryRecord | null>;
  /** Deletes the memories with these ids (only of `userId` when given); returns how many went. */
  delete(workspaceId: string, memoryIds: readonly string[], userId?: string | null): Promise<number>;
  /** Distinct topics, sorted; of one user when `userId` is given. */
  topics(workspaceId: string, userId?: string | null): Promise<string[]>;
  /** Per-user counts, most recently updated user first. */
  userStats(workspaceId: string, request: PageRequest & { userId?: string | null }): Promise<Page<UserMemoryStats>>;
  /**
   * Keyword search over one user's memories through the term index (never a scan of the memories):
   * best first, at most `limit`, only hits with a score above 0. `userId` undefined searches every user
   * of the workspace (operators' views; slower, the index is keyed by user first).
   */
  search(
    workspaceId: string,
    userId: string | null | undefined,
    query: string,
    limit: number,
  ): Promise<ScoredHit<MemoryRecord>[]>;
  /** Atomically swaps all of a user's memories for `memories` (optimisation). Returns the new records. */
  replaceForUser(workspaceId: string, userId: string | null, memories: MemoryCreate[]): Promise<MemoryRecord[]>;

  /** Inserts or replaces the summary of a session (which must exist in the workspace). */
  putSessionSummary(input: SessionSummaryWrite): Promise<SessionSummaryRecord>;
  getSessionSummary(workspaceId: string, sessionId: string): Promise<SessionSummaryRecord | null>;
  /** Newest first. */
  listSessionSummaries(workspaceId: string, userId: string | null, limit: number): Promise<SessionSummaryRecord[]>;

  /** Inserts or replaces the episode of a session (one per session), with its terms. */
  putEpisode(input: EpisodeWrite): Promise<EpisodeRecord>;
  /** Newest first; of one user when `userId` is given (`undefined` = every user). */
  listEpisodes(workspaceId: string, options: { userId?: string | null; limit: number }): Promise<EpisodeRecord[]>;
  /** Keyword search over episodes through their term index, best first. */
  searchEpisodes(
    workspaceId: string,
    options: { userId?: string | null; query: string; limit: number },
  ): Promise<ScoredHit<EpisodeRecord>[]>;

  /** Deletes every memory row of every workspace. Tests only. */
  dangerouslyClearAll(): Promise<void>;
}
