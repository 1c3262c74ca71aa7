import type { ModelMessage } from 'ai';
import type { z } from 'zod';
import type { ToolExecution } from '../../../events/index.js';
import { toDisplayMessages } from '../../../runtime/agent/messages.js';
import { pausedStateOf } from '../../../runtime/hitl/pause.js';
import type { KnowledgeReference } from '../../../runtime/tools/knowledge-search.js';
import type { RunRecord } from '../../../store/types.js';
import type { runView } from './schemas.js';

/**
 * A run's input as clients see it: `principal` (who started the run, kept for usage accounting on continue
 * and resume) is server bookkeeping, not part of the request.
 */
export function publicRunInput(input: RunRecord['input']): RunRecord['input'] {
  if (!('principal' in input)) return input;
  const { principal: _principal, ...rest } = input;
  return rest as RunRecord['input'];
}

/** Renders a stored run in the root surface's shape (ISO timestamps, display messages). */
export function toRunView(run: RunRecord, agentName?: string): z.infer<typeof runView> {
  const output = run.output as {
    model?: string;
    model_provider?: string;
    tools?: ToolExecution[];
    references?: KnowledgeReference[];
  };
  // A paused run shows its pending calls with their human-in-the-loop flags, and what it waits for.
  const paused = run.status === 'paused' ? pausedStateOf(run) : undefined;
  const tools = paused
    ? (output.tools ?? []).map(
        (tool) => paused.tools.find((pending) => pending.tool_call_id === tool.tool_call_id) ?? tool,
      )
    : output.tools;
  const metrics: Record<string, number> = {};
  for (const [key, value] of Object.entries(run.metrics)) if (typeof value === 'number') metrics[key] = value;
  return {
    run_id: run.runId,
    session_id: run.sessionId,
    ...(run.userId === null ? {} : { user_id: run.userId }),
    agent_id: run.componentId,
    ...(agentName === undefined ? {} : { agent_name: agentName }),
    status: run.status,
    ...(run.content === null ? {} : { content: run.content }),
    content_type: 'str',
    input: publicRunInput(run.input),
    messages: toDisplayMessages(run.messages as ModelMessage[]),
    metrics,
    ...(output.model === undefined ? {} : { model: output.model }),
    ...(output.model_provider === undefined ? {} : { model_provider: output.model_provider }),
    ...(tools && tools.length > 0 ? { tools } : {}),
    ...(paused ? { requirements: paused.requirements } : {}),
    ...(output.references && output.references.length > 0 ? { references: output.references } : {}),
    ...(run.error === null ? {} : { error: run.error }),
    created_at: new Date(run.createdAt).toISOString(),
    updated_at: new Date(run.updatedAt).toISOString(),
  };
}
