/**
 * Kysely implementation of {@link ObservabilityStore}, shared by SQLite and Postgres: plain
 * selects and upserts only; the FilterExpr DSL compiles to parameterised expressions over an
 * allow-list of columns, so no key or operator from a request reaches the SQL text.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { type Expression, type ExpressionBuilder, type Kysely, type Selectable, type SqlBool, sql } from 'kysely';
import type {
  DailyMetricsRecord,
  EvalRunCreate,
  EvalRunFilter,
  EvalRunRecord,
  EvalType,
  ObservabilityStore,
  RunUsageRow,
  SpanRecord,
  SpanType,
  TraceField,
  TraceFilterExpr,
  TraceQuery,
  TraceRecord,
  TraceSessionStats,
  TraceStatus,
} from '../observability-types.js';
import type { Page } from '../types.js';
import { decodeJson, encodeJson } from './json-codec.js';
import { pageBounds } from './paging.js';
import type { Database } from './tables.js';

export interface TraceSpansTable {
  span_id: string;
  trace_id: string;
  parent_span_id: string | null;
  workspace_id: string;
  name: string;
  span_type: string;
  status: string;
  status_message: string | null;
  start_time: number;
  end_time: number;
  duration_ms: number;
  attributes: unknown;
}

export interface TracesTable {
  trace_id: string;
  workspace_id: string;
  name: string;
  status: string;
  start_time: number;
  end_time: number;
  duration_ms: number;
  total_spans: number;
  error_count: number;
  input: string | null;
  output: string | null;
  error: string | null;
  run_id: string | null;
  session_id: string | null;
  user_id: string | null;
  agent_id: string | null;
  team_id: string | null;
  workflow_id: string | null;
  created_at: number;
}

interface MetricsDailyTable {
  id: string;
  workspace_id: string;
  date: string;
  data: unknown;
  created_at: number;
  updated_at: number;
}

interface EvalRunsTable {
  id: string;
  workspace_id: string;
  name: string | null;
  eval_type: string;
  agent_id: string | null;
  team_id: string | null;
  workflow_id: string | null;
  model_id: string | null;
  model_provider: string | null;
  evaluated_component_name: string | null;
  eval_input: unknown;
  eval_data: unknown;
  created_at: number;
  updated_at: number;
}

/** The shared tables plus this domain's (migration 009). */
export interface ObservabilityDatabase extends Database {
  trace_spans: TraceSpansTable;
  traces: TracesTable;
  metrics_daily: MetricsDailyTable;
  eval_runs: EvalRunsTable;
}

/** The attributes that carry a trace's identity, set on root spans by `observability/spans.ts`. */
const ATTR = {
  runId: 'agentos.run_id',
  sessionId: 'gen_ai.conversation.id',
  userId: 'user.id',
  agentId: 'gen_ai.agent.id',
  teamId: 'agentos.team_id',
  workflowId: 'agentos.workflow_id',
  input: 'agentos.input',
  output: 'agentos.output',
} as const;

function stringAttr(attributes: Record<string, unknown>, key: string): string | null {
  const value = attributes[key];
  return typeof value === 'string' ? value : null;
}

/** A span as its stored row (times in whole ms, widened outwards; attributes as JSON). */
export function spanRow(span: SpanRecord): TraceSpansTable {
  return {
    span_id: span.spanId,
    trace_id: span.traceId,
    parent_span_id: span.parentSpanId,
    workspace_id: span.workspaceId,
    name: span.name,
    span_type: span.spanType,
    status: span.status,
    status_message: span.statusMessage,
    start_time: Math.floor(span.startTime),
    end_time: Math.ceil(span.endTime),
    duration_ms: span.durationMs,
    attributes: encodeJson(span.attributes),
  };
}

export function toSpan(row: Selectable<TraceSpansTable>): SpanRecord {
  return { ...spanFieldsOf(row), attributes: decodeJson(row.attributes, {}) };
}

/** A stored span's fields but its attributes (the trace worker keeps those as the JSON it stored). */
export function spanFieldsOf(row: Selectable<TraceSpansTable>): Omit<SpanRecord, 'attributes'> {
  return {
    spanId: row.span_id,
    traceId: row.trace_id,
    parentSpanId: row.parent_span_id,
    workspaceId: row.workspace_id,
    name: row.name,
    spanType: row.span_type as SpanType,
    status: row.status as TraceStatus,
    statusMessage: row.status_message,
    startTime: Number(row.start_time),
    endTime: Number(row.end_time),
    durationMs: Number(row.duration_ms),
  };
}

const attributesOfRecord = (span: SpanRecord) => span.attributes;

function toTrace(row: Selectable<TracesTable>): TraceRecord {
  return {
    traceId: row.trace_id,
    workspaceId: row.workspace_id,
    name: row.name,
    status: row.status as TraceStatus,
    startTime: Number(row.start_time),
    endTime: Number(row.end_time),
    durationMs: Number(row.duration_ms),
    totalSpans: Number(row.total_spans),
    errorCount: Number(row.error_count),
    input: row.input,
    output: row.output,
    error: row.error,
    runId: row.run_id,
    sessionId: row.session_id,
    userId: row.user_id,
    agentId: row.agent_id,
    teamId: row.team_id,
    workflowId: row.workflow_id,
    createdAt: Number(row.created_at),
  };
}

function toEval(row: Selectable<EvalRunsTable>): EvalRunRecord {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    name: row.name,
    evalType: row.eval_type as EvalType,
    agentId: row.agent_id,
    teamId: row.team_id,
    workflowId: row.workflow_id,
    modelId: row.model_id,
    modelProvider: row.model_provider,
    evaluatedComponentName: row.evaluated_component_name,
    evalInput: decodeJson(row.eval_input, {}),
    evalData: decodeJson(row.eval_data, {}),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

function toDaily(row: Selectable<MetricsDailyTable>): DailyMetricsRecord {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    date: row.date,
    data: decodeJson(row.data, {}),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

/** Which columns hold numbers (compared as numbers, never with LIKE). */
const NUMERIC_FIELDS = new Set<TraceField>(['duration_ms', 'start_time', 'end_time', 'total_spans', 'error_count']);

/** `%`, `_` and the escape character itself match literally inside a LIKE pattern. */
function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (character) => `\\${character}`);
}

type TraceExpressionBuilder = ExpressionBuilder<ObservabilityDatabase, 'traces'>;

/** Compiles a FilterExpr; the schema in the HTTP room restricts keys to {@link TraceField}. */
export function compileTraceFilter(eb: TraceExpressionBuilder, expr: TraceFilterExpr): Expression<SqlBool> {
  switch (expr.op) {
    case 'AND':
      return eb.and(expr.conditions.map((condition) => compileTraceFilter(eb, condition)));
    case 'OR':
      return eb.or(expr.conditions.map((condition) => compileTraceFilter(eb, condition)));
    case 'NOT':
      return eb.not(compileTraceFilter(eb, expr.condition));
    case 'IN': {
      if (expr.value.length === 0) return sql<SqlBool>`1 = 0`;
      const values = expr.value.map((value) => (NUMERIC_FIELDS.has(expr.key) ? Number(value) : String(value)));
      return eb(eb.ref(`traces.${expr.key}`), 'in', values as never);
    }
    case 'CONTAINS':
    case 'STARTSWITH': {
      const text = escapeLike(String(expr.value));
      const pattern = expr.op === 'CONTAINS' ? `%${text}%` : `${text}%`;
      return sql<SqlBool>`${eb.ref(`traces.${expr.key}`)} like ${pattern} escape '\\'`;
    }
    default: {
      const operator = { EQ: '=', NEQ: '<>', GT: '>', GTE: '>=', LT: '<', LTE: '<=' }[expr.op];
      const value = NUMERIC_FIELDS.has(expr.key) ? Number(expr.value) : String(expr.value);
      return eb(eb.ref(`traces.${expr.key}`), operator as '=', value as never);
    }
  }
}

/**
 * Splits a batch into chunks of 64, 32, …, 1 items, so batches of any size compile to at most seven
 * distinct SQL texts per statement: the SQLite store keeps prepared statements by SQL text, and a new
 * text per batch size would be prepared anew each time and push the run path's statements out.
 */
function powerOfTwoChunks<T>(items: readonly T[], largest = 64): T[][] {
  const chunks: T[][] = [];
  let size = largest;
  for (let index = 0; index < items.length; index += size) {
    while (size > items.length - index) size >>= 1;
    chunks.push(items.slice(index, index + size));
  }
  return chunks;
}

/** Observability rows over Kysely; construct with the shared db handle and clock. */
export class KyselyObservabilityStore implements ObservabilityStore {
  private readonly db: Kysely<ObservabilityDatabase>;

  constructor(
    db: Kysely<Database>,
    private readonly now: () => number,
  ) {
    this.db = db as unknown as Kysely<ObservabilityDatabase>;
  }

  async saveSpans(spans: SpanRecord[]): Promise<void> {
    if (spans.length === 0) return;
    await this.db.transaction().execute(async (trx) => {
      for (const chunk of powerOfTwoChunks(spans)) {
        await trx
          .insertInto('trace_spans')
          .values(chunk.map(spanRow))
          .onConflict((conflict) => conflict.columns(['trace_id', 'span_id']).doNothing())
          .execute();
      }
      // A trace is summarised from all its spans. Usually they all arrive in one batch (a run ends within
      // the batch delay); only traces summarised before (a `traces` row exists) are read back.
      const byTrace = new Map<string, SpanRecord[]>();
      for (const span of spans) byTrace.set(span.traceId, [...(byTrace.get(span.traceId) ?? []), span]);
      const traceIds = [...byTrace.keys()];
      const earlier: string[] = [];
      for (const chunk of powerOfTwoChunks(traceIds)) {
        const rows = await trx.selectFrom('traces').select('trace_id').where('trace_id', 'in', chunk).execute();
        for (const row of rows) earlier.push(row.trace_id);
      }
      for (const traceId of earlier) byTrace.set(traceId, []);
      for (const chunk of powerOfTwoChunks(earlier)) {
        const stored = await trx.selectFrom('trace_spans').selectAll().where('trace_id', 'in', chunk).execute();
        for (const row of stored) byTrace.get(row.trace_id)?.push(toSpan(row));
      }
      const now = this.now();
      const summaries = traceIds
        .map((traceId) => summarise(byTrace.get(traceId) ?? [], now, attributesOfRecord))
        .filter((summary): summary is TracesTable => summary !== undefined);
      for (const chunk of powerOfTwoChunks(summaries)) {
        await trx
          .insertInto('traces')
          .values(chunk)
          .onConflict((conflict) =>
            conflict.column('trace_id').doUpdateSet((eb) => ({
              workspace_id: eb.ref('excluded.workspace_id'),
              name: eb.ref('excluded.name'),
              status: eb.ref('excluded.status'),
              start_time: eb.ref('excluded.start_time'),
              end_time: eb.ref('excluded.end_time'),
              duration_ms: eb.ref('excluded.duration_ms'),
              total_spans: eb.ref('excluded.total_spans'),
              error_count: eb.ref('excluded.error_count'),
              input: eb.ref('excluded.input'),
              output: eb.ref('excluded.output'),
              error: eb.ref('excluded.error'),
              run_id: eb.ref('excluded.run_id'),
              session_id: eb.ref('excluded.session_id'),
              user_id: eb.ref('excluded.user_id'),
              agent_id: eb.ref('excluded.agent_id'),
              team_id: eb.ref('excluded.team_id'),
              workflow_id: eb.ref('excluded.workflow_id'),
            })),
          )
          .execute();
      }
    });
  }

  async listTraces(query: TraceQuery): Promise<Page<TraceRecord>> {
    const { limit, offset } = pageBounds(query);
    const base = this.db
      .selectFrom('traces')
      .where('workspace_id', '=', query.workspaceId)
      .$if(query.filter !== undefined, (qb) =>
        qb.where((eb) => compileTraceFilter(eb, query.filter as TraceFilterExpr)),
      );
    const [rows, count] = await Promise.all([
      base.selectAll().orderBy('start_time', 'desc').orderBy('trace_id').limit(limit).offset(offset).execute(),
      base.select((eb) => eb.fn.countAll().as('n')).executeTakeFirst(),
    ]);
    return { items: rows.map(toTrace), total: Number(count?.n ?? 0) };
  }

  async getTrace(workspaceId: string, traceId: string): Promise<TraceRecord | null> {
    const row = await this.db
      .selectFrom('traces')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('trace_id', '=', traceId)
      .executeTakeFirst();
    return row ? toTrace(row) : null;
  }

  async listSpans(workspaceId: string, traceId: string): Promise<SpanRecord[]> {
    const rows = await this.db
      .selectFrom('trace_spans')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('trace_id', '=', traceId)
      // Start times are stored in whole milliseconds: of two spans started in the same one, the one that
      // ended first (a quick tool call before the next model call) comes first.
      .orderBy('start_time')
      .orderBy('end_time')
      .orderBy('span_id')
      .execute();
    return rows.map(toSpan);
  }

  async traceSessionStats(query: TraceQuery): Promise<Page<TraceSessionStats>> {
    const { limit, offset } = pageBounds(query);
    const base = this.db
      .selectFrom('traces')
      .where('workspace_id', '=', query.workspaceId)
      .where('session_id', 'is not', null)
      .$if(query.filter !== undefined, (qb) =>
        qb.where((eb) => compileTraceFilter(eb, query.filter as TraceFilterExpr)),
      );
    const [rows, count] = await Promise.all([
      base
        .select((eb) => [
          'session_id',
          eb.fn.max('user_id').as('user_id'),
          eb.fn.max('agent_id').as('agent_id'),
          eb.fn.max('team_id').as('team_id'),
          eb.fn.max('workflow_id').as('workflow_id'),
          eb.fn.countAll().as('total'),
          eb.fn.min('start_time').as('first_at'),
          eb.fn.max('start_time').as('last_at'),
        ])
        .groupBy('session_id')
        .orderBy('last_at', 'desc')
        .orderBy('session_id')
        .limit(limit)
        .offset(offset)
        .execute(),
      base.select((eb) => eb.fn.count('session_id').distinct().as('n')).executeTakeFirst(),
    ]);
    return {
      items: rows.map((row) => ({
        sessionId: row.session_id as string,
        userId: row.user_id ?? null,
        agentId: row.agent_id ?? null,
        teamId: row.team_id ?? null,
        workflowId: row.workflow_id ?? null,
        totalTraces: Number(row.total),
        firstTraceAt: Number(row.first_at),
        lastTraceAt: Number(row.last_at),
      })),
      total: Number(count?.n ?? 0),
    };
  }

  async runUsage(workspaceId: string | null, from: number, to: number): Promise<RunUsageRow[]> {
    const rows = await this.db
      .selectFrom('runs')
      .select([
        'run_id',
        'session_id',
        'component_type',
        'component_id',
        'user_id',
        'status',
        'metrics',
        'output',
        'created_at',
      ])
      .$if(workspaceId !== null, (qb) => qb.where('workspace_id', '=', workspaceId as string))
      .where('created_at', '>=', from)
      .where('created_at', '<', to)
      .orderBy('created_at')
      .execute();
    return rows.map((row) => ({
      runId: row.run_id,
      sessionId: row.session_id,
      componentType: row.component_type,
      componentId: row.component_id,
      userId: row.user_id,
      status: row.status,
      metrics: decodeJson(row.metrics, {}),
      output: decodeJson(row.output, {}),
      createdAt: Number(row.created_at),
    }));
  }

  async upsertDailyMetrics(
    workspaceId: string,
    date: string,
    data: Record<string, unknown>,
  ): Promise<DailyMetricsRecord> {
    const now = this.now();
    await this.db
      .insertInto('metrics_daily')
      .values({
        id: randomUUID(),
        workspace_id: workspaceId,
        date,
        data: encodeJson(data),
        created_at: now,
        updated_at: now,
      })
      .onConflict((conflict) =>
        conflict.columns(['workspace_id', 'date']).doUpdateSet({ data: encodeJson(data), updated_at: now }),
      )
      .execute();
    const row = await this.db
      .selectFrom('metrics_daily')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('date', '=', date)
      .executeTakeFirstOrThrow();
    return toDaily(row);
  }

  async listDailyMetrics(workspaceId: string, fromDate?: string, toDate?: string): Promise<DailyMetricsRecord[]> {
    const rows = await this.db
      .selectFrom('metrics_daily')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .$if(fromDate !== undefined, (qb) => qb.where('date', '>=', fromDate as string))
      .$if(toDate !== undefined, (qb) => qb.where('date', '<=', toDate as string))
      .orderBy('date')
      .execute();
    return rows.map(toDaily);
  }

  async createEvalRun(input: EvalRunCreate): Promise<EvalRunRecord> {
    const now = this.now();
    const row = {
      id: input.id ?? randomUUID(),
      workspace_id: input.workspaceId,
      name: input.name,
      eval_type: input.evalType,
      agent_id: input.agentId,
      team_id: input.teamId,
      workflow_id: input.workflowId,
      model_id: input.modelId,
      model_provider: input.modelProvider,
      evaluated_component_name: input.evaluatedComponentName,
      eval_input: encodeJson(input.evalInput),
      eval_data: encodeJson(input.evalData),
      created_at: now,
      updated_at: now,
    };
    await this.db.insertInto('eval_runs').values(row).execute();
    return toEval(row);
  }

  async getEvalRun(workspaceId: string, id: string): Promise<EvalRunRecord | null> {
    const row = await this.db
      .selectFrom('eval_runs')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? toEval(row) : null;
  }

  async listEvalRuns(filter: EvalRunFilter): Promise<Page<EvalRunRecord>> {
    const { limit, offset } = pageBounds(filter);
    const kind = filter.componentType;
    const base = this.db
      .selectFrom('eval_runs')
      .where('workspace_id', '=', filter.workspaceId)
      .$if(filter.agentId !== undefined, (qb) => qb.where('agent_id', '=', filter.agentId as string))
      .$if(filter.teamId !== undefined, (qb) => qb.where('team_id', '=', filter.teamId as string))
      .$if(filter.workflowId !== undefined, (qb) => qb.where('workflow_id', '=', filter.workflowId as string))
      .$if(filter.modelId !== undefined, (qb) => qb.where('model_id', '=', filter.modelId as string))
      .$if(filter.evalTypes !== undefined && filter.evalTypes.length > 0, (qb) =>
        qb.where('eval_type', 'in', filter.evalTypes as EvalType[]),
      )
      .$if(kind !== undefined, (qb) => qb.where(`${kind as 'agent'}_id`, 'is not', null));
    const [rows, count] = await Promise.all([
      base
        .selectAll()
        .orderBy('created_at', filter.order ?? 'desc')
        .orderBy('id')
        .limit(limit)
        .offset(offset)
        .execute(),
      base.select((eb) => eb.fn.countAll().as('n')).executeTakeFirst(),
    ]);
    return { items: rows.map(toEval), total: Number(count?.n ?? 0) };
  }

  async renameEvalRun(workspaceId: string, id: string, name: string): Promise<EvalRunRecord | null> {
    await this.db
      .updateTable('eval_runs')
      .set({ name, updated_at: this.now() })
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', id)
      .execute();
    return this.getEvalRun(workspaceId, id);
  }

  async deleteEvalRuns(workspaceId: string, ids: string[]): Promise<number> {
    if (ids.length === 0) return 0;
    const result = await this.db
      .deleteFrom('eval_runs')
      .where('workspace_id', '=', workspaceId)
      .where('id', 'in', ids)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async dangerouslyClearAll(): Promise<void> {
    for (const table of ['trace_spans', 'traces', 'metrics_daily', 'eval_runs'] as const) {
      await this.db.deleteFrom(table).execute();
    }
  }
}

/** What {@link summarise} reads of every span; the attributes it reads of one only. */
export type SummarySpan = Omit<SpanRecord, 'attributes' | 'spanType'>;

/**
 * A trace's summary row from all its stored spans: the root (no parent, else the earliest) names it
 * and carries the run's ids; times span every span; errors are counted over all of them. Attributes are
 * read through `attributesOf`, and only the root's: the trace worker keeps them as JSON text and parses
 * one span per trace.
 */
export function summarise<S extends SummarySpan>(
  spans: S[],
  now: number,
  attributesOf: (span: S) => Record<string, unknown>,
): TracesTable | undefined {
  if (spans.length === 0) return undefined;
  const ids = new Set(spans.map((span) => span.spanId));
  const roots = spans.filter((span) => span.parentSpanId === null || !ids.has(span.parentSpanId));
  const root = roots.find((span) => span.parentSpanId === null) ?? roots[0] ?? (spans[0] as S);
  const start = Math.min(...spans.map((span) => span.startTime));
  const end = Math.max(...spans.map((span) => span.endTime));
  const errors = spans.filter((span) => span.status === 'ERROR');
  const attributes = attributesOf(root);
  return {
    trace_id: root.traceId,
    workspace_id: root.workspaceId,
    name: root.name,
    status: root.status === 'ERROR' || errors.length > 0 ? 'ERROR' : root.status,
    start_time: start,
    end_time: end,
    // The root's own duration when it is the real root; a trace still missing its root spans its children.
    duration_ms: root.parentSpanId === null ? root.durationMs : end - start,
    total_spans: spans.length,
    error_count: errors.length,
    input: stringAttr(attributes, ATTR.input),
    output: stringAttr(attributes, ATTR.output),
    error: root.statusMessage ?? errors[0]?.statusMessage ?? null,
    run_id: stringAttr(attributes, ATTR.runId),
    session_id: stringAttr(attributes, ATTR.sessionId),
    user_id: stringAttr(attributes, ATTR.userId),
    agent_id: stringAttr(attributes, ATTR.agentId),
    team_id: stringAttr(attributes, ATTR.teamId),
    workflow_id: stringAttr(attributes, ATTR.workflowId),
    created_at: now,
  };
}
