/**
 * Token and cost usage (issue 5, quotas): one row per UTC day, workspace, principal, agent and model,
 * added to after every run. Budgets (`src/quotas`) and `GET /api/costs` read these sums.
 * @module
 */

/** What one finished run adds to its day's row. */
export interface UsageIncrement {
  /** UTC day, `YYYY-MM-DD`. */
  day: string;
  workspaceId: string;
  /** Who started the run (API key id, config key name, JWT `sub`); `''` when unknown (schedules, the bus). */
  principal: string;
  agentId: string;
  modelId: string;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  /** Runs this increment counts (usually 1). */
  runs?: number;
}

/** One stored row: the sums of a day, workspace, principal, agent and model. */
export interface UsageRecord {
  day: string;
  workspaceId: string;
  principal: string;
  agentId: string;
  modelId: string;
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  costUsd: number;
  runs: number;
  updatedAt: number;
}

/** Sums over the rows a {@link UsageFilter} selects. */
export interface UsageTotals {
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  costUsd: number;
  runs: number;
}

/** Which rows to read; every field narrows. Days are inclusive `YYYY-MM-DD` bounds. */
export interface UsageFilter {
  workspaceId?: string;
  principal?: string;
  agentId?: string;
  modelId?: string;
  fromDay?: string;
  toDay?: string;
}

/** Daily usage sums. */
export interface UsageStore {
  /**
   * Adds an increment to its row, creating the row when absent. One statement
   * (`insert … on conflict do update set x = x + excluded.x`), so concurrent runs on any number of
   * replicas never lose an update.
   */
  add(increment: UsageIncrement): Promise<void>;
  /** The sums over every row the filter selects (zeros when none). */
  totals(filter: UsageFilter): Promise<UsageTotals>;
  /** The rows the filter selects, by day, agent, model and principal (at most `limit`, default 1000). */
  list(filter: UsageFilter & { limit?: number }): Promise<UsageRecord[]>;
  /** Tests only. */
  dangerouslyClearAll(): Promise<void>;
}
