import { z } from 'zod';
import { idSchema } from '../../../config/index.js';
import { pageMeta, pageQuery } from '../pagination.js';

const userId = z.string().min(1).max(256);
const topic = z.string().trim().min(1).max(100);
const memoryText = z.string().trim().min(1).max(5000);

export const memoryParams = z.object({ memory_id: z.string().min(1).max(128) });
export const userQuery = z.object({ user_id: userId.optional() });

/** Body of `POST /memories` and `PATCH /memories/{id}` (Agno `UserMemoryCreateSchema`). */
export const memoryBody = z.object({
  memory: memoryText,
  user_id: userId.optional(),
  topics: z.array(topic).max(20).optional(),
  agent_id: idSchema.optional(),
  team_id: idSchema.optional(),
});

/** Query of `GET /memories`. */
export const memoriesListQuery = z.object({
  user_id: userId.optional(),
  agent_id: idSchema.optional(),
  team_id: idSchema.optional(),
  topics: z.string().max(2000).optional().describe('Comma-separated; memories with any of them'),
  search_content: z.string().max(500).optional().describe('Case-insensitive substring of the memory'),
  ...pageQuery.shape,
  sort_by: z.enum(['updated_at']).default('updated_at'),
  sort_order: z.enum(['asc', 'desc']).default('desc'),
});

export const deleteMemoriesBody = z.object({
  memory_ids: z.array(z.string().min(1).max(128)).min(1).max(1000),
  user_id: userId.optional(),
});

export const statsQuery = z.object({ user_id: userId.optional(), ...pageQuery.shape });

export const optimizeBody = z.object({
  user_id: userId,
  model: z
    .string()
    .regex(/^[a-z][a-z0-9-]*:.+$/, 'expected provider:model')
    .max(256)
    .optional(),
  apply: z.boolean().default(true),
});

/** Query of seed 001's `GET /memory`. */
export const userMemoryQuery = z.object({
  user_id: userId,
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

/** One memory (Agno `UserMemorySchema`). */
export const memoryView = z.object({
  memory_id: z.string(),
  memory: z.string(),
  topics: z.array(z.string()),
  agent_id: z.string().nullable(),
  team_id: z.string().nullable(),
  user_id: z.string().nullable(),
  input: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});

export const memoriesList = z.object({ memories: z.array(memoryView), meta: pageMeta });

export const statsList = z.object({
  user_memory_stats: z.array(
    z.object({ user_id: z.string().nullable(), total_memories: z.number().int(), last_memory_updated_at: z.string() }),
  ),
  meta: pageMeta,
});

export const optimizeResult = z.object({
  memories: z.array(memoryView),
  memories_before: z.number().int(),
  memories_after: z.number().int(),
  tokens_before: z.number().int(),
  tokens_after: z.number().int(),
  tokens_saved: z.number().int(),
  reduction_percentage: z.number(),
  method: z.enum(['model', 'heuristic']).describe('`heuristic` with local:default: only near-duplicates are dropped'),
});

/** A session summary as seed 001 and `/memory` show it. */
export const summaryView = z.object({
  session_id: z.string(),
  agent_id: z.string().nullable(),
  summary: z.string(),
  topics: z.array(z.string()),
  updated_at: z.string(),
});

export const userMemory = z.object({
  user_id: z.string(),
  memories: z.array(memoryView),
  preferences: z.array(memoryView).describe('The memories tagged `preferences`'),
  summaries: z.array(summaryView).describe('Conversation summaries, newest first'),
});

export const topicsList = z.array(z.string());

export const noContent = z.null().describe('No content');

// ------------------------------------------------------------------------------------------------
// /api (agtOS seed 002, iii)

const episodeView = z.object({
  id: z.string(),
  summary: z.string(),
  keywords: z.array(z.string()),
  topic: z.string(),
  timestamp: z.number().int().describe('Epoch milliseconds'),
  importance: z.number(),
  type: z.string(),
  score: z.number(),
  matchType: z.enum(['keyword', 'semantic', 'hybrid', 'recent']),
});

export const episodesQuery = z.object({ limit: z.coerce.number().int().min(1).max(100).default(20) });
export const episodesList = z.object({
  episodes: z.array(episodeView),
  count: z.number().int(),
  available: z.boolean(),
});

export const episodeSearchQuery = z.object({
  q: z.string().trim().min(1).max(1000),
  limit: z.coerce.number().int().min(1).max(50).default(10),
});
export const episodeSearchResult = z.object({
  query: z.string(),
  results: z.array(episodeView),
  count: z.number().int(),
});

export const agentMemoryParams = z.object({ id: idSchema });
export const agentMemoryBody = z
  .object({
    query: z.string().trim().min(1).max(1000).optional(),
    limit: z.coerce.number().int().min(1).max(200).optional(),
    user_id: userId.optional(),
  })
  .nullish();
export const agentMemoryQuery = z.object({
  query: z.string().trim().min(1).max(1000).optional(),
  limit: z.coerce.number().int().min(1).max(200).optional(),
  user_id: userId.optional(),
});
export const agentMemoryResult = z.array(
  z.object({
    role: z.string(),
    content: z.string(),
    score: z.number(),
    timestamp: z.number().int().describe('Epoch milliseconds'),
    id: z.string(),
  }),
);
