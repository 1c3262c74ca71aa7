/**
 * Metrics: `GET /metrics` answers Prometheus text to a client that prefers `text/plain` or
 * OpenMetrics (what scrapers send) and Agno's daily aggregates as JSON otherwise;
 * `POST /metrics/refresh` recomputes the aggregates; `GET /health/metrics` summarises recent
 * latency (agtOS); `/api/metrics` is always Prometheus text.
 * @module
 */
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { refreshDailyMetrics } from '../../../observability/daily-metrics.js';
import { PROMETHEUS_CONTENT_TYPE } from '../../../observability/index.js';
import type { Services } from '../../../services.js';
import type { DailyMetricsRecord } from '../../../store/observability-types.js';
import { workspaceOf } from '../../plugins/access-control.js';
import {
  dayMetrics,
  healthMetrics,
  metricsQuery,
  metricsResponse,
  refreshQuery,
  refreshStarted,
  refreshStatus,
} from './schemas.js';

const iso = (ms: number) => new Date(ms).toISOString();

/** q-value of the best Accept entry matching one of `types` (0 when none does). */
function quality(accept: string, types: readonly string[]): number {
  let best = 0;
  for (const entry of accept.split(',')) {
    const [range = '', ...params] = entry.trim().toLowerCase().split(';');
    const q = Number(
      params
        .map((param) => param.trim())
        .find((param) => param.startsWith('q='))
        ?.slice(2) ?? 1,
    );
    const matches = types.some((type) => range === type || range === `${type.split('/')[0]}/*`);
    if (matches && Number.isFinite(q)) best = Math.max(best, q);
  }
  return best;
}

/** True when the client prefers Prometheus text over JSON; an absent or `* / *` Accept gets JSON. */
export function prefersPrometheus(accept: string | undefined): boolean {
  if (!accept) return false;
  const text = quality(accept, ['text/plain', 'application/openmetrics-text']);
  const json = quality(accept, ['application/json']);
  return text > 0 && text > json;
}

function sendPrometheus(reply: FastifyReply, services: Services) {
  return reply
    .type(PROMETHEUS_CONTENT_TYPE)
    .serializer((payload: unknown) => payload as string)
    .send(services.observability.instruments.registry.expose());
}

function toDay(record: DailyMetricsRecord): z.infer<typeof dayMetrics> {
  return {
    ...(record.data as Omit<z.infer<typeof dayMetrics>, 'id' | 'date' | 'created_at' | 'updated_at'>),
    id: record.id,
    date: record.date,
    created_at: iso(record.createdAt),
    updated_at: iso(record.updatedAt),
  };
}

interface RefreshState {
  status: 'idle' | 'running' | 'completed' | 'failed';
  startedAt: number | null;
  finishedAt: number | null;
  error: string | null;
}

/** Route table of `/metrics…` and `/health/metrics` on the root surface. */
export const metricsRoutes: FastifyPluginAsync<{ services: Services }> = async (fastify, { services }) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const { store, observability } = services;
  // Per process, as in Agno: a refresh is a local job; another replica reports its own.
  const state: RefreshState = { status: 'idle', startedAt: null, finishedAt: null, error: null };

  async function refresh(workspaceId: string, range: { fromDate?: string; toDate?: string }) {
    state.status = 'running';
    state.startedAt = Date.now();
    state.finishedAt = null;
    state.error = null;
    try {
      const records = await refreshDailyMetrics(store.observability, observability.prices, workspaceId, range);
      state.status = 'completed';
      return records;
    } catch (error) {
      state.status = 'failed';
      state.error = error instanceof Error ? error.message : String(error);
      throw error;
    } finally {
      state.finishedAt = Date.now();
    }
  }

  app.get('/metrics', {
    config: { access: { scope: 'metrics:read' } },
    schema: {
      summary: 'Daily metrics, or Prometheus text',
      description:
        'JSON daily aggregates (runs, sessions, users, tokens and cost per model, agent and user). A client whose ' +
        '`Accept` prefers `text/plain` or `application/openmetrics-text` (a Prometheus scraper) gets the Prometheus ' +
        'text exposition instead (`text/plain; version=0.0.4`).',
      tags: ['Metrics'],
      operationId: 'getMetrics',
      querystring: metricsQuery,
      response: { 200: metricsResponse },
    },
    handler: async (request, reply) => {
      if (prefersPrometheus(request.headers.accept)) return sendPrometheus(reply, services);
      const { starting_date, ending_date } = request.query;
      const days = await store.observability.listDailyMetrics(workspaceOf(request), starting_date, ending_date);
      const updated = days.reduce<number | null>((latest, day) => Math.max(latest ?? 0, day.updatedAt), null);
      return { metrics: days.map(toDay), updated_at: updated === null ? null : iso(updated) };
    },
  });

  app.post('/metrics/refresh', {
    config: { access: { scope: 'metrics:write' } },
    schema: {
      summary: 'Recompute the daily metrics',
      description:
        'Recomputes the days of `[starting_date, ending_date]` (default: the last 30 days) from the stored runs. ' +
        'With `background=true` answers 202 at once; poll `GET /metrics/refresh/status`.',
      tags: ['Metrics'],
      operationId: 'refreshMetrics',
      querystring: refreshQuery,
      response: { 200: z.array(dayMetrics), 202: refreshStarted },
    },
    handler: async (request, reply) => {
      const { background, starting_date, ending_date } = request.query;
      const range = {
        ...(starting_date === undefined ? {} : { fromDate: starting_date }),
        ...(ending_date === undefined ? {} : { toDate: ending_date }),
      };
      const workspaceId = workspaceOf(request);
      if (background) {
        if (state.status === 'running') {
          return reply.code(202).send({ status: 'already_running', message: 'A refresh is already running' });
        }
        refresh(workspaceId, range).catch((error: unknown) =>
          request.log.warn({ err: error }, 'metrics refresh failed'),
        );
        return reply.code(202).send({ status: 'started', message: 'Refresh started' });
      }
      return (await refresh(workspaceId, range)).map(toDay);
    },
  });

  app.get('/metrics/refresh/status', {
    config: { access: { scope: 'metrics:read' } },
    schema: {
      summary: 'Status of the last metrics refresh in this process',
      tags: ['Metrics'],
      operationId: 'getMetricsRefreshStatus',
      response: { 200: refreshStatus },
    },
    handler: async () => ({
      status: state.status,
      started_at: state.startedAt === null ? null : iso(state.startedAt),
      finished_at: state.finishedAt === null ? null : iso(state.finishedAt),
      error: state.error,
    }),
  });

  app.get('/health/metrics', {
    config: { access: { scope: 'metrics:read' } },
    schema: {
      summary: 'Request rate, errors and latency percentiles',
      description: 'p50/p95/p99 in milliseconds over the most recent requests of this process.',
      tags: ['Metrics'],
      operationId: 'getHealthMetrics',
      response: { 200: healthMetrics },
    },
    handler: async () => {
      const { instruments } = observability;
      const latency = instruments.latency();
      const uptime = instruments.uptimeSeconds();
      const total = instruments.totalRequests();
      const errors = instruments.errorRequests();
      return {
        requests: { total, perMinute: uptime > 0 ? Math.round((total / uptime) * 60 * 100) / 100 : total },
        errors: { total: errors, rate: total > 0 ? Math.round((errors / total) * 10_000) / 10_000 : 0 },
        latency: { p50: latency.p50, p95: latency.p95, p99: latency.p99 },
        runs: { active: services.runs.activeCount },
        uptime,
      };
    },
  });
};

/** `/api/metrics` (agtOS, iii): Prometheus text whatever the `Accept`. */
export const apiMetricsRoutes: FastifyPluginAsync<{ services: Services }> = async (fastify, { services }) => {
  fastify.get('/metrics', {
    config: { access: { scope: 'metrics:read' } },
    schema: {
      summary: 'Prometheus metrics',
      description: 'Text exposition format 0.0.4.',
      tags: ['Metrics'],
      operationId: 'getApiMetrics',
      produces: ['text/plain'],
    },
    handler: async (_request, reply) => sendPrometheus(reply, services),
  });
};
