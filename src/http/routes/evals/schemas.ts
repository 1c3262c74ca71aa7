/**
 * Schemas of `/eval-runs` (research/agno.md §1.7: EvalSchema and its list/run/rename/delete bodies).
 * @module
 */
import { z } from 'zod';
import { idSchema } from '../../../config/index.js';
import { EVAL_TYPES } from '../../../evals/types.js';
import { pageMeta, pageQuery } from '../pagination.js';

export { evalRequestSchema as runEvalBody } from '../../../evals/types.js';

export const evalView = z.object({
  id: z.string(),
  agent_id: z.string().nullable(),
  model_id: z.string().nullable(),
  model_provider: z.string().nullable(),
  team_id: z.string().nullable(),
  workflow_id: z.string().nullable(),
  name: z.string().nullable(),
  evaluated_component_name: z.string().nullable(),
  eval_type: z.enum(EVAL_TYPES),
  eval_data: z.record(z.string(), z.unknown()).describe('The results; `passed` says whether the eval passed'),
  eval_input: z.record(z.string(), z.unknown()),
  created_at: z.string(),
  updated_at: z.string(),
});

export const evalParams = z.object({ eval_run_id: idSchema });

export const evalsListQuery = z.object({
  agent_id: idSchema.optional(),
  team_id: idSchema.optional(),
  workflow_id: idSchema.optional(),
  model_id: z.string().min(1).max(256).optional(),
  type: z.enum(['agent', 'team', 'workflow']).optional(),
  eval_types: z
    .string()
    .max(200)
    .optional()
    .transform((value, context) => {
      if (value === undefined || value.trim() === '') return undefined;
      const types = value.split(',').map((type) => type.trim());
      const unknown = types.find((type) => !(EVAL_TYPES as readonly string[]).includes(type));
      if (unknown !== undefined) {
        context.addIssue({ code: 'custom', message: `unknown eval type "${unknown}"` });
        return z.NEVER;
      }
      return types as (typeof EVAL_TYPES)[number][];
    })
    .describe('Comma-separated: accuracy, agent_as_judge, performance, reliability'),
  sort_order: z.enum(['asc', 'desc']).default('desc').describe('By `created_at`; newest first by default'),
  ...pageQuery.shape,
});

export const renameEvalBody = z.strictObject({ name: z.string().trim().min(1).max(512) });
export const deleteEvalsBody = z.strictObject({ eval_run_ids: z.array(idSchema).min(1).max(1000) });
export const evalsPage = z.object({ eval_runs: z.array(evalView), meta: pageMeta });
export const noContent = z.null().describe('No content');
