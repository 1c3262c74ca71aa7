/**
 * Schemas of the metrics routes: Agno's daily aggregates (`/metrics`, research/agno.md §1.7) and
 * agtOS' `/health/metrics` summary (research/agtos-automatos.md §1.2).
 * @module
 */
import { z } from 'zod';

const usage = {
  runs: z.number().int(),
  input_tokens: z.number(),
  output_tokens: z.number(),
  total_tokens: z.number(),
  cost: z.number().describe('USD from the price table (`pricing:`)'),
};

export const dayMetrics = z.object({
  id: z.string(),
  agent_runs_count: z.number().int(),
  agent_sessions_count: z.number().int(),
  team_runs_count: z.number().int(),
  team_sessions_count: z.number().int(),
  workflow_runs_count: z.number().int(),
  workflow_sessions_count: z.number().int(),
  users_count: z.number().int(),
  runs_by_status: z.record(z.string(), z.number().int()),
  token_metrics: z.object(usage),
  model_metrics: z.array(
    z.object({
      model_id: z.string(),
      model_provider: z.string().nullable(),
      count: z.number().int(),
      priced: z.boolean(),
      ...usage,
    }),
  ),
  agent_metrics: z.array(z.object({ component_type: z.string(), component_id: z.string(), ...usage })),
  user_metrics: z.array(z.object({ user_id: z.string(), ...usage })),
  date: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
});

export const metricsQuery = z.object({
  starting_date: z.iso.date().optional(),
  ending_date: z.iso.date().optional(),
});

export const metricsResponse = z.object({ metrics: z.array(dayMetrics), updated_at: z.string().nullable() });

export const refreshQuery = z.object({
  background: z
    .enum(['true', 'false'])
    .default('false')
    .transform((value) => value === 'true'),
  starting_date: z.iso.date().optional(),
  ending_date: z.iso.date().optional(),
});

export const refreshStarted = z.object({ status: z.enum(['started', 'already_running']), message: z.string() });

export const refreshStatus = z.object({
  status: z.enum(['idle', 'running', 'completed', 'failed']),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
  error: z.string().nullable(),
});

export const healthMetrics = z.object({
  requests: z.object({ total: z.number().int(), perMinute: z.number() }),
  errors: z.object({ total: z.number().int(), rate: z.number() }),
  latency: z.object({ p50: z.number(), p95: z.number(), p99: z.number() }).describe('Milliseconds, recent requests'),
  runs: z.object({ active: z.number().int() }),
  uptime: z.number().int().describe('Seconds'),
});
