/**
 * The eval request (Agno's `POST /eval-runs` body, research/agno.md §1.7), shared by the HTTP route
 * and `agentos eval` suites.
 * @module
 */
import { z } from 'zod';
import { idSchema } from '../config/index.js';

export const EVAL_TYPES = ['accuracy', 'agent_as_judge', 'performance', 'reliability'] as const;

/** One eval to run. */
export const evalRequestSchema = z
  .strictObject({
    agent_id: idSchema.optional(),
    team_id: idSchema.optional(),
    workflow_id: idSchema.optional(),
    /** The judge model (`provider:model`, or a model id with `model_provider`). */
    model_id: z.string().min(1).max(256).optional(),
    model_provider: z.string().min(1).max(64).optional(),
    eval_type: z.enum(EVAL_TYPES),
    input: z.string().min(1).max(100_000),
    additional_guidelines: z.string().max(10_000).optional(),
    additional_context: z.string().max(100_000).optional(),
    num_iterations: z.number().int().min(1).max(100).default(1),
    name: z.string().trim().min(1).max(512).optional(),
    expected_output: z.string().max(100_000).optional(),
    criteria: z.string().max(10_000).optional(),
    scoring_strategy: z.enum(['numeric', 'binary']).default('numeric'),
    /** Pass mark: a score (1–10) for accuracy and numeric agent_as_judge, a latency in ms for performance. */
    threshold: z.number().min(0).optional(),
    warmup_runs: z.number().int().min(0).max(10).default(0),
    expected_tool_calls: z.array(z.string().min(1).max(128)).max(100).optional(),
    allow_additional_tool_calls: z.boolean().default(true),
    expected_tool_call_arguments: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
    user_id: z.string().min(1).max(256).optional(),
  })
  .superRefine((body, context) => {
    const targets = [body.agent_id, body.team_id, body.workflow_id].filter((id) => id !== undefined);
    if (targets.length !== 1) {
      context.addIssue({
        code: 'custom',
        path: ['agent_id'],
        message: 'exactly one of agent_id, team_id, workflow_id',
      });
    }
    if (body.eval_type === 'accuracy' && body.expected_output === undefined) {
      context.addIssue({ code: 'custom', path: ['expected_output'], message: 'accuracy evals need expected_output' });
    }
    if (body.eval_type === 'agent_as_judge' && body.criteria === undefined) {
      context.addIssue({ code: 'custom', path: ['criteria'], message: 'agent_as_judge evals need criteria' });
    }
    if (body.eval_type === 'reliability' && body.expected_tool_calls === undefined) {
      context.addIssue({
        code: 'custom',
        path: ['expected_tool_calls'],
        message: 'reliability evals need expected_tool_calls',
      });
    }
  });

/** A validated eval request. */
export type EvalRequest = z.output<typeof evalRequestSchema>;
/** An eval request as written (defaults optional). */
export type EvalRequestInput = z.input<typeof evalRequestSchema>;
