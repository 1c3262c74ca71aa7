/**
 * Zod schemas of `GET /api/costs` (seed 000, iii `/api/costs`): usage and cost by day, agent and model.
 * @module
 */
import { z } from 'zod';
import { idSchema } from '../../../config/index.js';

const daySchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, { error: 'expected a UTC date YYYY-MM-DD' })
  .refine(
    (value) =>
      !Number.isNaN(Date.parse(`${value}T00:00:00Z`)) && new Date(`${value}T00:00:00Z`).toISOString().startsWith(value),
    {
      error: 'expected a valid calendar date',
    },
  );

/** Query of `GET /api/costs`: an inclusive range of UTC days (default: today) and an optional agent. */
export const costsQuery = z.object({
  from: daySchema.optional().describe('First UTC day (YYYY-MM-DD); default `to`, or today.'),
  to: daySchema.optional().describe('Last UTC day (YYYY-MM-DD); default today.'),
  agent_id: idSchema.optional().describe('Only this agent.'),
});

const sums = {
  inputTokens: z.number(),
  outputTokens: z.number(),
  totalTokens: z.number(),
  runs: z.number(),
  totalCost: z.number().describe('USD, from the price table (`pricing:` over the built-in prices).'),
};

const budgetUsage = z.object({
  dailyTokens: z.number().nullable(),
  dailyCostUsd: z.number().nullable(),
  usedTokens: z.number(),
  usedCost: z.number(),
  resetsAt: z.string().describe('The next 00:00 UTC, when the budget starts over.'),
});

/** Body of `GET /api/costs`. */
export const costsResponse = z.object({
  date: z.string().describe('Today (UTC).'),
  from: z.string(),
  to: z.string(),
  ...sums,
  days: z.array(z.object({ date: z.string(), ...sums })),
  records: z.array(z.object({ date: z.string(), agentId: z.string(), model: z.string(), ...sums })),
  /** The caller's own daily budget, when it has one. */
  quota: budgetUsage.extend({ principal: z.string() }).nullable(),
  truncated: z.boolean().describe('More rows matched than one answer holds; narrow the range.'),
});
