/**
 * Schemas of the trace routes (research/agno.md §1.7: TraceSummary, TraceDetail, TraceNode,
 * FilterExpr, TraceSessionStats).
 * @module
 */
import { z } from 'zod';
import { idSchema } from '../../../config/index.js';
import type { TraceField, TraceFilterExpr } from '../../../store/observability-types.js';
import { pageMeta, pageQuery } from '../pagination.js';

/** Fields a filter may name, with their label and kind (served by `GET /traces/filter-schema`). */
export const TRACE_FIELDS: ReadonlyArray<{
  key: TraceField;
  label: string;
  type: 'string' | 'number' | 'datetime' | 'enum';
  values?: string[];
}> = [
  { key: 'trace_id', label: 'Trace ID', type: 'string' },
  { key: 'name', label: 'Name', type: 'string' },
  { key: 'status', label: 'Status', type: 'enum', values: ['OK', 'ERROR', 'UNSET'] },
  { key: 'duration_ms', label: 'Duration (ms)', type: 'number' },
  { key: 'start_time', label: 'Start time', type: 'datetime' },
  { key: 'end_time', label: 'End time', type: 'datetime' },
  { key: 'total_spans', label: 'Spans', type: 'number' },
  { key: 'error_count', label: 'Errors', type: 'number' },
  { key: 'run_id', label: 'Run ID', type: 'string' },
  { key: 'session_id', label: 'Session ID', type: 'string' },
  { key: 'user_id', label: 'User ID', type: 'string' },
  { key: 'agent_id', label: 'Agent ID', type: 'string' },
  { key: 'team_id', label: 'Team ID', type: 'string' },
  { key: 'workflow_id', label: 'Workflow ID', type: 'string' },
];

const fieldKey = z.enum(TRACE_FIELDS.map((field) => field.key) as [TraceField, ...TraceField[]]);
const scalar = z.union([z.string().max(1024), z.number()]);
const comparison = z.enum(['EQ', 'NEQ', 'GT', 'GTE', 'LT', 'LTE', 'CONTAINS', 'STARTSWITH']);

/** Nesting deeper than this is refused (a filter bar never builds one; a deep one only costs). */
const MAX_DEPTH = 8;

/** Agno's FilterExpr. Datetime values may be ISO strings; they are compared as epoch ms. */
export const filterExpr: z.ZodType<TraceFilterExpr> = z.lazy(() =>
  z.union([
    z.strictObject({ op: comparison, key: fieldKey, value: scalar }),
    z.strictObject({ op: z.literal('IN'), key: fieldKey, value: z.array(scalar).max(1000) }),
    z.strictObject({ op: z.enum(['AND', 'OR']), conditions: z.array(filterExpr).min(1).max(100) }),
    z.strictObject({ op: z.literal('NOT'), condition: filterExpr }),
  ]),
) as z.ZodType<TraceFilterExpr>;

/** Depth of an expression, to refuse absurd nesting with a 4xx. */
export function filterDepth(expr: TraceFilterExpr): number {
  if ('conditions' in expr) return 1 + Math.max(...expr.conditions.map(filterDepth));
  if ('condition' in expr) return 1 + filterDepth(expr.condition);
  return 1;
}

export { MAX_DEPTH as MAX_FILTER_DEPTH };

const isoDate = z.iso.datetime({ offset: true }).or(z.iso.date());

/** Query of `GET /traces`. */
export const tracesQuery = z.object({
  run_id: idSchema.optional(),
  session_id: idSchema.optional(),
  user_id: z.string().min(1).max(256).optional(),
  agent_id: idSchema.optional(),
  team_id: idSchema.optional(),
  workflow_id: idSchema.optional(),
  status: z.enum(['OK', 'ERROR', 'UNSET']).optional(),
  start_time: isoDate.optional().describe('Traces starting at or after this time (ISO 8601)'),
  end_time: isoDate.optional().describe('Traces starting before or at this time (ISO 8601)'),
  ...pageQuery.shape,
});

/** Query of `GET /trace_session_stats`. */
export const sessionStatsQuery = tracesQuery.omit({ run_id: true, session_id: true, status: true });

export const traceParams = z.object({ trace_id: z.string().regex(/^[0-9a-f]{32}$/, 'a 32-digit hex trace id') });
export const traceDetailQuery = z.object({
  span_id: z
    .string()
    .regex(/^[0-9a-f]{16}$/, 'a 16-digit hex span id')
    .optional(),
  run_id: idSchema.optional(),
});

/** Body of `POST /traces/search`. */
export const traceSearchBody = z.strictObject({
  filter: filterExpr.optional(),
  group_by: z.enum(['run', 'session']).default('run'),
  page: z.number().int().min(1).default(1),
  limit: z.number().int().min(1).max(100).default(20),
});

const status = z.enum(['OK', 'ERROR', 'UNSET']);

export const traceSummary = z.object({
  trace_id: z.string(),
  name: z.string(),
  status,
  duration: z.string().describe('e.g. `123ms`'),
  duration_ms: z.number(),
  start_time: z.string(),
  end_time: z.string(),
  total_spans: z.number().int(),
  error_count: z.number().int(),
  input: z.string().nullable(),
  run_id: z.string().nullable(),
  session_id: z.string().nullable(),
  user_id: z.string().nullable(),
  agent_id: z.string().nullable(),
  team_id: z.string().nullable(),
  workflow_id: z.string().nullable(),
  created_at: z.string(),
});

/** A node of the trace tree; `spans` holds its children. */
export interface TraceNodeView {
  id: string;
  name: string;
  type: 'AGENT' | 'TEAM' | 'WORKFLOW' | 'LLM' | 'TOOL' | 'EMBEDDING' | 'RETRIEVAL' | 'SPAN';
  duration: string;
  duration_ms: number;
  start_time: string;
  end_time: string;
  status: 'OK' | 'ERROR' | 'UNSET';
  input: string | null;
  output: string | null;
  error: string | null;
  parent_id: string | null;
  spans: TraceNodeView[];
  step_type: string | null;
  metadata: Record<string, unknown>;
  extra_data: Record<string, unknown>;
}

export const traceNode: z.ZodType<TraceNodeView> = z.lazy(() =>
  z.object({
    id: z.string(),
    name: z.string(),
    type: z.enum(['AGENT', 'TEAM', 'WORKFLOW', 'LLM', 'TOOL', 'EMBEDDING', 'RETRIEVAL', 'SPAN']),
    duration: z.string(),
    duration_ms: z.number(),
    start_time: z.string(),
    end_time: z.string(),
    status,
    input: z.string().nullable(),
    output: z.string().nullable(),
    error: z.string().nullable(),
    parent_id: z.string().nullable(),
    spans: z.array(traceNode),
    step_type: z.string().nullable(),
    metadata: z.record(z.string(), z.unknown()).describe('The span attributes (GenAI semantic conventions)'),
    extra_data: z.record(z.string(), z.unknown()),
  }),
) as z.ZodType<TraceNodeView>;

export const traceDetail = traceSummary.extend({
  output: z.string().nullable(),
  error: z.string().nullable(),
  tree: z.array(traceNode),
});

export const sessionStatsView = z.object({
  session_id: z.string(),
  user_id: z.string().nullable(),
  agent_id: z.string().nullable(),
  team_id: z.string().nullable(),
  workflow_id: z.string().nullable(),
  total_traces: z.number().int(),
  first_trace_at: z.string(),
  last_trace_at: z.string(),
});

export const tracesPage = z.object({ traces: z.array(traceSummary), meta: pageMeta });
export const sessionStatsPage = z.object({ sessions: z.array(sessionStatsView), meta: pageMeta });
/** `POST /traces/search`: trace summaries (`group_by: run`) or session stats (`group_by: session`). */
export const searchPage = z.object({ results: z.array(z.union([traceSummary, sessionStatsView])), meta: pageMeta });

export const filterSchemaView = z.object({
  fields: z.array(
    z.object({
      key: z.string(),
      label: z.string(),
      type: z.string(),
      operators: z.array(z.string()),
      values: z.array(z.string()).optional(),
    }),
  ),
  logical_operators: z.array(z.string()),
  group_by: z.array(z.string()),
});
