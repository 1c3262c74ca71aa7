/**
 * The Kysely implementation of {@link UsageStore}, dialect-neutral (SQLite and Postgres). Sums come
 * back as text or bigint strings on Postgres, hence `Number()` on every read.
 * @module
 */
import { type ExpressionBuilder, type Kysely, type Selectable, sql } from 'kysely';
import type { UsageFilter, UsageIncrement, UsageRecord, UsageStore, UsageTotals } from '../usage-types.js';
import { MAX_LIMIT } from './paging.js';
import { queryShapes, slotRow } from './query-shapes.js';

/** Row type of migration 014. */
export interface UsageTables {
  usage_daily: {
    day: string;
    workspace_id: string;
    principal: string;
    agent_id: string;
    model_id: string;
    input_tokens: number;
    output_tokens: number;
    runs: number;
    cost_usd: number;
    updated_at: number;
  };
}

type UsageRow = Selectable<UsageTables['usage_daily']>;

function toRecord(row: UsageRow): UsageRecord {
  const inputTokens = Number(row.input_tokens);
  const outputTokens = Number(row.output_tokens);
  return {
    day: row.day,
    workspaceId: row.workspace_id,
    principal: row.principal,
    agentId: row.agent_id,
    modelId: row.model_id,
    inputTokens,
    outputTokens,
    totalTokens: inputTokens + outputTokens,
    costUsd: Number(row.cost_usd),
    runs: Number(row.runs),
    updatedAt: Number(row.updated_at),
  };
}

function whereFilter(filter: UsageFilter) {
  return (builder: ExpressionBuilder<UsageTables, 'usage_daily'>) => {
    const conditions = [];
    if (filter.workspaceId !== undefined) conditions.push(builder('workspace_id', '=', filter.workspaceId));
    if (filter.principal !== undefined) conditions.push(builder('principal', '=', filter.principal));
    if (filter.agentId !== undefined) conditions.push(builder('agent_id', '=', filter.agentId));
    if (filter.modelId !== undefined) conditions.push(builder('model_id', '=', filter.modelId));
    if (filter.fromDay !== undefined) conditions.push(builder('day', '>=', filter.fromDay));
    if (filter.toDay !== undefined) conditions.push(builder('day', '<=', filter.toDay));
    return builder.and(conditions);
  };
}

/**
 * Adds to a day's usage row on `db`, which may be a transaction: the run store adds a run's usage in the
 * transaction that records its end (one commit per run end instead of two).
 */
export async function addUsage(db: Kysely<UsageTables>, increment: UsageIncrement, at: number): Promise<void> {
  const inputTokens = Math.max(0, Math.trunc(increment.inputTokens));
  const outputTokens = Math.max(0, Math.trunc(increment.outputTokens));
  const runs = Math.max(0, Math.trunc(increment.runs ?? 1));
  const costUsd = Math.max(0, increment.costUsd);
  const values = {
    day: increment.day,
    workspace_id: increment.workspaceId,
    principal: increment.principal,
    agent_id: increment.agentId,
    model_id: increment.modelId,
    input_tokens: inputTokens,
    output_tokens: outputTokens,
    runs,
    cost_usd: costUsd,
    updated_at: at,
  };
  // One statement: the row lock of the upsert serialises concurrent writers on every dialect. Every run
  // ends with it, so its compiled shape is kept (query-shapes.ts).
  await queryShapes.execute(
    db as Kysely<never>,
    'upsert usage_daily',
    (slot) =>
      db
        .insertInto('usage_daily')
        .values(slotRow(values, slot))
        .onConflict((conflict) =>
          conflict.columns(['day', 'workspace_id', 'principal', 'agent_id', 'model_id']).doUpdateSet({
            input_tokens: sql<number>`${sql.ref('usage_daily.input_tokens')} + ${slot('input_tokens')}`,
            output_tokens: sql<number>`${sql.ref('usage_daily.output_tokens')} + ${slot('output_tokens')}`,
            runs: sql<number>`${sql.ref('usage_daily.runs')} + ${slot('runs')}`,
            cost_usd: sql<number>`${sql.ref('usage_daily.cost_usd')} + ${slot('cost_usd')}`,
            updated_at: slot('updated_at'),
          }),
        ),
    values,
  );
}

/** Daily usage sums over Kysely. */
export class KyselyUsageStore implements UsageStore {
  private readonly db: Kysely<UsageTables>;

  constructor(
    db: Kysely<unknown>,
    private readonly now: () => number = Date.now,
  ) {
    this.db = db as Kysely<UsageTables>;
  }

  async add(increment: UsageIncrement): Promise<void> {
    await addUsage(this.db, increment, this.now());
  }

  async totals(filter: UsageFilter): Promise<UsageTotals> {
    const row = await this.db
      .selectFrom('usage_daily')
      .where(whereFilter(filter))
      .select((builder) => [
        builder.fn.coalesce(builder.fn.sum<number>('input_tokens'), sql<number>`0`).as('input_tokens'),
        builder.fn.coalesce(builder.fn.sum<number>('output_tokens'), sql<number>`0`).as('output_tokens'),
        builder.fn.coalesce(builder.fn.sum<number>('cost_usd'), sql<number>`0`).as('cost_usd'),
        builder.fn.coalesce(builder.fn.sum<number>('runs'), sql<number>`0`).as('runs'),
      ])
      .executeTakeFirst();
    const inputTokens = Number(row?.input_tokens ?? 0);
    const outputTokens = Number(row?.output_tokens ?? 0);
    return {
      inputTokens,
      outputTokens,
      totalTokens: inputTokens + outputTokens,
      costUsd: Number(row?.cost_usd ?? 0),
      runs: Number(row?.runs ?? 0),
    };
  }

  async list(filter: UsageFilter & { limit?: number }): Promise<UsageRecord[]> {
    const limit = Math.min(Math.max(Math.trunc(filter.limit ?? MAX_LIMIT), 1), MAX_LIMIT);
    const rows = await this.db
      .selectFrom('usage_daily')
      .selectAll()
      .where(whereFilter(filter))
      .orderBy('day')
      .orderBy('agent_id')
      .orderBy('model_id')
      .orderBy('principal')
      .limit(limit)
      .execute();
    return rows.map(toRecord);
  }

  async dangerouslyClearAll(): Promise<void> {
    await this.db.deleteFrom('usage_daily').execute();
  }
}
