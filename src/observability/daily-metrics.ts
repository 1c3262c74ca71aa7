/**
 * Daily aggregates (Agno's `/metrics`): runs, sessions and users per day and component type,
 * tokens and cost, per model, agent and user, computed from the runs table and stored per UTC day.
 * Cost is tokens × the price table (`pricing.ts`), per run, with the model the run used.
 * @module
 */
import type { DailyMetricsRecord, ObservabilityStore, RunUsageRow } from '../store/observability-types.js';
import type { PriceTable } from './pricing.js';

const DAY_MS = 86_400_000;

/** `YYYY-MM-DD` (UTC) of an epoch ms time. */
export function utcDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

interface Usage {
  runs: number;
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
  cost: number;
}

const emptyUsage = (): Usage => ({ runs: 0, input_tokens: 0, output_tokens: 0, total_tokens: 0, cost: 0 });

function add(target: Usage, input: number, output: number, cost: number): void {
  target.runs += 1;
  target.input_tokens += input;
  target.output_tokens += output;
  target.total_tokens += input + output;
  target.cost += cost;
}

/** Rounds a USD amount to 1e-9 so sums of float prices stay readable. */
const roundCost = (value: number) => Math.round(value * 1e9) / 1e9;

function finishUsage(usage: Usage): Usage {
  return { ...usage, cost: roundCost(usage.cost) };
}

/** The aggregate of one day's runs, in Agno's DayAggregatedMetrics shape plus agent and user breakdowns. */
export function aggregateDay(runs: readonly RunUsageRow[], prices: PriceTable): Record<string, unknown> {
  const sessions = { agent: new Set<string>(), team: new Set<string>(), workflow: new Set<string>() };
  const counts = { agent: 0, team: 0, workflow: 0 };
  const users = new Set<string>();
  const total = emptyUsage();
  const byModel = new Map<string, Usage>();
  const byAgent = new Map<string, Usage>();
  const byUser = new Map<string, Usage>();
  const statuses: Record<string, number> = {};
  for (const run of runs) {
    const type = run.componentType as keyof typeof counts;
    if (type in counts) {
      counts[type] += 1;
      sessions[type].add(run.sessionId);
    }
    if (run.userId) users.add(run.userId);
    statuses[run.status] = (statuses[run.status] ?? 0) + 1;
    const input = Number(run.metrics.input_tokens ?? 0) || 0;
    const output = Number(run.metrics.output_tokens ?? 0) || 0;
    const model = typeof run.output.model === 'string' ? run.output.model : 'unknown';
    const cost = prices.cost(model, input, output);
    add(total, input, output, cost);
    for (const [map, key] of [
      [byModel, model],
      [byAgent, `${run.componentType}:${run.componentId}`],
      [byUser, run.userId ?? ''],
    ] as const) {
      if (map === byUser && key === '') continue;
      const entry = map.get(key) ?? emptyUsage();
      add(entry, input, output, cost);
      map.set(key, entry);
    }
  }
  return {
    agent_runs_count: counts.agent,
    agent_sessions_count: sessions.agent.size,
    team_runs_count: counts.team,
    team_sessions_count: sessions.team.size,
    workflow_runs_count: counts.workflow,
    workflow_sessions_count: sessions.workflow.size,
    users_count: users.size,
    runs_by_status: statuses,
    token_metrics: finishUsage(total),
    model_metrics: [...byModel].map(([modelId, usage]) => {
      const [provider, ...rest] = modelId.split(':');
      return {
        model_id: rest.length > 0 ? rest.join(':') : modelId,
        model_provider: rest.length > 0 ? provider : null,
        count: usage.runs,
        priced: prices.price(modelId) !== undefined,
        ...finishUsage(usage),
      };
    }),
    agent_metrics: [...byAgent].map(([key, usage]) => {
      const [componentType, ...id] = key.split(':');
      return { component_type: componentType, component_id: id.join(':'), ...finishUsage(usage) };
    }),
    user_metrics: [...byUser].map(([userId, usage]) => ({ user_id: userId, ...finishUsage(usage) })),
  };
}

/**
 * Recomputes and stores the days of `[fromDate, toDate]` that have runs (default: the last 30 days
 * through today). Idempotent: a day is replaced, not added to.
 */
export async function refreshDailyMetrics(
  store: ObservabilityStore,
  prices: PriceTable,
  workspaceId: string,
  range: { fromDate?: string | undefined; toDate?: string | undefined; now?: number } = {},
): Promise<DailyMetricsRecord[]> {
  const now = range.now ?? Date.now();
  const to =
    (range.toDate ? Date.parse(`${range.toDate}T00:00:00Z`) : Date.parse(`${utcDate(now)}T00:00:00Z`)) + DAY_MS;
  const from = range.fromDate ? Date.parse(`${range.fromDate}T00:00:00Z`) : to - 30 * DAY_MS;
  const runs = await store.runUsage(workspaceId, from, to);
  const days = new Map<string, RunUsageRow[]>();
  for (const run of runs) {
    const day = utcDate(run.createdAt);
    const list = days.get(day) ?? [];
    list.push(run);
    days.set(day, list);
  }
  const records: DailyMetricsRecord[] = [];
  for (const [day, dayRuns] of [...days].sort(([a], [b]) => a.localeCompare(b))) {
    records.push(await store.upsertDailyMetrics(workspaceId, day, aggregateDay(dayRuns, prices)));
  }
  return records;
}
