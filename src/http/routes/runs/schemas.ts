import { z } from 'zod';
import { idSchema } from '../../../config/index.js';
import { pageQuery } from '../pagination.js';

/** Form fields arrive as strings; `"true"`/`"false"` (and real booleans from JSON) become booleans. */
/** A form field or JSON boolean: `true`/`1`, `false`/`0`/empty. */
export const formBoolean = z.preprocess((value) => {
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0' || value === '') return false;
  return value;
}, z.boolean());

/** Body of `POST /agents/{agent_id}/runs` (multipart, urlencoded or JSON). */
export const runRequest = z
  .object({
    message: z.string().trim().min(1, 'message is required').max(200_000),
    stream: formBoolean.default(false),
    background: formBoolean.default(false),
    session_id: z.union([z.literal(''), idSchema]).optional(),
    user_id: z.string().min(1).max(256).optional(),
  })
  // Agno passes unknown form fields through to the run; agentos accepts and ignores them for now.
  .loose();

export const agentParams = z.object({ agent_id: idSchema });
export const runParams = z.object({ agent_id: idSchema, run_id: idSchema });

export const runQuery = z.object({ session_id: idSchema.optional() });

/** Run statuses as they appear on the wire (CONTRACT.md §5). */
export const runStatus = z.enum(['pending', 'running', 'completed', 'paused', 'cancelled', 'error']);

export const runsListQuery = pageQuery.extend({
  session_id: idSchema.optional(),
  status: runStatus.optional(),
});

/** Body of `POST …/resume`. */
export const resumeRequest = z
  .object({
    last_event_index: z.coerce.number().int().min(-1).default(-1),
    session_id: idSchema.optional(),
  })
  .loose();

const userInputField = z.object({
  name: z.string(),
  field_type: z.string(),
  description: z.string().optional(),
  value: z.unknown().optional(),
});

const toolExecution = z.object({
  tool_call_id: z.string(),
  tool_name: z.string(),
  tool_args: z.record(z.string(), z.unknown()),
  result: z.string().optional(),
  tool_call_error: z.boolean().optional(),
  metrics: z.object({ time: z.number() }).optional(),
  created_at: z.string(),
  // Human in the loop (Agno `ToolExecution`), on paused and continued runs.
  requires_confirmation: z.boolean().optional(),
  confirmed: z.boolean().optional(),
  confirmation_note: z.string().optional(),
  requires_user_input: z.boolean().optional(),
  user_input_schema: z.array(userInputField).optional(),
  external_execution_required: z.boolean().optional(),
  answered: z.boolean().optional(),
  approval_type: z.enum(['required', 'audit']).optional(),
  approval_id: z.string().optional(),
});

/** One pending human decision of a paused run (Agno `RunRequirement`). */
const runRequirement = z.object({
  id: z.string(),
  created_at: z.string(),
  tool_execution: toolExecution,
  user_input_schema: z.array(userInputField).optional(),
});

/** One paused call's decision in a continue body (Agno: the `ToolExecution` sent back, filled in). */
export const toolDecision = z
  .object({
    tool_call_id: z.string().min(1).max(256),
    tool_name: z.string().max(256).optional(),
    confirmed: z.boolean().optional(),
    confirmation_note: z.string().max(10_000).optional(),
    user_input: z.record(z.string(), z.unknown()).optional(),
    user_input_schema: z.array(z.object({ name: z.string(), value: z.unknown().optional() }).loose()).optional(),
    result: z.unknown().optional(),
  })
  .loose();

/**
 * Body of `POST …/runs/{run_id}/continue`: `tools` as a JSON string (form) or an array (JSON). It may be
 * empty or absent when the run's approvals were resolved.
 */
export const continueRequest = z
  .object({
    tools: z.union([z.string().max(1_000_000), z.array(z.unknown())]).optional(),
    stream: formBoolean.default(false),
    background: formBoolean.default(false),
    session_id: idSchema.optional(),
    user_id: z.string().min(1).max(256).optional(),
  })
  .loose();

export const displayMessage = z.object({
  role: z.enum(['system', 'user', 'assistant', 'tool']),
  content: z.string(),
  tool_calls: z
    .array(
      z.object({
        id: z.string(),
        type: z.literal('function'),
        function: z.object({ name: z.string(), arguments: z.string() }),
      }),
    )
    .optional(),
  tool_call_id: z.string().optional(),
  tool_name: z.string().optional(),
});

/** A run as the root surface returns it (seeds 001 and 003). */
export const runView = z.object({
  run_id: z.string(),
  session_id: z.string(),
  user_id: z.string().optional(),
  agent_id: z.string(),
  agent_name: z.string().optional(),
  status: runStatus,
  content: z.string().optional(),
  content_type: z.literal('str'),
  input: z.object({ message: z.string().optional() }).loose(),
  messages: z.array(displayMessage),
  metrics: z.record(z.string(), z.number()),
  model: z.string().optional(),
  model_provider: z.string().optional(),
  tools: z.array(toolExecution).optional(),
  /** The decisions a paused run waits for. */
  requirements: z.array(runRequirement).optional(),
  /** Knowledge chunks the run's knowledge_search calls returned (issue 6), best first. */
  references: z
    .array(
      z.object({
        content_id: z.string(),
        knowledge_id: z.string(),
        name: z.string(),
        chunk: z.number().int(),
        score: z.number(),
        match_type: z.string(),
        content: z.string(),
      }),
    )
    .optional(),
  error: z.string().optional(),
  created_at: z.string(),
  updated_at: z.string(),
});

export const backgroundAccepted = z.object({
  run_id: z.string(),
  session_id: z.string(),
  status: z.literal('pending'),
});
