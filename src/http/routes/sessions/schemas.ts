import { z } from 'zod';
import { idSchema } from '../../../config/index.js';
import { pageQuery } from '../pagination.js';
import { displayMessage } from '../runs/schemas.js';

const sessionType = z.enum(['agent', 'team', 'workflow']);
const userId = z.string().min(1).max(256);
const jsonObject = z.record(z.string(), z.unknown());
const sessionName = z.string().trim().min(1).max(512);

export const sessionParams = z.object({ session_id: idSchema });
export const sessionRunParams = z.object({ session_id: idSchema, run_id: idSchema });

/** Query of `GET /sessions`; `agent_id` is Agno's older spelling of `component_id` with `type=agent`. */
export const sessionsListQuery = z
  .object({
    type: sessionType.optional(),
    component_id: idSchema.optional(),
    agent_id: idSchema.optional(),
    user_id: userId.optional(),
    ...pageQuery.shape,
    sort_order: z.enum(['asc', 'desc']).default('desc').describe('By `updated_at`; `desc` (default) is newest first'),
  })
  .refine(
    (query) =>
      query.agent_id === undefined ||
      ((query.type ?? 'agent') === 'agent' && (query.component_id ?? query.agent_id) === query.agent_id),
    { message: 'agent_id contradicts type or component_id', path: ['agent_id'] },
  );

/** Optional `user_id` of Agno's session reads: a session of another user is reported as missing. */
export const sessionQuery = z.object({ user_id: userId.optional() });

export const sessionRunsQuery = sessionQuery.extend(pageQuery.shape);

/** Body of `POST /sessions`: exactly one of `agent_id`, `team_id`, `workflow_id`. */
export const createSessionBody = z
  .object({
    session_id: idSchema.optional(),
    session_name: sessionName.optional(),
    session_state: jsonObject.optional(),
    metadata: jsonObject.optional(),
    user_id: userId.optional(),
    agent_id: idSchema.optional(),
    team_id: idSchema.optional(),
    workflow_id: idSchema.optional(),
  })
  .refine((body) => [body.agent_id, body.team_id, body.workflow_id].filter((id) => id !== undefined).length === 1, {
    message: 'exactly one of agent_id, team_id, workflow_id is required',
    path: ['agent_id'],
  });

export const renameSessionBody = z.object({ session_name: sessionName });

export const updateSessionBody = z.object({
  session_name: sessionName.optional(),
  session_state: jsonObject.optional(),
  metadata: jsonObject.optional(),
});

/** Body of `DELETE /sessions`; Agno also sends `session_types`, which ids alone make redundant. */
export const deleteSessionsBody = z
  .object({
    session_ids: z.array(idSchema).min(1).max(1000),
    session_types: z.array(sessionType).optional(),
  })
  .loose();

/** One session in a list. Only the id field of its own type is present. */
export const sessionView = z.object({
  session_id: z.string(),
  session_name: z.string().nullable(),
  session_type: sessionType,
  agent_id: z.string().optional(),
  team_id: z.string().optional(),
  workflow_id: z.string().optional(),
  user_id: z.string().nullable(),
  session_state: jsonObject,
  metadata: jsonObject,
  created_at: z.string(),
  updated_at: z.string(),
});

/** One session with its conversation: the display messages of its newest 100 runs, oldest first. */
export const sessionDetail = sessionView.extend({
  runs_count: z.number().int(),
  chat_history: z.array(displayMessage),
});

/** `GET /sessions/{id}`: the detail plus seed 001's `memory` (the session summary; empty until one is written). */
export const sessionWithMemory = sessionDetail.extend({
  memory: z.object({ topics: z.array(z.string()), summary: z.string().nullable() }),
});

export const noContent = z.null().describe('No content');
