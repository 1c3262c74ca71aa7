/**
 * Schemas of the knowledge routes (research/agno.md §1.6, seed 001).
 * @module
 */
import { z } from 'zod';
import { idSchema } from '../../../config/index.js';
import { pageMeta, pageQuery } from '../pagination.js';

/** Form values arrive as strings: numbers are coerced, JSON objects parsed. */
const formInt = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const jsonObject = z.preprocess(
  (value) => {
    if (typeof value !== 'string') return value;
    if (value.trim() === '') return undefined;
    try {
      return JSON.parse(value);
    } catch {
      return value;
    }
  },
  z.record(z.string(), z.unknown()),
);

/** An uploaded file as the multipart hook hands it over (`keepFiles`). */
const uploadedFile = z.object({
  field: z.string(),
  filename: z.string(),
  mimetype: z.string(),
  size: z.number(),
  data: z.custom<Buffer>((value) => Buffer.isBuffer(value), 'file bytes').optional(),
});

/** Body of `POST /knowledge/content` (multipart form, urlencoded or JSON). */
export const addContentBody = z
  .object({
    name: z.string().trim().min(1).max(512).optional(),
    description: z.string().max(4096).optional(),
    url: z.string().url().max(4096).optional(),
    text_content: z.string().min(1).optional(),
    metadata: jsonObject.optional(),
    chunk_size: formInt(50, 100_000).optional(),
    chunk_overlap: formInt(0, 50_000).optional(),
    /** Agno's reader and chunker choices; readers are picked by file type here, so these are accepted and ignored. */
    reader_id: z.string().optional(),
    chunker: z.string().optional(),
    files: z.array(uploadedFile).max(1, 'one file per request').optional(),
  })
  .refine(
    (body) => [body.url, body.text_content, body.files?.[0]].filter((value) => value !== undefined).length === 1,
    {
      message: 'give exactly one of file, text_content or url',
    },
  )
  .refine((body) => body.chunk_overlap === undefined || (body.chunk_size ?? 1500) > body.chunk_overlap, {
    message: 'chunk_overlap must be smaller than chunk_size',
    path: ['chunk_overlap'],
  });

/** `?knowledge_id=&db_id=` of every knowledge route. */
export const knowledgeQuery = z.object({
  knowledge_id: idSchema.optional(),
  db_id: z.string().optional(),
});

export const contentParams = z.object({ content_id: z.string().min(1).max(128) });

export const contentListQuery = pageQuery.extend(knowledgeQuery.shape).extend({
  sort_by: z.enum(['created_at', 'updated_at', 'name']).default('created_at'),
  sort_order: z.enum(['asc', 'desc']).default('desc'),
});

/** Agno `ContentResponseSchema`. */
export const contentView = z.object({
  id: z.string(),
  knowledge_id: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  type: z.string(),
  size: z.number().int(),
  linked_to: z.string().nullable(),
  metadata: z.record(z.string(), z.unknown()),
  access_count: z.number().int(),
  status: z.enum(['processing', 'completed', 'failed']),
  status_message: z.string().nullable(),
  chunk_count: z.number().int(),
  created_at: z.string(),
  updated_at: z.string(),
});

export const contentStatusView = z.object({
  id: z.string(),
  status: z.enum(['processing', 'completed', 'failed']),
  status_message: z.string().nullable(),
});

export const contentListView = z.object({ data: z.array(contentView), meta: pageMeta });

export const updateContentBody = z
  .object({
    name: z.string().trim().min(1).max(512).optional(),
    description: z.string().max(4096).optional(),
    metadata: jsonObject.optional(),
    reader_id: z.string().optional(),
  })
  .loose();

const filterValue = z.union([z.string(), z.number(), z.boolean()]);

/** Body of `POST /knowledge/search`. */
export const searchBody = z.object({
  query: z.string().trim().min(1).max(4000),
  knowledge_id: idSchema.optional(),
  db_id: z.string().optional(),
  vector_db_ids: z.array(z.string()).optional(),
  search_type: z.enum(['vector', 'keyword', 'hybrid']).default('hybrid'),
  max_results: z.number().int().min(1).max(1000).default(10),
  filters: z.record(z.string(), filterValue).optional(),
  meta: z
    .object({ limit: z.number().int().min(1).max(1000).optional(), page: z.number().int().min(1).optional() })
    .optional(),
});

/** One search result (Agno's shape plus `score`, `match_type`, `chunk`, `knowledge_id`). */
export const searchResultView = z.object({
  id: z.string(),
  content: z.string(),
  name: z.string().nullable(),
  meta_data: z.record(z.string(), z.unknown()),
  usage: z.null(),
  reranking_score: z.number().nullable(),
  content_id: z.string(),
  content_origin: z.string().nullable(),
  size: z.number().int(),
  knowledge_id: z.string(),
  chunk: z.number().int(),
  score: z.number(),
  match_type: z.enum(['vector', 'keyword', 'hybrid']),
});

export const searchView = z.object({ data: z.array(searchResultView), meta: pageMeta });

export const knowledgeListView = z.object({
  knowledge_instances: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      description: z.string().nullable(),
      db_id: z.string(),
      table: z.string(),
      document_count: z.number().int(),
    }),
  ),
});

export const knowledgeConfigView = z.object({
  readers: z.record(z.string(), z.object({ id: z.string(), name: z.string(), description: z.string() })),
  readersForType: z.record(z.string(), z.array(z.string())),
  chunkers: z.record(z.string(), z.object({ key: z.string(), name: z.string(), description: z.string() })),
  filters: z.array(z.string()),
  vector_dbs: z.array(z.object({ id: z.string(), name: z.string(), search_types: z.array(z.string()) })),
  embedders: z.record(z.string(), z.string()),
  search_types: z.array(z.string()),
});

export const deleteAllView = z.object({ deleted: z.number().int() });
