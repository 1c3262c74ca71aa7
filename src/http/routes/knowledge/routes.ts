/**
 * Knowledge on the root surface (research/agno.md §1.6, seed 001): the configured knowledge bases,
 * content ingestion (202, processed off the request), content CRUD and status, hybrid search and the
 * reader/chunker catalogue. Every call names the caller's workspace, so another tenant's content is
 * simply not found.
 * @module
 */
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import { AgentOsError } from '../../../errors/index.js';
import { READER_TYPES } from '../../../knowledge/readers.js';
import type { ContentInput } from '../../../knowledge/service.js';
import type { Services } from '../../../services.js';
import type { KnowledgeContentRecord } from '../../../store/knowledge-types.js';
import { workspaceOf } from '../../plugins/access-control.js';
import { OS_DATABASE_ID } from '../core/routes.js';
import { pageMetaOf } from '../pagination.js';
import {
  addContentBody,
  contentListQuery,
  contentListView,
  contentParams,
  contentStatusView,
  contentView,
  deleteAllView,
  knowledgeConfigView,
  knowledgeListView,
  knowledgeQuery,
  searchBody,
  searchView,
  updateContentBody,
} from './schemas.js';

function toContentView(record: KnowledgeContentRecord): z.infer<typeof contentView> {
  return {
    id: record.id,
    knowledge_id: record.knowledgeId,
    name: record.name,
    description: record.description,
    type: record.type,
    size: record.size,
    linked_to: record.source,
    metadata: record.metadata,
    access_count: record.accessCount,
    status: record.status,
    status_message: record.statusMessage,
    chunk_count: record.chunkCount,
    created_at: new Date(record.createdAt).toISOString(),
    updated_at: new Date(record.updatedAt).toISOString(),
  };
}

const READER_DESCRIPTIONS: Record<(typeof READER_TYPES)[number], string> = {
  txt: 'Plain text.',
  md: 'Markdown, indexed as written.',
  html: 'HTML pages: scripts and styles dropped, text kept.',
  json: 'JSON: one "path: value" line per leaf.',
  csv: 'CSV: one "column: value" block per row.',
  pdf: 'PDF text layer (unpdf / pdf.js); scanned pages without text yield nothing.',
};

/** Route table of `/knowledge`. */
export const knowledgeRoutes: FastifyPluginAsync<{ services: Services }> = async (fastify, { services }) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const { knowledge, store } = services;

  app.get('/knowledge', {
    config: { access: { scope: 'knowledge:read' } },
    schema: {
      summary: 'List knowledge bases',
      description: '`document_count` counts the contents of the caller’s workspace.',
      tags: ['Knowledge'],
      operationId: 'listKnowledgeBases',
      response: { 200: knowledgeListView },
    },
    handler: async (request) => {
      const counts = await knowledge.documentCounts(workspaceOf(request));
      return {
        knowledge_instances: knowledge.list().map((base) => ({
          id: base.id,
          name: base.name ?? base.id,
          description: base.description ?? null,
          db_id: OS_DATABASE_ID,
          table: 'knowledge_contents',
          document_count: counts.get(base.id) ?? 0,
        })),
      };
    },
  });

  app.post('/knowledge/content', {
    config: { access: { scope: 'knowledge:write' }, uploads: true, keepFiles: true },
    schema: {
      summary: 'Add content to a knowledge base',
      description:
        'Multipart form (or JSON) with exactly one of `file`, `text_content` or `url`. Answers 202 with ' +
        '`status: processing`; poll `GET /knowledge/content/{id}/status`. URLs go through the same SSRF guard ' +
        'as the `http_request` tool. `knowledge_id` may be left out when one knowledge base is configured.',
      tags: ['Knowledge'],
      operationId: 'addKnowledgeContent',
      querystring: knowledgeQuery,
      body: addContentBody,
      response: { 202: contentView },
    },
    handler: async (request, reply) => {
      const body = request.body;
      const base = knowledge.resolve(request.query.knowledge_id);
      const file = body.files?.[0];
      let input: ContentInput;
      if (file) {
        if (!file.data) throw new AgentOsError('AOS_BAD_REQUEST', 'The uploaded file could not be read');
        input = { kind: 'file', data: file.data, filename: file.filename, mimetype: file.mimetype };
      } else if (body.text_content !== undefined) input = { kind: 'text', text: body.text_content };
      else input = { kind: 'url', url: body.url as string };
      const record = await knowledge.add({
        workspaceId: workspaceOf(request),
        knowledgeId: base.id,
        input,
        name: body.name,
        description: body.description,
        metadata: body.metadata,
        chunkSize: body.chunk_size,
        chunkOverlap: body.chunk_overlap,
      });
      return reply.code(202).send(toContentView(record));
    },
  });

  app.get('/knowledge/content', {
    config: { access: { scope: 'knowledge:read' } },
    schema: {
      summary: 'List knowledge content',
      tags: ['Knowledge'],
      operationId: 'listKnowledgeContent',
      querystring: contentListQuery,
      response: { 200: contentListView },
    },
    handler: async (request) => {
      const { page, limit, knowledge_id, sort_by, sort_order } = request.query;
      if (knowledge_id !== undefined) knowledge.base(knowledge_id);
      const result = await knowledge.listContent({
        workspaceId: workspaceOf(request),
        ...(knowledge_id === undefined ? {} : { knowledgeId: knowledge_id }),
        page,
        limit,
        sortBy: sort_by,
        order: sort_order,
      });
      return { data: result.items.map(toContentView), meta: pageMetaOf(result.total, { page, limit }) };
    },
  });

  app.delete('/knowledge/content', {
    config: { access: { scope: 'knowledge:delete' } },
    schema: {
      summary: 'Delete all knowledge content',
      description: 'Of one knowledge base (`knowledge_id`) or of all, in the caller’s workspace; chunks included.',
      tags: ['Knowledge'],
      operationId: 'deleteAllKnowledgeContent',
      querystring: knowledgeQuery,
      response: { 200: deleteAllView },
    },
    handler: async (request) => ({
      deleted: await knowledge.deleteAll(workspaceOf(request), request.query.knowledge_id),
    }),
  });

  app.get('/knowledge/content/:content_id', {
    config: { access: { scope: 'knowledge:read' } },
    schema: {
      summary: 'Get knowledge content',
      tags: ['Knowledge'],
      operationId: 'getKnowledgeContent',
      params: contentParams,
      response: { 200: contentView },
    },
    handler: async (request) => toContentView(await knowledge.get(workspaceOf(request), request.params.content_id)),
  });

  app.get('/knowledge/content/:content_id/status', {
    config: { access: { scope: 'knowledge:read' } },
    schema: {
      summary: 'Poll the ingestion status of knowledge content',
      tags: ['Knowledge'],
      operationId: 'getKnowledgeContentStatus',
      params: contentParams,
      response: { 200: contentStatusView },
    },
    handler: async (request) => {
      const record = await knowledge.get(workspaceOf(request), request.params.content_id);
      return { id: record.id, status: record.status, status_message: record.statusMessage };
    },
  });

  app.patch('/knowledge/content/:content_id', {
    config: { access: { scope: 'knowledge:write' }, forms: true },
    schema: {
      summary: 'Update knowledge content',
      description:
        'Name, description and metadata; a new name or metadata is stamped on the indexed chunks too, so search filters see it.',
      tags: ['Knowledge'],
      operationId: 'updateKnowledgeContent',
      params: contentParams,
      body: updateContentBody,
      response: { 200: contentView },
    },
    handler: async (request) => {
      const { name, description, metadata } = request.body;
      const record = await knowledge.update(workspaceOf(request), request.params.content_id, {
        ...(name === undefined ? {} : { name }),
        ...(description === undefined ? {} : { description }),
        ...(metadata === undefined ? {} : { metadata }),
      });
      return toContentView(record);
    },
  });

  app.delete('/knowledge/content/:content_id', {
    config: { access: { scope: 'knowledge:delete' } },
    schema: {
      summary: 'Delete knowledge content',
      description: 'Removes the content and its chunks from the keyword and the vector index.',
      tags: ['Knowledge'],
      operationId: 'deleteKnowledgeContent',
      params: contentParams,
      response: { 200: contentView },
    },
    handler: async (request) => toContentView(await knowledge.delete(workspaceOf(request), request.params.content_id)),
  });

  app.post('/knowledge/search', {
    config: { access: { scope: 'knowledge:read' } },
    schema: {
      summary: 'Search knowledge',
      description:
        '`search_type` vector | keyword | hybrid (reciprocal rank fusion of both). Each result reports `score` and ' +
        '`match_type`. Without vector search (Postgres without pgvector) every type answers from keywords.',
      tags: ['Knowledge'],
      operationId: 'searchKnowledge',
      body: searchBody,
      response: { 200: searchView },
    },
    handler: async (request) => {
      const body = request.body;
      const limit = body.meta?.limit ?? body.max_results;
      const page = body.meta?.page ?? 1;
      const hits = await knowledge.search({
        workspaceId: workspaceOf(request),
        knowledgeId: body.knowledge_id,
        query: body.query,
        mode: body.search_type,
        limit: Math.min(body.max_results, page * limit),
        filters: body.filters,
      });
      const total = hits.length;
      return {
        data: hits.slice((page - 1) * limit, page * limit).map((hit) => ({
          id: `${hit.sourceId}:${hit.chunkIndex}`,
          content: hit.content,
          name: typeof hit.metadata.name === 'string' ? hit.metadata.name : null,
          meta_data: hit.metadata,
          usage: null,
          reranking_score: null,
          content_id: hit.sourceId,
          content_origin: null,
          size: hit.content.length,
          knowledge_id: hit.knowledgeId,
          chunk: hit.chunkIndex,
          score: hit.score,
          match_type: hit.matchType,
        })),
        meta: pageMetaOf(total, { page, limit }),
      };
    },
  });

  app.get('/knowledge/config', {
    config: { access: { scope: 'knowledge:read' } },
    schema: {
      summary: 'Readers, chunkers, search types and embedders of the knowledge bases',
      tags: ['Knowledge'],
      operationId: 'getKnowledgeConfig',
      querystring: knowledgeQuery,
      response: { 200: knowledgeConfigView },
    },
    handler: async (request) => {
      const bases =
        request.query.knowledge_id === undefined ? knowledge.list() : [knowledge.base(request.query.knowledge_id)];
      const vector = store.search.vectorSearch;
      return {
        readers: Object.fromEntries(
          READER_TYPES.map((type) => [
            type,
            { id: type, name: type.toUpperCase(), description: READER_DESCRIPTIONS[type] },
          ]),
        ),
        readersForType: Object.fromEntries(READER_TYPES.map((type) => [type, [type]])),
        chunkers: {
          FixedSizeChunker: {
            key: 'FixedSizeChunker',
            name: 'Fixed size',
            description: 'chunk_size characters (default 1500) with chunk_overlap (default 150), cut at a break.',
          },
        },
        filters: ['content_id', 'name', 'chunk'],
        vector_dbs: [
          {
            id: OS_DATABASE_ID,
            name: store.capabilities.dialect === 'sqlite' ? 'SQLite (FTS5 + sqlite-vec)' : 'Postgres (full text)',
            search_types: vector ? ['vector', 'keyword', 'hybrid'] : ['keyword'],
          },
        ],
        embedders: Object.fromEntries(bases.map((base) => [base.id, base.embedder])),
        search_types: vector ? ['vector', 'keyword', 'hybrid'] : ['keyword'],
      };
    },
  });
};
