/**
 * Memory under `/api`: agtOS episodic memory (`GET /api/memory/episodes`, `GET /api/memory/search`, seed
 * 002) and iii's `POST /api/agents/:id/memory` (research/iii-agentos.md §2.2). Timestamps are epoch
 * milliseconds as on the rest of `/api`. Episodes come from completed runs of `memory: true` agents,
 * one per session; search ranks them by keyword (term index, IDF-weighted), so `matchType` is `keyword`.
 * @module
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { NotFoundError } from '../../../errors/index.js';
import type { Services } from '../../../services.js';
import type { EpisodeRecord } from '../../../store/types.js';
import { workspaceOf } from '../../plugins/access-control.js';
import { effectiveUserId } from '../../user-scope.js';
import {
  agentMemoryBody,
  agentMemoryParams,
  agentMemoryQuery,
  agentMemoryResult,
  episodeSearchQuery,
  episodeSearchResult,
  episodesList,
  episodesQuery,
} from './schemas.js';

type MatchType = 'keyword' | 'semantic' | 'hybrid' | 'recent';

function toEpisodeView(episode: EpisodeRecord, score: number, matchType: MatchType) {
  return {
    id: episode.episodeId,
    summary: episode.summary,
    keywords: episode.keywords,
    topic: episode.topic,
    timestamp: episode.updatedAt,
    importance: episode.importance,
    type: episode.type,
    score: Math.round(score * 1000) / 1000,
    matchType,
  };
}

/** Route table of the memory routes under `/api`. */
export const apiMemoryRoutes: FastifyPluginAsync<{ services: Services }> = async (fastify, { services }) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const { store, config } = services;

  /** Under user isolation a pinned caller sees only its own episodes; others see the workspace's. */
  const userFilter = (request: FastifyRequest) => {
    const pinned = effectiveUserId(request, config);
    return pinned === undefined ? {} : { userId: pinned };
  };

  app.get('/memory/episodes', {
    config: { access: { scope: 'memories:read' } },
    schema: {
      summary: 'Recent episodic memories',
      description:
        'Newest first. `score` is the episode importance and `matchType` is `recent` (nothing was searched).',
      tags: ['Memory'],
      operationId: 'listEpisodes',
      querystring: episodesQuery,
      response: { 200: episodesList },
    },
    handler: async (request) => {
      const episodes = await store.memory.listEpisodes(workspaceOf(request), {
        limit: request.query.limit,
        ...userFilter(request),
      });
      return {
        episodes: episodes.map((episode) => toEpisodeView(episode, episode.importance, 'recent')),
        count: episodes.length,
        available: true,
      };
    },
  });

  app.get('/memory/search', {
    config: { access: { scope: 'memories:read' } },
    schema: {
      summary: 'Search episodic memories',
      description: 'Best first; `score` in 0..1 is the IDF-weighted share of the query terms an episode matched.',
      tags: ['Memory'],
      operationId: 'searchEpisodes',
      querystring: episodeSearchQuery,
      response: { 200: episodeSearchResult },
    },
    handler: async (request) => {
      const { q, limit } = request.query;
      const hits = await store.memory.searchEpisodes(workspaceOf(request), { query: q, limit, ...userFilter(request) });
      return {
        query: q,
        results: hits.map((hit) => toEpisodeView(hit.item, hit.score, 'keyword')),
        count: hits.length,
      };
    },
  });

  app.post('/agents/:id/memory', {
    config: { access: { scope: 'memories:read' } },
    schema: {
      summary: "Recall an agent's memories",
      description:
        'iii: `{query, limit}` in the body or the query string (limit 1-200, default 10). Memories the agent ' +
        'extracted, best match first (newest first without a query); `user_id` narrows to one user.',
      tags: ['Memory'],
      operationId: 'recallAgentMemory',
      params: agentMemoryParams,
      querystring: agentMemoryQuery,
      body: agentMemoryBody,
      response: { 200: agentMemoryResult },
    },
    handler: async (request) => {
      const agentId = request.params.id;
      if (!config.agents.some((agent) => agent.id === agentId)) throw new NotFoundError('Agent not found');
      const query = request.body?.query ?? request.query.query;
      const limit = request.body?.limit ?? request.query.limit ?? 10;
      const userId = effectiveUserId(request, config) ?? request.body?.user_id ?? request.query.user_id;
      const workspaceId = workspaceOf(request);
      if (query === undefined) {
        const page = await store.memory.list({
          workspaceId,
          agentId,
          limit,
          ...(userId === undefined ? {} : { userId }),
        });
        return page.items.map((record) => ({
          role: 'user',
          content: record.memory,
          score: 1,
          timestamp: record.updatedAt,
          id: record.memoryId,
        }));
      }
      // The index ranks across the agent's and other memories; ask for more, keep the agent's.
      const wanted = Math.min(1000, limit * 5);
      // One user: the service's search (hybrid with memory.embedder); every user: the term index.
      const hits =
        userId === undefined
          ? await store.memory.search(workspaceId, undefined, query, wanted)
          : await services.memory.search(workspaceId, userId, query, wanted);
      return hits
        .filter((hit) => hit.item.agentId === agentId)
        .slice(0, limit)
        .map((hit) => ({
          role: 'user',
          content: hit.item.memory,
          score: Math.round(hit.score * 1000) / 1000,
          timestamp: hit.item.updatedAt,
          id: hit.item.memoryId,
        }));
    },
  });
};
