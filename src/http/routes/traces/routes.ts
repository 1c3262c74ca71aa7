/**
 * Traces on the root surface (research/agno.md §1.7): list with filters, one trace as a tree of
 * typed nodes, the filter bar's schema, FilterExpr search and per-session counts. Reads flush this
 * process's queued spans first, so a run that just ended is visible. Every query names the caller's
 * workspace; under user isolation a pinned caller only sees traces of its own user.
 * @module
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import { AgentOsError } from '../../../errors/index.js';
import type { Services } from '../../../services.js';
import type {
  SpanRecord,
  TraceFilterExpr,
  TraceRecord,
  TraceSessionStats,
} from '../../../store/observability-types.js';
import { workspaceOf } from '../../plugins/access-control.js';
import { effectiveUserId } from '../../user-scope.js';
import { pageMetaOf } from '../pagination.js';
import {
  filterDepth,
  filterSchemaView,
  MAX_FILTER_DEPTH,
  searchPage,
  sessionStatsPage,
  sessionStatsQuery,
  type sessionStatsView,
  TRACE_FIELDS,
  type TraceNodeView,
  traceDetail,
  traceDetailQuery,
  traceParams,
  traceSearchBody,
  type traceSummary,
  tracesPage,
  tracesQuery,
} from './schemas.js';

const iso = (ms: number) => new Date(ms).toISOString();
const DATETIME_FIELDS = new Set(TRACE_FIELDS.filter((field) => field.type === 'datetime').map((field) => field.key));
const NUMERIC_FIELDS = new Set(
  TRACE_FIELDS.filter((field) => field.type !== 'string' && field.type !== 'enum').map((f) => f.key),
);

function formatDuration(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)}s` : `${Math.round(ms)}ms`;
}

function traceNotFound(): AgentOsError {
  return new AgentOsError('AOS_TRACE_NOT_FOUND', 'Trace not found');
}

function invalid(message: string): AgentOsError {
  return new AgentOsError('AOS_VALIDATION', message);
}

/** Datetime values become epoch ms; numbers of numeric fields must be numbers. */
function normaliseFilter(expr: TraceFilterExpr): TraceFilterExpr {
  if ('conditions' in expr) return { op: expr.op, conditions: expr.conditions.map(normaliseFilter) };
  if ('condition' in expr) return { op: 'NOT', condition: normaliseFilter(expr.condition) };
  const key = expr.key;
  const convert = (value: string | number): string | number => {
    if (!NUMERIC_FIELDS.has(key)) return String(value);
    if (typeof value === 'number') return value;
    const parsed = DATETIME_FIELDS.has(key) && !/^-?\d+(\.\d+)?$/.test(value) ? Date.parse(value) : Number(value);
    if (!Number.isFinite(parsed)) throw invalid(`filter value "${value}" is not valid for ${key}`);
    return parsed;
  };
  if (expr.op === 'IN') return { op: 'IN', key, value: expr.value.map(convert) };
  if ((expr.op === 'CONTAINS' || expr.op === 'STARTSWITH') && NUMERIC_FIELDS.has(key)) {
    throw invalid(`${expr.op} applies to text fields, not ${key}`);
  }
  return { op: expr.op, key, value: convert(expr.value as string | number) };
}

/** The query-string filters of the list routes as one AND expression. */
function queryFilter(query: Partial<z.infer<typeof tracesQuery>>, pinnedUser: string | undefined) {
  const conditions: TraceFilterExpr[] = [];
  const equal = (
    key: 'run_id' | 'session_id' | 'user_id' | 'agent_id' | 'team_id' | 'workflow_id' | 'status',
    value: string | undefined,
  ) => {
    if (value !== undefined) conditions.push({ op: 'EQ', key, value });
  };
  equal('run_id', query.run_id);
  equal('session_id', query.session_id);
  equal('user_id', pinnedUser ?? query.user_id);
  equal('agent_id', query.agent_id);
  equal('team_id', query.team_id);
  equal('workflow_id', query.workflow_id);
  equal('status', query.status);
  if (query.start_time !== undefined)
    conditions.push({ op: 'GTE', key: 'start_time', value: Date.parse(query.start_time) });
  if (query.end_time !== undefined)
    conditions.push({ op: 'LTE', key: 'start_time', value: Date.parse(query.end_time) });
  return conditions;
}

function and(conditions: TraceFilterExpr[]): TraceFilterExpr | undefined {
  if (conditions.length === 0) return undefined;
  return conditions.length === 1 ? conditions[0] : { op: 'AND', conditions };
}

function toSummary(trace: TraceRecord): z.infer<typeof traceSummary> {
  return {
    trace_id: trace.traceId,
    name: trace.name,
    status: trace.status,
    duration: formatDuration(trace.durationMs),
    duration_ms: trace.durationMs,
    start_time: iso(trace.startTime),
    end_time: iso(trace.endTime),
    total_spans: trace.totalSpans,
    error_count: trace.errorCount,
    input: trace.input,
    run_id: trace.runId,
    session_id: trace.sessionId,
    user_id: trace.userId,
    agent_id: trace.agentId,
    team_id: trace.teamId,
    workflow_id: trace.workflowId,
    created_at: iso(trace.createdAt),
  };
}

function toStats(stats: TraceSessionStats): z.infer<typeof sessionStatsView> {
  return {
    session_id: stats.sessionId,
    user_id: stats.userId,
    agent_id: stats.agentId,
    team_id: stats.teamId,
    workflow_id: stats.workflowId,
    total_traces: stats.totalTraces,
    first_trace_at: iso(stats.firstTraceAt),
    last_trace_at: iso(stats.lastTraceAt),
  };
}

function stringAttribute(span: SpanRecord, ...keys: string[]): string | null {
  for (const key of keys) {
    const value = span.attributes[key];
    if (typeof value === 'string') return value;
  }
  return null;
}

/** Spans as a forest: children under their parent's `spans`, siblings by start time. */
export function buildTree(spans: SpanRecord[]): TraceNodeView[] {
  const nodes = new Map<string, TraceNodeView>();
  for (const span of spans) {
    nodes.set(span.spanId, {
      id: span.spanId,
      name: span.name,
      type: span.spanType,
      duration: formatDuration(span.durationMs),
      duration_ms: span.durationMs,
      start_time: iso(span.startTime),
      end_time: iso(span.endTime),
      status: span.status,
      input: stringAttribute(span, 'agentos.input', 'gen_ai.tool.call.arguments', 'gen_ai.input.messages'),
      output: stringAttribute(span, 'agentos.output', 'gen_ai.tool.call.result', 'gen_ai.output.messages'),
      error: span.status === 'ERROR' ? span.statusMessage : null,
      parent_id: span.parentSpanId,
      spans: [],
      step_type: null,
      metadata: span.attributes,
      extra_data: {},
    });
  }
  const roots: TraceNodeView[] = [];
  for (const span of spans) {
    const node = nodes.get(span.spanId) as TraceNodeView;
    const parent = span.parentSpanId ? nodes.get(span.parentSpanId) : undefined;
    if (parent) parent.spans.push(node);
    else roots.push(node);
  }
  return roots;
}

/** Route table of `/traces` and `/trace_session_stats`. */
export const traceRoutes: FastifyPluginAsync<{ services: Services }> = async (fastify, { services }) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const { store, observability, config } = services;
  const pinned = (request: FastifyRequest) => effectiveUserId(request, config);

  app.get('/traces', {
    config: { access: { scope: 'traces:read' } },
    schema: {
      summary: 'List traces',
      description: 'Newest first. `start_time` / `end_time` bound the trace start (ISO 8601).',
      tags: ['Traces'],
      operationId: 'listTraces',
      querystring: tracesQuery,
      response: { 200: tracesPage },
    },
    handler: async (request) => {
      await observability.flush();
      const { page, limit } = request.query;
      const result = await store.observability.listTraces({
        workspaceId: workspaceOf(request),
        filter: and(queryFilter(request.query, pinned(request))),
        page,
        limit,
      });
      return { traces: result.items.map(toSummary), meta: pageMetaOf(result.total, { page, limit }) };
    },
  });

  app.get('/traces/filter-schema', {
    config: { access: { scope: 'traces:read' } },
    schema: {
      summary: 'Fields and operators of the trace search',
      tags: ['Traces'],
      operationId: 'getTraceFilterSchema',
      response: { 200: filterSchemaView },
    },
    handler: async () => ({
      fields: TRACE_FIELDS.map((field) => ({
        key: field.key,
        label: field.label,
        type: field.type,
        operators:
          field.type === 'string'
            ? ['EQ', 'NEQ', 'IN', 'CONTAINS', 'STARTSWITH']
            : field.type === 'enum'
              ? ['EQ', 'NEQ', 'IN']
              : ['EQ', 'NEQ', 'GT', 'GTE', 'LT', 'LTE', 'IN'],
        ...(field.values ? { values: field.values } : {}),
      })),
      logical_operators: ['AND', 'OR', 'NOT'],
      group_by: ['run', 'session'],
    }),
  });

  app.post('/traces/search', {
    config: { access: { scope: 'traces:read' } },
    schema: {
      summary: 'Search traces with a FilterExpr',
      description:
        'Comparisons `{op, key, value}` (EQ, NEQ, GT, GTE, LT, LTE, IN, CONTAINS, STARTSWITH) combined with ' +
        '`{op: AND|OR, conditions}` and `{op: NOT, condition}`; datetime values may be ISO strings. ' +
        '`group_by: session` returns per-session counts instead of traces.',
      tags: ['Traces'],
      operationId: 'searchTraces',
      body: traceSearchBody,
      response: { 200: searchPage },
    },
    handler: async (request) => {
      const { filter, group_by, page, limit } = request.body;
      if (filter && filterDepth(filter) > MAX_FILTER_DEPTH)
        throw invalid(`filter nests deeper than ${MAX_FILTER_DEPTH}`);
      const user = pinned(request);
      const conditions = [
        ...(filter ? [normaliseFilter(filter)] : []),
        ...(user === undefined ? [] : [{ op: 'EQ', key: 'user_id', value: user } as const]),
      ];
      await observability.flush();
      const query = { workspaceId: workspaceOf(request), filter: and(conditions), page, limit };
      if (group_by === 'session') {
        const result = await store.observability.traceSessionStats(query);
        return { results: result.items.map(toStats), meta: pageMetaOf(result.total, { page, limit }) };
      }
      const result = await store.observability.listTraces(query);
      return { results: result.items.map(toSummary), meta: pageMetaOf(result.total, { page, limit }) };
    },
  });

  app.get('/traces/:trace_id', {
    config: { access: { scope: 'traces:read' } },
    schema: {
      summary: 'Get a trace as a tree of spans',
      description: 'With `span_id`, the tree holds only that span and its descendants.',
      tags: ['Traces'],
      operationId: 'getTrace',
      params: traceParams,
      querystring: traceDetailQuery,
      response: { 200: traceDetail },
    },
    handler: async (request) => {
      await observability.flush();
      const workspaceId = workspaceOf(request);
      const trace = await store.observability.getTrace(workspaceId, request.params.trace_id);
      const user = pinned(request);
      if (!trace || (user !== undefined && trace.userId !== user)) throw traceNotFound();
      if (request.query.run_id !== undefined && trace.runId !== request.query.run_id) throw traceNotFound();
      const spans = await store.observability.listSpans(workspaceId, trace.traceId);
      let tree = buildTree(spans);
      const spanId = request.query.span_id;
      if (spanId !== undefined) {
        const find = (nodes: TraceNodeView[]): TraceNodeView | undefined => {
          for (const node of nodes) {
            if (node.id === spanId) return node;
            const found = find(node.spans);
            if (found) return found;
          }
          return undefined;
        };
        const node = find(tree);
        if (!node) throw new AgentOsError('AOS_TRACE_NOT_FOUND', 'Span not found in this trace');
        tree = [node];
      }
      return { ...toSummary(trace), output: trace.output, error: trace.error, tree };
    },
  });

  app.get('/trace_session_stats', {
    config: { access: { scope: 'traces:read' } },
    schema: {
      summary: 'Trace counts per session',
      description: 'Most recently traced session first.',
      tags: ['Traces'],
      operationId: 'listTraceSessionStats',
      querystring: sessionStatsQuery,
      response: { 200: sessionStatsPage },
    },
    handler: async (request) => {
      await observability.flush();
      const { page, limit } = request.query;
      const result = await store.observability.traceSessionStats({
        workspaceId: workspaceOf(request),
        filter: and(queryFilter(request.query, pinned(request))),
        page,
        limit,
      });
      return { sessions: result.items.map(toStats), meta: pageMetaOf(result.total, { page, limit }) };
    },
  });
};
