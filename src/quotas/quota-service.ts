/**
 * Daily token and cost budgets (issue 5): per caller (`<kind>:<id>`: API key id, config key name, JWT `sub`) and per
 * agent of a workspace. Usage is added to the store after each run (`store.usage`, one SQL upsert, so
 * replicas share it); a run that would start while a budget is used up is refused with 429
 * `AOS_QUOTA_EXCEEDED` and `Retry-After` until the UTC day rolls over. Budgets are checked before a run,
 * not during it, so the run that crosses a budget finishes and the next one is refused.
 * @module
 */

import { configuredKeyOf } from '../auth/index.js';
import type { Budget, QuotasConfig } from '../config/quota-schema.js';
import { AgentOsError } from '../errors/index.js';
import type { PriceTable } from '../observability/pricing.js';
import type { Counter, Gauge, MetricsRegistry } from '../observability/prometheus.js';
import type { UsageFilter, UsageIncrement, UsageStore } from '../store/usage-types.js';
import { secondsUntilNextUtcDay, utcDay } from './utc-day.js';

/** Options of {@link QuotaService}. */
export interface QuotaServiceOptions {
  config: QuotasConfig;
  usage: UsageStore;
  /** The price table of observability: costs are computed once, the same way as for metrics. */
  prices: PriceTable;
  /** Where refusals are counted (`agentos_quota_exceeded_total`); optional for tools. */
  registry?: MetricsRegistry;
  now?: () => number;
}

/** What a finished run used. */
export interface RunUsage {
  workspaceId: string;
  /** Who started the run; `null` when unknown (schedules, the bus). */
  principal: string | null;
  agentId: string;
  modelId: string;
  inputTokens: number;
  outputTokens: number;
}

/** Which budget a refusal concerns. */
export type QuotaKind = 'key' | 'agent';

function resolveBudget(defaults: Budget | undefined, override: Budget | false | undefined): Budget | null {
  if (override === false) return null;
  const merged = { ...defaults, ...override };
  return merged.daily_tokens === undefined && merged.daily_cost_usd === undefined ? null : merged;
}

/** Checks budgets and records usage; one per process. */
export class QuotaService {
  private readonly config: QuotasConfig;
  private readonly usage: UsageStore;
  private readonly prices: PriceTable;
  private readonly now: () => number;
  private readonly refusals: Counter | undefined;
  private readonly usedRatio: Gauge | undefined;

  constructor(options: QuotaServiceOptions) {
    this.config = options.config;
    this.usage = options.usage;
    this.prices = options.prices;
    this.now = options.now ?? Date.now;
    this.refusals = options.registry?.counter(
      'agentos_quota_exceeded_total',
      'Runs refused because a daily budget was used up, by quota (key, agent) and budget (tokens, cost).',
      ['quota', 'budget'],
    );
    this.usedRatio = options.registry?.gauge(
      'agentos_quota_used_ratio',
      "Share of today's budget used (1 = used up), by quota, caller or agent, and budget; as of the last check here.",
      ['quota', 'subject', 'budget'],
    );
  }

  /**
   * The budget of one caller (its subject, `<kind>:<id>` from `callerSubjectOf`), or null when it has
   * none. `quotas.keys` overrides apply to keys only: a JWT whose `sub` equals a key's name gets `per_key`.
   */
  keyBudget(subject: string): Budget | null {
    const key = configuredKeyOf(subject);
    return resolveBudget(this.config.per_key, key === undefined ? undefined : this.config.keys[key]);
  }

  /** The budget of one agent (in each workspace), or null when it has none. */
  agentBudget(agentId: string): Budget | null {
    return resolveBudget(this.config.per_agent, this.config.agents[agentId]);
  }

  /** USD for the tokens of a model, from the shared price table (0 for unpriced models). */
  cost(modelId: string, inputTokens: number, outputTokens: number): number {
    return this.prices.cost(modelId, inputTokens, outputTokens);
  }

  /**
   * Throws `AOS_QUOTA_EXCEEDED` when the caller's budget for today is used up. A caller's usage counts
   * across workspaces: the budget belongs to the key, wherever it acts.
   */
  async checkKey(principal: string): Promise<void> {
    const budget = this.keyBudget(principal);
    if (budget) await this.check('key', principal, budget, { principal });
  }

  /** Throws `AOS_QUOTA_EXCEEDED` when the agent's budget for today in this workspace is used up. */
  async checkAgent(workspaceId: string, agentId: string): Promise<void> {
    const budget = this.agentBudget(agentId);
    if (budget) await this.check('agent', agentId, budget, { workspaceId, agentId });
  }

  /** What a finished run adds to today's usage (its tokens and their cost), without writing it. */
  increment(run: RunUsage): UsageIncrement {
    return {
      day: utcDay(this.now()),
      workspaceId: run.workspaceId,
      principal: run.principal ?? '',
      agentId: run.agentId,
      modelId: run.modelId,
      inputTokens: run.inputTokens,
      outputTokens: run.outputTokens,
      costUsd: this.cost(run.modelId, run.inputTokens, run.outputTokens),
    };
  }

  /** Adds an increment (from {@link increment}) to today's usage. */
  async add(increment: UsageIncrement): Promise<void> {
    await this.usage.add(increment);
  }

  /** Adds a finished run's tokens and cost to today's usage; returns what was added. */
  async record(run: RunUsage): Promise<UsageIncrement> {
    const increment = this.increment(run);
    await this.add(increment);
    return increment;
  }

  private async check(kind: QuotaKind, subject: string, budget: Budget, filter: UsageFilter): Promise<void> {
    const at = this.now();
    const day = utcDay(at);
    const used = await this.usage.totals({ ...filter, fromDay: day, toDay: day });
    const labels = { quota: kind, subject: kind === 'agent' ? `${filter.workspaceId}/${subject}` : subject };
    if (budget.daily_tokens !== undefined) {
      this.usedRatio?.set({ ...labels, budget: 'tokens' }, used.totalTokens / budget.daily_tokens);
    }
    if (budget.daily_cost_usd !== undefined) {
      this.usedRatio?.set({ ...labels, budget: 'cost' }, used.costUsd / budget.daily_cost_usd);
    }
    const exceeded =
      budget.daily_tokens !== undefined && used.totalTokens >= budget.daily_tokens
        ? { budget: 'daily_tokens' as const, limit: budget.daily_tokens, used: used.totalTokens, unit: 'tokens' }
        : budget.daily_cost_usd !== undefined && used.costUsd >= budget.daily_cost_usd
          ? { budget: 'daily_cost_usd' as const, limit: budget.daily_cost_usd, used: used.costUsd, unit: 'USD' }
          : undefined;
    if (!exceeded) return;
    this.refusals?.inc({ quota: kind, budget: exceeded.budget === 'daily_tokens' ? 'tokens' : 'cost' });
    const retryAfter = secondsUntilNextUtcDay(at);
    const owner = kind === 'key' ? `caller ${configuredKeyOf(subject) ?? subject}` : `agent ${subject}`;
    const what = exceeded.budget === 'daily_tokens' ? 'token' : 'cost';
    throw new AgentOsError(
      'AOS_QUOTA_EXCEEDED',
      `Daily ${what} budget of ${owner} is used up (${round(exceeded.used)} of ${exceeded.limit} ${exceeded.unit} on ${day}); it resets at 00:00 UTC`,
      {
        details: {
          retryAfter,
          reason: 'quota_exceeded',
          quota: kind,
          subject,
          budget: exceeded.budget,
          limit: exceeded.limit,
          used: exceeded.used,
          day,
        },
      },
    );
  }
}

function round(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}
