/**
 * User memories on the root surface: Agno's `/memories` CRUD, bulk delete, `/memory_topics`,
 * `/user_memory_stats` and `/optimize-memories` (research/agno.md §1.5), and seed 001's `GET /memory`.
 * Every store call names the caller's workspace; under user isolation a pinned caller only ever sees
 * and writes its own memories, and another user's memory answers 404 like a missing one.
 * @module
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import { AgentOsError, isAgentOsError } from '../../../errors/index.js';
import type { Services } from '../../../services.js';
import type { MemoryRecord, SessionSummaryRecord } from '../../../store/types.js';
import { workspaceOf } from '../../plugins/access-control.js';
import { effectiveUserId } from '../../user-scope.js';
import { pageMetaOf } from '../pagination.js';
import {
  deleteMemoriesBody,
  memoriesList,
  memoriesListQuery,
  memoryBody,
  memoryParams,
  memoryView,
  noContent,
  optimizeBody,
  optimizeResult,
  statsList,
  statsQuery,
  type summaryView,
  topicsList,
  userMemory,
  userMemoryQuery,
  userQuery,
} from './schemas.js';

/** A memory as the root surface shows it. */
export function toMemoryView(record: MemoryRecord): z.infer<typeof memoryView> {
  return {
    memory_id: record.memoryId,
    memory: record.memory,
    topics: record.topics,
    agent_id: record.agentId,
    team_id: record.teamId,
    user_id: record.userId,
    input: record.input,
    created_at: new Date(record.createdAt).toISOString(),
    updated_at: new Date(record.updatedAt).toISOString(),
  };
}

/** A session summary as the root surface shows it. */
export function toSummaryView(record: SessionSummaryRecord): z.infer<typeof summaryView> {
  return {
    session_id: record.sessionId,
    agent_id: record.agentId,
    summary: record.summary,
    topics: record.topics,
    updated_at: new Date(record.updatedAt).toISOString(),
  };
}

function memoryNotFound(): AgentOsError {
  return new AgentOsError('AOS_MEMORY_NOT_FOUND', 'Memory not found');
}

/** Route table of the memory routes on the root surface. */
export const memoryRoutes: FastifyPluginAsync<{ services: Services }> = async (fastify, { services }) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const { store, config, memory } = services;

  /** The user a request acts for: the pinned user under isolation, else the one it names. */
  function userOf(request: FastifyRequest, named: string | undefined): string | undefined {
    return effectiveUserId(request, config) ?? named;
  }

  /** The memory of the workspace, and of `userId` when one applies; else 404. */
  async function findMemory(request: FastifyRequest, memoryId: string, named: string | undefined) {
    const record = await store.memory.get(workspaceOf(request), memoryId);
    const userId = userOf(request, named);
    if (!record || (userId !== undefined && record.userId !== userId)) throw memoryNotFound();
    return record;
  }

  app.post('/memories', {
    config: { access: { scope: 'memories:write' } },
    schema: {
      summary: 'Create a memory',
      description: 'The same text twice for one user is stored once; the existing memory is returned.',
      tags: ['Memory'],
      operationId: 'createMemory',
      body: memoryBody,
      response: { 200: memoryView },
    },
    handler: async (request) => {
      const { memory: text, user_id, topics, agent_id, team_id } = request.body;
      const { record } = await memory.create({
        workspaceId: workspaceOf(request),
        userId: userOf(request, user_id) ?? request.principal?.userId ?? null,
        agentId: agent_id ?? null,
        teamId: team_id ?? null,
        memory: text,
        topics: topics ?? [],
        source: 'api',
      });
      return toMemoryView(record);
    },
  });

  app.get('/memories', {
    config: { access: { scope: 'memories:read' } },
    schema: {
      summary: 'List memories',
      tags: ['Memory'],
      operationId: 'listMemories',
      querystring: memoriesListQuery,
      response: { 200: memoriesList },
    },
    handler: async (request) => {
      const { user_id, agent_id, team_id, topics, search_content, page, limit, sort_order } = request.query;
      const userId = userOf(request, user_id);
      const result = await store.memory.list({
        workspaceId: workspaceOf(request),
        ...(userId === undefined ? {} : { userId }),
        ...(agent_id === undefined ? {} : { agentId: agent_id }),
        ...(team_id === undefined ? {} : { teamId: team_id }),
        ...(topics === undefined ? {} : { topics: topics.split(',').map((topic) => topic.trim()) }),
        ...(search_content === undefined ? {} : { search: search_content }),
        order: sort_order,
        page,
        limit,
      });
      return { memories: result.items.map(toMemoryView), meta: pageMetaOf(result.total, { page, limit }) };
    },
  });

  app.get('/memories/:memory_id', {
    config: { access: { scope: 'memories:read' } },
    schema: {
      summary: 'Get a memory',
      tags: ['Memory'],
      operationId: 'getMemory',
      params: memoryParams,
      querystring: userQuery,
      response: { 200: memoryView },
    },
    handler: async (request) =>
      toMemoryView(await findMemory(request, request.params.memory_id, request.query.user_id)),
  });

  app.patch('/memories/:memory_id', {
    config: { access: { scope: 'memories:write' } },
    schema: {
      summary: 'Update a memory',
      description: 'Replaces the text and, when given, the topics. 409 when the user already has this text.',
      tags: ['Memory'],
      operationId: 'updateMemory',
      params: memoryParams,
      body: memoryBody,
      response: { 200: memoryView },
    },
    handler: async (request) => {
      const { memory: text, user_id, topics, agent_id, team_id } = request.body;
      const current = await findMemory(request, request.params.memory_id, user_id);
      const pinned = effectiveUserId(request, config);
      const updated = await memory.update(current.workspaceId, current.memoryId, {
        memory: text,
        ...(topics === undefined ? {} : { topics }),
        // A pinned caller cannot hand its memory to someone else.
        ...(user_id === undefined || pinned !== undefined ? {} : { userId: user_id }),
        ...(agent_id === undefined ? {} : { agentId: agent_id }),
        ...(team_id === undefined ? {} : { teamId: team_id }),
      });
      if (!updated) throw memoryNotFound();
      return toMemoryView(updated);
    },
  });

  app.delete('/memories/:memory_id', {
    config: { access: { scope: 'memories:delete' } },
    schema: {
      summary: 'Delete a memory',
      tags: ['Memory'],
      operationId: 'deleteMemory',
      params: memoryParams,
      querystring: userQuery,
      response: { 204: noContent },
    },
    handler: async (request, reply) => {
      const record = await findMemory(request, request.params.memory_id, request.query.user_id);
      await memory.remove(record.workspaceId, [record.memoryId], record.userId);
      return reply.code(204).send(null);
    },
  });

  app.delete('/memories', {
    config: { access: { scope: 'memories:delete' } },
    schema: {
      summary: 'Delete several memories',
      description: 'Ids that name no memory (of `user_id`, when given) are skipped.',
      tags: ['Memory'],
      operationId: 'deleteMemories',
      body: deleteMemoriesBody,
      response: { 204: noContent },
    },
    handler: async (request, reply) => {
      const userId = userOf(request, request.body.user_id);
      await memory.remove(workspaceOf(request), [...new Set(request.body.memory_ids)], userId);
      return reply.code(204).send(null);
    },
  });

  app.get('/memory_topics', {
    config: { access: { scope: 'memories:read' } },
    schema: {
      summary: 'List memory topics',
      description: 'Distinct topics, sorted.',
      tags: ['Memory'],
      operationId: 'listMemoryTopics',
      querystring: userQuery,
      response: { 200: topicsList },
    },
    handler: async (request) => store.memory.topics(workspaceOf(request), userOf(request, request.query.user_id)),
  });

  app.get('/user_memory_stats', {
    config: { access: { scope: 'memories:read' } },
    schema: {
      summary: 'Memory counts per user',
      description: 'Most recently updated user first.',
      tags: ['Memory'],
      operationId: 'getUserMemoryStats',
      querystring: statsQuery,
      response: { 200: statsList },
    },
    handler: async (request) => {
      const { user_id, page, limit } = request.query;
      const userId = userOf(request, user_id);
      const result = await store.memory.userStats(workspaceOf(request), {
        page,
        limit,
        ...(userId === undefined ? {} : { userId }),
      });
      return {
        user_memory_stats: result.items.map((row) => ({
          user_id: row.userId,
          total_memories: row.totalMemories,
          last_memory_updated_at: new Date(row.lastMemoryUpdatedAt).toISOString(),
        })),
        meta: pageMetaOf(result.total, { page, limit }),
      };
    },
  });

  app.post('/optimize-memories', {
    config: { access: { scope: 'memories:write' } },
    schema: {
      summary: "Optimise a user's memories",
      description:
        'Merges the memories with `model` (default: the configured default model). With local:default, which is ' +
        'not an LLM, only near-duplicates are dropped (`method: "heuristic"`). `apply: false` previews.',
      tags: ['Memory'],
      operationId: 'optimizeMemories',
      body: optimizeBody,
      response: { 200: optimizeResult },
    },
    handler: async (request) => {
      const { user_id, model, apply } = request.body;
      const pinned = effectiveUserId(request, config);
      if (pinned !== undefined && pinned !== user_id) throw memoryNotFound();
      let result: Awaited<ReturnType<typeof memory.optimize>>;
      try {
        result = await memory.optimize({ workspaceId: workspaceOf(request), userId: user_id, modelId: model, apply });
      } catch (error) {
        if (isAgentOsError(error)) throw error;
        throw new AgentOsError('AOS_MODEL_PROVIDER_ERROR', `Optimising memories failed: ${(error as Error).message}`, {
          cause: error,
        });
      }
      const saved = result.tokensBefore - result.tokensAfter;
      return {
        memories: result.memories.map(toMemoryView),
        memories_before: result.memoriesBefore,
        memories_after: result.memoriesAfter,
        tokens_before: result.tokensBefore,
        tokens_after: result.tokensAfter,
        tokens_saved: saved,
        reduction_percentage: result.tokensBefore === 0 ? 0 : Math.round((saved / result.tokensBefore) * 10_000) / 100,
        method: result.method,
      };
    },
  });

  app.get('/memory', {
    config: { access: { scope: 'memories:read' } },
    schema: {
      summary: "Get a user's memory",
      description:
        "Seed 001: the user's memories (newest first, at most `limit`), those tagged `preferences`, and the " +
        'summaries of their conversations.',
      tags: ['Memory'],
      operationId: 'getUserMemory',
      querystring: userMemoryQuery,
      response: { 200: userMemory },
    },
    handler: async (request) => {
      const { user_id, limit } = request.query;
      const pinned = effectiveUserId(request, config);
      if (pinned !== undefined && pinned !== user_id) throw memoryNotFound();
      const workspaceId = workspaceOf(request);
      const [memories, summaries] = await Promise.all([
        store.memory.list({ workspaceId, userId: user_id, limit }),
        store.memory.listSessionSummaries(workspaceId, user_id, limit),
      ]);
      const views = memories.items.map(toMemoryView);
      return {
        user_id,
        memories: views,
        preferences: views.filter((view) => view.topics.some((topic) => /^preferences?$/i.test(topic))),
        summaries: summaries.map(toSummaryView),
      };
    },
  });
};
