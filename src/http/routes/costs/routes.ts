/**
 * `GET /api/costs` (seed 000, iii): token usage and cost per day, agent and model in the caller's
 * workspace, from the usage the run manager records after every run. An admin sees the whole workspace;
 * any other caller sees the usage of the runs it started. Scope `metrics:read`, like the metrics.
 * @module
 */
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import { ADMIN_SCOPE, callerSubjectOf, type Principal } from '../../../auth/index.js';
import { AgentOsError } from '../../../errors/index.js';
import { utcDay } from '../../../quotas/index.js';
import type { Services } from '../../../services.js';
import type { UsageRecord } from '../../../store/types.js';
import { workspaceOf } from '../../plugins/access-control.js';
import { costsQuery, costsResponse } from './schemas.js';

/** The most rows one answer sums; past it `truncated` is set. */
const MAX_ROWS = 1000;
const MAX_RANGE_DAYS = 366;

type Sums = { inputTokens: number; outputTokens: number; totalTokens: number; runs: number; totalCost: number };

const emptySums = (): Sums => ({ inputTokens: 0, outputTokens: 0, totalTokens: 0, runs: 0, totalCost: 0 });

function addTo(sums: Sums, row: UsageRecord): void {
  sums.inputTokens += row.inputTokens;
  sums.outputTokens += row.outputTokens;
  sums.totalTokens += row.totalTokens;
  sums.runs += row.runs;
  sums.totalCost += row.costUsd;
}

/** Route table of `/api/costs`. */
export const costsRoutes: FastifyPluginAsync<{ services: Services }> = async (fastify, { services }) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();

  app.get('/costs', {
    config: { access: { scope: 'metrics:read' } },
    schema: {
      summary: 'Token usage and cost',
      description:
        'Usage and cost (USD, from the price table) per UTC day, agent and model in the workspace, default today. ' +
        'Admins see every caller of the workspace; other callers see the runs they started. `quota` is the ' +
        "caller's own daily budget and today's use of it, when it has one.",
      tags: ['Metrics'],
      operationId: 'getCosts',
      querystring: costsQuery,
      response: { 200: costsResponse },
    },
    handler: async (request): Promise<z.infer<typeof costsResponse>> => {
      const now = Date.now();
      const today = utcDay(now);
      const to = request.query.to ?? today;
      const from = request.query.from ?? to;
      if (from > to) throw new AgentOsError('AOS_BAD_REQUEST', '`from` is after `to`');
      if (Date.parse(to) - Date.parse(from) > MAX_RANGE_DAYS * 86_400_000) {
        throw new AgentOsError('AOS_BAD_REQUEST', `The range spans more than ${MAX_RANGE_DAYS} days`);
      }
      const principal = request.principal;
      const admin = principal?.scopes.includes(ADMIN_SCOPE) === true;
      const rows = await services.store.usage.list({
        workspaceId: workspaceOf(request),
        fromDay: from,
        toDay: to,
        ...(request.query.agent_id === undefined ? {} : { agentId: request.query.agent_id }),
        // Fail closed: a caller that is not an admin reads only its own runs' usage.
        ...(admin ? {} : { principal: callerSubjectOf(principal) ?? '\u0000' }),
        limit: MAX_ROWS + 1,
      });
      const truncated = rows.length > MAX_ROWS;
      const counted = rows.slice(0, MAX_ROWS);
      const total = emptySums();
      const days = new Map<string, Sums>();
      const records = new Map<string, Sums & { date: string; agentId: string; model: string }>();
      for (const row of counted) {
        addTo(total, row);
        const day = days.get(row.day) ?? emptySums();
        days.set(row.day, day);
        addTo(day, row);
        const key = JSON.stringify([row.day, row.agentId, row.modelId]);
        const record = records.get(key) ?? { date: row.day, agentId: row.agentId, model: row.modelId, ...emptySums() };
        records.set(key, record);
        addTo(record, row);
      }
      return {
        date: today,
        from,
        to,
        ...total,
        days: [...days.entries()].map(([date, sums]) => ({ date, ...sums })),
        records: [...records.values()],
        quota: principal ? await quotaOf(services, principal, now) : null,
        truncated,
      };
    },
  });
};

async function quotaOf(services: Services, principal: Principal, now: number) {
  const subject = callerSubjectOf(principal);
  const budget = services.quotas.keyBudget(subject);
  if (!budget) return null;
  const day = utcDay(now);
  const used = await services.store.usage.totals({ principal: subject, fromDay: day, toDay: day });
  return {
    principal: principal.id,
    dailyTokens: budget.daily_tokens ?? null,
    dailyCostUsd: budget.daily_cost_usd ?? null,
    usedTokens: used.totalTokens,
    usedCost: used.costUsd,
    resetsAt: `${utcDay(now + 86_400_000)}T00:00:00.000Z`,
  };
}
