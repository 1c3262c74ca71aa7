/**
 * The observability domain of the store (issue 10): stored spans and trace summaries, daily metric
 * aggregates and eval runs. Every read names a workspace; another tenant's rows are not found.
 * @module
 */
import type { Page, PageRequest } from './types.js';

/** What a span stands for in the trace tree (Agno's node types, plus the GenAI retrieval kinds). */
export type SpanType = 'AGENT' | 'TEAM' | 'WORKFLOW' | 'LLM' | 'TOOL' | 'EMBEDDING' | 'RETRIEVAL' | 'SPAN';

/** OpenTelemetry span status, as Agno names it. */
export type TraceStatus = 'OK' | 'ERROR' | 'UNSET';

/** One finished span. */
export interface SpanRecord {
  spanId: string;
  traceId: string;
  parentSpanId: string | null;
  workspaceId: string;
  name: string;
  spanType: SpanType;
  status: TraceStatus;
  statusMessage: string | null;
  /** Epoch ms. */
  startTime: number;
  endTime: number;
  /** Sub-millisecond precision. */
  durationMs: number;
  attributes: Record<string, unknown>;
}

/** One trace, summarised from its spans (the root span names it and carries the run's ids). */
export interface TraceRecord {
  traceId: string;
  workspaceId: string;
  name: string;
  status: TraceStatus;
  startTime: number;
  endTime: number;
  durationMs: number;
  totalSpans: number;
  errorCount: number;
  input: string | null;
  output: string | null;
  error: string | null;
  runId: string | null;
  sessionId: string | null;
  userId: string | null;
  agentId: string | null;
  teamId: string | null;
  workflowId: string | null;
  createdAt: number;
}

/** Columns of a trace that filters may name. */
export type TraceField =
  | 'trace_id'
  | 'name'
  | 'status'
  | 'duration_ms'
  | 'start_time'
  | 'end_time'
  | 'total_spans'
  | 'error_count'
  | 'run_id'
  | 'session_id'
  | 'user_id'
  | 'agent_id'
  | 'team_id'
  | 'workflow_id';

/** Agno's FilterExpr: a comparison on one field, or a combination of expressions. */
export type TraceFilterExpr =
  | {
      op: 'EQ' | 'NEQ' | 'GT' | 'GTE' | 'LT' | 'LTE' | 'CONTAINS' | 'STARTSWITH';
      key: TraceField;
      value: string | number;
    }
  | { op: 'IN'; key: TraceField; value: (string | number)[] }
  | { op: 'AND' | 'OR'; conditions: TraceFilterExpr[] }
  | { op: 'NOT'; condition: TraceFilterExpr };

/** Filters of a trace list; all optional, combined with AND. */
export interface TraceQuery extends PageRequest {
  workspaceId: string;
  filter?: TraceFilterExpr | undefined;
}

/** Traces counted per session. */
export interface TraceSessionStats {
  sessionId: string;
  userId: string | null;
  agentId: string | null;
  teamId: string | null;
  workflowId: string | null;
  totalTraces: number;
  firstTraceAt: number;
  lastTraceAt: number;
}

/** A day's aggregates, as computed by the metrics refresh (shape of Agno's DayAggregatedMetrics body). */
export interface DailyMetricsRecord {
  id: string;
  workspaceId: string;
  /** `YYYY-MM-DD`, UTC. */
  date: string;
  data: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
}

/** What a metrics refresh reads of a run. */
export interface RunUsageRow {
  runId: string;
  sessionId: string;
  componentType: string;
  componentId: string;
  userId: string | null;
  status: string;
  metrics: Record<string, unknown>;
  output: Record<string, unknown>;
  createdAt: number;
}

/** The eval kinds of `/eval-runs`. */
export type EvalType = 'accuracy' | 'agent_as_judge' | 'performance' | 'reliability';

/** One stored eval run. */
export interface EvalRunRecord {
  id: string;
  workspaceId: string;
  name: string | null;
  evalType: EvalType;
  agentId: string | null;
  teamId: string | null;
  workflowId: string | null;
  modelId: string | null;
  modelProvider: string | null;
  evaluatedComponentName: string | null;
  evalInput: Record<string, unknown>;
  evalData: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
}

/** A new eval run; ids and times are filled in. */
export type EvalRunCreate = Omit<EvalRunRecord, 'id' | 'createdAt' | 'updatedAt'> & { id?: string };

/** Filters of an eval list. */
export interface EvalRunFilter extends PageRequest {
  workspaceId: string;
  agentId?: string | undefined;
  teamId?: string | undefined;
  workflowId?: string | undefined;
  modelId?: string | undefined;
  evalTypes?: EvalType[] | undefined;
  /** Only evals of this component kind. */
  componentType?: 'agent' | 'team' | 'workflow' | undefined;
  order?: 'asc' | 'desc' | undefined;
}

/** Traces, metrics and evals. */
export interface ObservabilityStore {
  /**
   * Stores finished spans (a span id already stored is skipped, so a retried batch is harmless) and
   * recomputes the summary of every trace they belong to from all its stored spans, so spans of one
   * trace may arrive in any order and batches.
   */
  saveSpans(spans: SpanRecord[]): Promise<void>;
  /** Newest first. */
  listTraces(query: TraceQuery): Promise<Page<TraceRecord>>;
  getTrace(workspaceId: string, traceId: string): Promise<TraceRecord | null>;
  /** The trace's spans ordered by start time. */
  listSpans(workspaceId: string, traceId: string): Promise<SpanRecord[]>;
  /** Per-session counts of the traces that match, most recently traced session first. */
  traceSessionStats(query: TraceQuery): Promise<Page<TraceSessionStats>>;

  /** Runs created in `[from, to)` (epoch ms) of a workspace; `null` workspace reads every workspace. */
  runUsage(workspaceId: string | null, from: number, to: number): Promise<RunUsageRow[]>;
  /** Inserts or replaces the aggregates of one day. */
  upsertDailyMetrics(workspaceId: string, date: string, data: Record<string, unknown>): Promise<DailyMetricsRecord>;
  /** Days in `[fromDate, toDate]` (inclusive, `YYYY-MM-DD`), oldest first. */
  listDailyMetrics(workspaceId: string, fromDate?: string, toDate?: string): Promise<DailyMetricsRecord[]>;

  createEvalRun(input: EvalRunCreate): Promise<EvalRunRecord>;
  getEvalRun(workspaceId: string, id: string): Promise<EvalRunRecord | null>;
  listEvalRuns(filter: EvalRunFilter): Promise<Page<EvalRunRecord>>;
  /** `null` when there is no such eval in the workspace. */
  renameEvalRun(workspaceId: string, id: string, name: string): Promise<EvalRunRecord | null>;
  /** Deletes the given evals of the workspace; returns how many existed. */
  deleteEvalRuns(workspaceId: string, ids: string[]): Promise<number>;
  /** Tests only. */
  dangerouslyClearAll(): Promise<void>;
}
