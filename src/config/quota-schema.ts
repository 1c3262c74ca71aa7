/**
 * `quotas:` (issue 5): daily token and cost budgets per caller and per agent. Costs come from the
 * price table (`pricing:` over the built-in prices of `observability/pricing.ts`). Kept apart from
 * `schema.ts` so that file only names the key.
 * @module
 */
import { z } from 'zod';

/** One daily budget: tokens (input + output) and/or USD, per UTC day. A field left out is not limited. */
export const budgetSchema = z.strictObject({
  daily_tokens: z.number().int().min(1).optional(),
  daily_cost_usd: z.number().positive().optional(),
});

/** A budget, or `false` to exempt one caller or agent from the default. */
const budgetOverrideSchema = z.union([z.literal(false), budgetSchema], {
  error: 'expected false or a budget ({ daily_tokens, daily_cost_usd })',
});

/**
 * `quotas:` — `per_key` applies to every caller (API key id, config key name, JWT `sub`) and `per_agent`
 * to every agent of a workspace; `keys.<id>` and `agents.<id>` override field by field, or exempt with `false`.
 */
export const quotasSchema = z
  .strictObject({
    per_key: budgetSchema.optional(),
    per_agent: budgetSchema.optional(),
    keys: z.record(z.string().min(1), budgetOverrideSchema).default({}),
    agents: z.record(z.string().min(1), budgetOverrideSchema).default({}),
  })
  .prefault({});

/** One validated budget. */
export type Budget = z.output<typeof budgetSchema>;
/** Validated `quotas:` block. */
export type QuotasConfig = z.output<typeof quotasSchema>;
