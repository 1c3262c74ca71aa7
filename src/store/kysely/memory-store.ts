/**
 * Kysely implementation of {@link MemoryStore}, shared by SQLite and Postgres. Keyword search goes
 * through term tables written once per memory or episode: a query reads only the index entries of its
 * own terms and ranks them in SQL (BM25-style IDF weights as literals in a CASE), so recall cost grows
 * with the hits of the query's terms, not with the number of memories a user has.
 * @module
 */
import { createHash, randomUUID } from 'node:crypto';
import { type Kysely, type Selectable, sql, type Transaction } from 'kysely';
import { ConflictError, NotFoundError } from '../../errors/index.js';
import type {
  EpisodeRecord,
  EpisodeWrite,
  MemoryCreate,
  MemoryFilter,
  MemoryRecord,
  MemorySource,
  MemoryStore,
  MemoryUpdate,
  ScoredHit,
  SessionSummaryRecord,
  SessionSummaryWrite,
  UserMemoryStats,
} from '../memory-types.js';
import type { Page, PageRequest } from '../types.js';
import { isForeignKeyViolation, isUniqueViolation } from './constraint-errors.js';
import { decodeJson, encodeJson } from './json-codec.js';
import { MAX_LIMIT, pageBounds } from './paging.js';
import type { Database } from './tables.js';

interface MemoriesTable {
  memory_id: string;
  workspace_id: string;
  user_key: string;
  user_id: string | null;
  agent_id: string | null;
  team_id: string | null;
  memory: string;
  topics: unknown;
  input: string | null;
  source: string;
  content_hash: string;
  tokens: number;
  created_at: number;
  updated_at: number;
}

interface MemoryTermsTable {
  memory_id: string;
  workspace_id: string;
  user_key: string;
  term: string;
}

interface SessionSummariesTable {
  session_id: string;
  workspace_id: string;
  user_key: string;
  user_id: string | null;
  agent_id: string | null;
  summary: string;
  topics: unknown;
  created_at: number;
  updated_at: number;
}

interface MemoryEpisodesTable {
  episode_id: string;
  session_id: string;
  workspace_id: string;
  user_key: string;
  user_id: string | null;
  agent_id: string | null;
  summary: string;
  keywords: unknown;
  topic: string;
  importance: number;
  episode_type: string;
  created_at: number;
  updated_at: number;
}

interface EpisodeTermsTable {
  episode_id: string;
  workspace_id: string;
  user_key: string;
  term: string;
}

/** The schema with the memory tables of migration 008. */
export interface MemoryDatabase extends Database {
  memories: MemoriesTable;
  memory_terms: MemoryTermsTable;
  session_summaries: SessionSummariesTable;
  memory_episodes: MemoryEpisodesTable;
  episode_terms: EpisodeTermsTable;
}

/** Terms kept per memory or query: enough for any memory sentence, bounded for pathological input. */
const MAX_TERMS = 64;
/** Index rows one ranking reads at most (beyond the rarest term), which bounds recall on common words. */
const MAX_RANKED_ROWS = 5_000;

// Function words, and `user`, which nearly every extracted memory starts with ("User likes …").
const STOPWORDS = new Set(
  (
    'a an and are as at be been but by can could did do does for from had has have he her hers him his how i if in ' +
    'into is it its me my mine myself no not of on or our ours she so than that the their them then there these they ' +
    'this those to too us was we were what when where which who whom why will with would you your yours user users ' +
    'am im ive id please tell know about just also very really some any all'
  ).split(' '),
);

/** A light suffix stemmer, so "colours" finds "colour" and "hiking" finds "hike(s)". */
function stem(word: string): string {
  if (word.length > 5 && word.endsWith('ing')) return word.slice(0, -3);
  if (word.length > 4 && word.endsWith('ies')) return `${word.slice(0, -3)}y`;
  if (word.length > 4 && word.endsWith('es') && /(?:ch|sh|ss|x|z)es$/.test(word)) return word.slice(0, -2);
  if (word.length > 3 && word.endsWith('s') && !word.endsWith('ss') && !word.endsWith('us')) return word.slice(0, -1);
  return word;
}

/**
 * The index terms of a text: lower-cased words and numbers, stop words dropped, lightly stemmed,
 * each once, at most 64. The same function indexes and queries, so both sides agree.
 */
export function indexTerms(text: string): string[] {
  const terms = new Set<string>();
  for (const match of text.toLowerCase().matchAll(/[\p{L}\p{N}]+/gu)) {
    const word = match[0];
    if (word.length < 2 || word.length > 40 || STOPWORDS.has(word)) continue;
    terms.add(stem(word));
    if (terms.size >= MAX_TERMS) break;
  }
  return [...terms];
}

/** Memories equal up to case, spacing and end punctuation are one memory. */
function contentHash(userKey: string, memory: string): string {
  const normalised = memory
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .replace(/[\s.!?]+$/, '')
    .trim();
  return createHash('sha256').update(`${userKey}\n${normalised}`).digest('hex');
}

function userKeyOf(userId: string | null | undefined): string {
  return userId ?? '';
}

/** LIKE pattern text with its wildcards escaped (used with `escape '\'`). */
function likeEscape(text: string): string {
  return text.replace(/[\\%_]/g, (character) => `\\${character}`);
}

function toMemory(row: Selectable<MemoriesTable>): MemoryRecord {
  return {
    memoryId: row.memory_id,
    workspaceId: row.workspace_id,
    userId: row.user_id,
    agentId: row.agent_id,
    teamId: row.team_id,
    memory: row.memory,
    topics: decodeJson<string[]>(row.topics, []),
    input: row.input,
    source: row.source as MemorySource,
    tokens: Number(row.tokens),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

function toSummary(row: Selectable<SessionSummariesTable>): SessionSummaryRecord {
  return {
    sessionId: row.session_id,
    workspaceId: row.workspace_id,
    userId: row.user_id,
    agentId: row.agent_id,
    summary: row.summary,
    topics: decodeJson<string[]>(row.topics, []),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

function toEpisode(row: Selectable<MemoryEpisodesTable>): EpisodeRecord {
  return {
    episodeId: row.episode_id,
    sessionId: row.session_id,
    workspaceId: row.workspace_id,
    userId: row.user_id,
    agentId: row.agent_id,
    summary: row.summary,
    keywords: decodeJson<string[]>(row.keywords, []),
    topic: row.topic,
    importance: Number(row.importance),
    type: row.episode_type,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

/** IDF of a term in `total` documents of which `df` contain it (BM25's, always > 0). */
function idf(total: number, df: number): number {
  return Math.log(1 + (total - df + 0.5) / (df + 0.5));
}

/** What a term-index search needs to know about its table. */
interface TermIndex {
  table: 'memory_terms' | 'episode_terms';
  idColumn: 'memory_id' | 'episode_id';
}

/** The shared store of the memory domain. */

/** Rows fetched by id, put back in the ranking's order with its score; ids without a row are dropped. */
function inRankOrder<T>(
  ranked: readonly { id: string; score: number; matched: string[] }[],
  rows: readonly (readonly [string, T])[],
): { item: T; score: number; matched: string[] }[] {
  const byId = new Map(rows);
  return ranked.flatMap((hit) => {
    const item = byId.get(hit.id);
    return item ? [{ item, score: hit.score, matched: hit.matched }] : [];
  });
}

export class KyselyMemoryStore implements MemoryStore {
  private readonly db: Kysely<MemoryDatabase>;

  private readonly now: () => number;

  constructor(db: Kysely<Database>, now: () => number) {
    this.db = db as unknown as Kysely<MemoryDatabase>;
    // Strictly increasing within a process: one run writes several memories in the same millisecond, and
    // lists sort by `updated_at`, so equal stamps would list them in random (uuid) order, not write order.
    let last = 0;
    this.now = () => {
      last = Math.max(now(), last + 1);
      return last;
    };
  }

  async create(input: MemoryCreate): Promise<{ record: MemoryRecord; created: boolean }> {
    const userKey = userKeyOf(input.userId);
    const hash = contentHash(userKey, input.memory);
    const existing = await this.byHash(input.workspaceId, hash);
    if (existing) return { record: existing, created: false };
    const at = this.now();
    const row: MemoriesTable = {
      memory_id: input.memoryId ?? randomUUID(),
      workspace_id: input.workspaceId,
      user_key: userKey,
      user_id: input.userId ?? null,
      agent_id: input.agentId ?? null,
      team_id: input.teamId ?? null,
      memory: input.memory,
      topics: encodeJson(input.topics ?? []),
      input: input.input ?? null,
      source: input.source ?? 'api',
      content_hash: hash,
      tokens: Math.trunc(input.tokens ?? 0),
      created_at: at,
      updated_at: at,
    };
    try {
      await this.db.transaction().execute(async (trx) => {
        await trx.insertInto('memories').values(row).execute();
        await this.writeMemoryTerms(trx, row);
      });
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      // The same memory raced in (two runs of one user), or the id is taken.
      const raced = await this.byHash(input.workspaceId, hash);
      if (raced) return { record: raced, created: false };
      throw new ConflictError(`Memory ${row.memory_id} already exists`);
    }
    return { record: toMemory(row), created: true };
  }

  private async byHash(workspaceId: string, hash: string): Promise<MemoryRecord | null> {
    const row = await this.db
      .selectFrom('memories')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('content_hash', '=', hash)
      .executeTakeFirst();
    return row ? toMemory(row) : null;
  }

  private async writeMemoryTerms(trx: Transaction<MemoryDatabase>, row: MemoriesTable): Promise<void> {
    // Topics are searchable too: recall for "food" finds "User likes ramen" tagged `food`.
    const terms = indexTerms(`${row.memory} ${decodeJson<string[]>(row.topics, []).join(' ')}`);
    if (terms.length === 0) return;
    await trx
      .insertInto('memory_terms')
      .values(
        terms.map((term) => ({
          memory_id: row.memory_id,
          workspace_id: row.workspace_id,
          user_key: row.user_key,
          term,
        })),
      )
      .execute();
  }

  async get(workspaceId: string, memoryId: string): Promise<MemoryRecord | null> {
    const row = await this.db
      .selectFrom('memories')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('memory_id', '=', memoryId)
      .executeTakeFirst();
    return row ? toMemory(row) : null;
  }

  async list(filter: MemoryFilter): Promise<Page<MemoryRecord>> {
    const { limit, offset } = pageBounds(filter);
    let query = this.db.selectFrom('memories').where('workspace_id', '=', filter.workspaceId);
    if (filter.userId !== undefined) query = query.where('user_key', '=', userKeyOf(filter.userId));
    if (filter.agentId !== undefined) query = query.where('agent_id', '=', filter.agentId);
    if (filter.teamId !== undefined) query = query.where('team_id', '=', filter.teamId);
    if (filter.search !== undefined && filter.search !== '') {
      const pattern = `%${likeEscape(filter.search.toLowerCase())}%`;
      query = query.where(sql<boolean>`lower(memory) like ${pattern} escape '\\'`);
    }
    const topics = filter.topics?.filter((topic) => topic !== '') ?? [];
    if (topics.length > 0) {
      // JSON text holds each topic as a quoted string on both dialects (jsonb renders `["a", "b"]`).
      query = query.where((eb) =>
        eb.or(
          topics.map(
            (topic) => sql<boolean>`cast(topics as text) like ${`%${likeEscape(JSON.stringify(topic))}%`} escape '\\'`,
          ),
        ),
      );
    }
    const counted = await query.select((eb) => eb.fn.countAll().as('count')).executeTakeFirst();
    const rows = await query
      .selectAll()
      .orderBy('updated_at', filter.order ?? 'desc')
      .orderBy('memory_id')
      .limit(limit)
      .offset(offset)
      .execute();
    return { items: rows.map(toMemory), total: Number(counted?.count ?? 0) };
  }

  async update(workspaceId: string, memoryId: string, patch: MemoryUpdate): Promise<MemoryRecord | null> {
    const current = await this.db
      .selectFrom('memories')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('memory_id', '=', memoryId)
      .executeTakeFirst();
    if (!current) return null;
    const userId = patch.userId === undefined ? current.user_id : patch.userId;
    const next: MemoriesTable = {
      ...current,
      user_id: userId,
      user_key: userKeyOf(userId),
      agent_id: patch.agentId === undefined ? current.agent_id : patch.agentId,
      team_id: patch.teamId === undefined ? current.team_id : patch.teamId,
      memory: patch.memory ?? current.memory,
      topics: patch.topics === undefined ? current.topics : encodeJson(patch.topics),
      tokens: patch.tokens === undefined ? Number(current.tokens) : Math.trunc(patch.tokens),
      updated_at: this.now(),
    };
    next.content_hash = contentHash(next.user_key, next.memory);
    try {
      await this.db.transaction().execute(async (trx) => {
        await trx
          .updateTable('memories')
          .set({
            user_id: next.user_id,
            user_key: next.user_key,
            agent_id: next.agent_id,
            team_id: next.team_id,
            memory: next.memory,
            topics: typeof next.topics === 'string' ? next.topics : encodeJson(next.topics),
            tokens: next.tokens,
            content_hash: next.content_hash,
            updated_at: next.updated_at,
          })
          .where('memory_id', '=', memoryId)
          .where('workspace_id', '=', workspaceId)
          .execute();
        await trx.deleteFrom('memory_terms').where('memory_id', '=', memoryId).execute();
        await this.writeMemoryTerms(trx, next);
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictError('The user already has this memory');
      throw error;
    }
    return toMemory(next);
  }

  async delete(workspaceId: string, memoryIds: readonly string[], userId?: string | null): Promise<number> {
    if (memoryIds.length === 0) return 0;
    let query = this.db
      .deleteFrom('memories')
      .where('workspace_id', '=', workspaceId)
      .where('memory_id', 'in', [...memoryIds]);
    if (userId !== undefined) query = query.where('user_key', '=', userKeyOf(userId));
    // Terms cascade.
    const result = await query.executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async topics(workspaceId: string, userId?: string | null): Promise<string[]> {
    let query = this.db.selectFrom('memories').select('topics').distinct().where('workspace_id', '=', workspaceId);
    if (userId !== undefined) query = query.where('user_key', '=', userKeyOf(userId));
    const rows = await query.execute();
    const topics = new Set<string>();
    for (const row of rows) for (const topic of decodeJson<string[]>(row.topics, [])) topics.add(topic);
    return [...topics].sort();
  }

  async userStats(
    workspaceId: string,
    request: PageRequest & { userId?: string | null },
  ): Promise<Page<UserMemoryStats>> {
    const { limit, offset } = pageBounds(request);
    let base = this.db.selectFrom('memories').where('workspace_id', '=', workspaceId);
    if (request.userId !== undefined) base = base.where('user_key', '=', userKeyOf(request.userId));
    const counted = await this.db
      .selectFrom(base.select('user_key').distinct().as('users'))
      .select((eb) => eb.fn.countAll().as('count'))
      .executeTakeFirst();
    const rows = await base
      .select((eb) => [
        'user_key',
        eb.fn.max('user_id').as('user_id'),
        eb.fn.countAll().as('total'),
        eb.fn.max('updated_at').as('last_updated'),
      ])
      .groupBy('user_key')
      .orderBy('last_updated', 'desc')
      .orderBy('user_key')
      .limit(limit)
      .offset(offset)
      .execute();
    return {
      items: rows.map((row) => ({
        userId: row.user_key === '' ? null : row.user_key,
        totalMemories: Number(row.total),
        lastMemoryUpdatedAt: Number(row.last_updated),
      })),
      total: Number(counted?.count ?? 0),
    };
  }

  async search(
    workspaceId: string,
    userId: string | null | undefined,
    query: string,
    limit: number,
  ): Promise<ScoredHit<MemoryRecord>[]> {
    const userKey = userId === undefined ? undefined : userKeyOf(userId);
    const ranked = await this.rank(
      { table: 'memory_terms', idColumn: 'memory_id' },
      workspaceId,
      userKey,
      query,
      limit,
    );
    if (ranked.length === 0) return [];
    // By primary key alone: with a bound workspace beside the IN list, SQLite's planner picks the
    // workspace index and reads every memory of it (8 ms at 20k rows instead of 0.1 ms).
    const rows = await this.db
      .selectFrom('memories')
      .selectAll()
      .where(
        'memory_id',
        'in',
        ranked.map((hit) => hit.id),
      )
      .execute();
    return inRankOrder(
      ranked,
      rows.filter((row) => row.workspace_id === workspaceId).map((row) => [row.memory_id, toMemory(row)] as const),
    );
  }

  /**
   * Ranks the items of a term index for a query: document frequencies of the query's terms (one
   * grouped index read), then one grouped read summing each item's IDF weights, best first.
   * `userKey` undefined searches every user of the workspace.
   */
  private async rank(
    index: TermIndex,
    workspaceId: string,
    userKey: string | undefined,
    query: string,
    limit: number,
  ): Promise<{ id: string; score: number; matched: string[] }[]> {
    const terms = indexTerms(query);
    if (terms.length === 0 || limit <= 0) return [];
    const db = this.db as unknown as Kysely<Record<string, MemoryTermsTable & { episode_id: string }>>;
    const owner = index.table === 'memory_terms' ? 'memories' : 'memory_episodes';
    let totalQuery = this.db.selectFrom(owner).where('workspace_id', '=', workspaceId);
    if (userKey !== undefined) totalQuery = totalQuery.where('user_key', '=', userKey);
    let dfQuery = db
      .selectFrom(index.table)
      .select((eb) => ['term', eb.fn.countAll().as('df')])
      .where('workspace_id', '=', workspaceId)
      .where('term', 'in', terms);
    if (userKey !== undefined) dfQuery = dfQuery.where('user_key', '=', userKey);
    const [totalRow, dfRows] = await Promise.all([
      totalQuery.select((eb) => eb.fn.countAll().as('count')).executeTakeFirst(),
      dfQuery.groupBy('term').execute(),
    ]);
    const total = Number(totalRow?.count ?? 0);
    if (dfRows.length === 0 || total === 0) return [];
    const allWeights = new Map<string, number>();
    for (const row of dfRows) allWeights.set(String(row.term), idf(total, Number(row.df)));
    // Terms nobody has still count in the query's full weight, so a half-matched query scores lower.
    const queryWeight = terms.reduce((sum, term) => sum + (allWeights.get(term) ?? idf(total, 0)), 0);
    // Rarest terms first, and no more index rows than MAX_RANKED_ROWS: a term most memories carry weighs
    // almost nothing and would only make the ranking read (and group) all of them.
    const weights = new Map<string, number>();
    let rows = 0;
    for (const row of [...dfRows].sort((a, b) => Number(a.df) - Number(b.df))) {
      if (weights.size > 0 && rows + Number(row.df) > MAX_RANKED_ROWS) break;
      rows += Number(row.df);
      weights.set(String(row.term), allWeights.get(String(row.term)) ?? 0);
    }
    const cases = sql.join(
      // Weights as parameters keep the SQL text stable per term count, so prepared statements are reused.
      [...weights].map(([term, weight]) => sql`when ${term} then cast(${weight} as double precision)`),
      sql` `,
    );
    const idColumn = sql.ref(index.idColumn);
    const cap = Math.min(Math.trunc(limit), MAX_LIMIT);
    let rankedRows: { id: string; score: number }[];
    if (weights.size === 1) {
      // One term: every hit scores the same, so read `limit` index rows instead of grouping all of them.
      const [[term, weight]] = [...weights] as [[string, number]];
      let single = db
        .selectFrom(index.table)
        .select(sql<string>`${idColumn}`.as('id'))
        .where('workspace_id', '=', workspaceId)
        .where('term', '=', term);
      if (userKey !== undefined) single = single.where('user_key', '=', userKey);
      // No ORDER BY: sorting would read every row of a common term; index order is as good a tie-break.
      const ids = await single.limit(cap).execute();
      rankedRows = ids.map((row) => ({ id: String(row.id), score: weight }));
    } else {
      let rankQuery = db
        .selectFrom(index.table)
        .select([sql<string>`${idColumn}`.as('id'), sql<number>`sum(case term ${cases} else 0 end)`.as('score')])
        .where('workspace_id', '=', workspaceId)
        .where('term', 'in', [...weights.keys()]);
      if (userKey !== undefined) rankQuery = rankQuery.where('user_key', '=', userKey);
      rankedRows = await rankQuery
        .groupBy(index.idColumn)
        .orderBy('score', 'desc')
        .orderBy(index.idColumn)
        .limit(cap)
        .execute();
    }
    if (rankedRows.length === 0) return [];
    const ids = rankedRows.map((row) => String(row.id));
    const matchedRows = await db
      .selectFrom(index.table)
      .select([sql<string>`${idColumn}`.as('id'), 'term'])
      .where(index.idColumn, 'in', ids)
      .where('term', 'in', [...weights.keys()])
      .execute();
    const matched = new Map<string, string[]>();
    for (const row of matchedRows) {
      const list = matched.get(String(row.id)) ?? [];
      list.push(String(row.term));
      matched.set(String(row.id), list);
    }
    return rankedRows.map((row) => ({
      id: String(row.id),
      score: Math.min(1, Number(row.score) / queryWeight),
      matched: (matched.get(String(row.id)) ?? []).sort(),
    }));
  }

  async replaceForUser(workspaceId: string, userId: string | null, memories: MemoryCreate[]): Promise<MemoryRecord[]> {
    const userKey = userKeyOf(userId);
    const at = this.now();
    const rows = new Map<string, MemoriesTable>();
    for (const input of memories) {
      const hash = contentHash(userKey, input.memory);
      if (rows.has(hash)) continue;
      rows.set(hash, {
        memory_id: input.memoryId ?? randomUUID(),
        workspace_id: workspaceId,
        user_key: userKey,
        user_id: userId,
        agent_id: input.agentId ?? null,
        team_id: input.teamId ?? null,
        memory: input.memory,
        topics: encodeJson(input.topics ?? []),
        input: input.input ?? null,
        source: input.source ?? 'optimize',
        content_hash: hash,
        tokens: Math.trunc(input.tokens ?? 0),
        created_at: at,
        updated_at: at,
      });
    }
    await this.db.transaction().execute(async (trx) => {
      await trx
        .deleteFrom('memories')
        .where('workspace_id', '=', workspaceId)
        .where('user_key', '=', userKey)
        .execute();
      for (const row of rows.values()) {
        await trx.insertInto('memories').values(row).execute();
        await this.writeMemoryTerms(trx, row);
      }
    });
    return [...rows.values()].map(toMemory);
  }

  async putSessionSummary(input: SessionSummaryWrite): Promise<SessionSummaryRecord> {
    const at = this.now();
    const row: SessionSummariesTable = {
      session_id: input.sessionId,
      workspace_id: input.workspaceId,
      user_key: userKeyOf(input.userId),
      user_id: input.userId,
      agent_id: input.agentId,
      summary: input.summary,
      topics: encodeJson(input.topics),
      created_at: at,
      updated_at: at,
    };
    try {
      await this.db
        .insertInto('session_summaries')
        .values(row)
        .onConflict((conflict) =>
          conflict.columns(['workspace_id', 'session_id']).doUpdateSet({
            summary: row.summary,
            topics: row.topics,
            user_key: row.user_key,
            user_id: row.user_id,
            agent_id: row.agent_id,
            updated_at: at,
          }),
        )
        .execute();
    } catch (error) {
      if (isForeignKeyViolation(error)) throw new NotFoundError('Session not found');
      throw error;
    }
    const stored = await this.getSessionSummary(input.workspaceId, input.sessionId);
    if (!stored) throw new NotFoundError('Session not found');
    return stored;
  }

  async getSessionSummary(workspaceId: string, sessionId: string): Promise<SessionSummaryRecord | null> {
    const row = await this.db
      .selectFrom('session_summaries')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('session_id', '=', sessionId)
      .executeTakeFirst();
    return row ? toSummary(row) : null;
  }

  async listSessionSummaries(
    workspaceId: string,
    userId: string | null,
    limit: number,
  ): Promise<SessionSummaryRecord[]> {
    const rows = await this.db
      .selectFrom('session_summaries')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('user_key', '=', userKeyOf(userId))
      .orderBy('updated_at', 'desc')
      .orderBy('session_id')
      .limit(Math.min(Math.max(Math.trunc(limit), 1), MAX_LIMIT))
      .execute();
    return rows.map(toSummary);
  }

  async putEpisode(input: EpisodeWrite): Promise<EpisodeRecord> {
    try {
      return await this.writeEpisode(input);
    } catch (error) {
      // Two runs of one session finished at once and both inserted: the second becomes an update.
      if (!isUniqueViolation(error)) throw error;
      return this.writeEpisode(input);
    }
  }

  private async writeEpisode(input: EpisodeWrite): Promise<EpisodeRecord> {
    const at = this.now();
    const userKey = userKeyOf(input.userId);
    try {
      return await this.db.transaction().execute(async (trx) => {
        const existing = await trx
          .selectFrom('memory_episodes')
          .select(['episode_id', 'created_at'])
          .where('workspace_id', '=', input.workspaceId)
          .where('session_id', '=', input.sessionId)
          .executeTakeFirst();
        const row: MemoryEpisodesTable = {
          episode_id: existing?.episode_id ?? `ep-${randomUUID()}`,
          session_id: input.sessionId,
          workspace_id: input.workspaceId,
          user_key: userKey,
          user_id: input.userId,
          agent_id: input.agentId,
          summary: input.summary,
          keywords: encodeJson(input.keywords),
          topic: input.topic,
          importance: Math.min(1, Math.max(0, input.importance)),
          episode_type: input.type,
          created_at: existing ? Number(existing.created_at) : at,
          updated_at: at,
        };
        if (existing) {
          const { episode_id: _id, created_at: _created, ...rest } = row;
          await trx.updateTable('memory_episodes').set(rest).where('episode_id', '=', row.episode_id).execute();
          await trx.deleteFrom('episode_terms').where('episode_id', '=', row.episode_id).execute();
        } else {
          await trx.insertInto('memory_episodes').values(row).execute();
        }
        const terms = indexTerms(`${row.summary} ${input.keywords.join(' ')} ${row.topic}`);
        if (terms.length > 0) {
          await trx
            .insertInto('episode_terms')
            .values(
              terms.map((term) => ({
                episode_id: row.episode_id,
                workspace_id: row.workspace_id,
                user_key: userKey,
                term,
              })),
            )
            .execute();
        }
        return toEpisode(row);
      });
    } catch (error) {
      if (isForeignKeyViolation(error)) throw new NotFoundError('Session not found');
      throw error;
    }
  }

  async listEpisodes(
    workspaceId: string,
    options: { userId?: string | null; limit: number },
  ): Promise<EpisodeRecord[]> {
    let query = this.db.selectFrom('memory_episodes').selectAll().where('workspace_id', '=', workspaceId);
    if (options.userId !== undefined) query = query.where('user_key', '=', userKeyOf(options.userId));
    const rows = await query
      .orderBy('updated_at', 'desc')
      .orderBy('episode_id')
      .limit(Math.min(Math.max(Math.trunc(options.limit), 1), MAX_LIMIT))
      .execute();
    return rows.map(toEpisode);
  }

  async searchEpisodes(
    workspaceId: string,
    options: { userId?: string | null; query: string; limit: number },
  ): Promise<ScoredHit<EpisodeRecord>[]> {
    const userKey = options.userId === undefined ? undefined : userKeyOf(options.userId);
    const ranked = await this.rank(
      { table: 'episode_terms', idColumn: 'episode_id' },
      workspaceId,
      userKey,
      options.query,
      options.limit,
    );
    if (ranked.length === 0) return [];
    // By primary key alone, as in `search`.
    const rows = await this.db
      .selectFrom('memory_episodes')
      .selectAll()
      .where(
        'episode_id',
        'in',
        ranked.map((hit) => hit.id),
      )
      .execute();
    return inRankOrder(
      ranked,
      rows.filter((row) => row.workspace_id === workspaceId).map((row) => [row.episode_id, toEpisode(row)] as const),
    );
  }

  async dangerouslyClearAll(): Promise<void> {
    for (const table of [
      'episode_terms',
      'memory_episodes',
      'session_summaries',
      'memory_terms',
      'memories',
    ] as const) {
      await this.db.deleteFrom(table).execute();
    }
  }
}
