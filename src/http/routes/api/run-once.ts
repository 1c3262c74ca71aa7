/**
 * Runs an agent to its end for the blocking `/api` routes (iii `message`, agtOS `chat` and `tasks`):
 * the final record, the model it ran on, and how many model requests (steps) it made.
 * @module
 */
import { AgentOsError } from '../../../errors/index.js';
import type { RunHandle, StartRunRequest } from '../../../runtime/run-manager.js';
import type { Services } from '../../../services.js';
import type { RunRecord } from '../../../store/types.js';

/** A finished run as the `/api` routes report it. */
export interface RunOutcome {
  run: RunRecord;
  model: string;
  /** Model requests made (iii `iterations`, agtOS `stepCount`). */
  steps: number;
  /** Tool calls made (agtOS `toolCallCount`). */
  toolCalls: number;
  durationMs: number;
}

/** Counts the steps of a started run while it executes. */
export function countSteps(handle: RunHandle): () => number {
  let steps = 0;
  handle.channel.subscribe(-1, {
    onEvent: (event) => {
      if (event.event === 'ModelRequestCompleted') steps += 1;
    },
    onEnd: () => {},
  });
  return () => steps;
}

/** The outcome of a finished run; a failed run is a 502 `AOS_MODEL_PROVIDER_ERROR`. */
export function outcomeOf(run: RunRecord, steps: number, startedAt: number): RunOutcome {
  if (run.status === 'error') {
    throw new AgentOsError('AOS_MODEL_PROVIDER_ERROR', `The run failed: ${run.error ?? 'unknown error'}`, {
      details: { run_id: run.runId },
    });
  }
  const tools = Array.isArray(run.output?.tools) ? run.output.tools.length : 0;
  return {
    run,
    model: typeof run.output?.model === 'string' ? run.output.model : '',
    steps,
    toolCalls: tools,
    durationMs: Date.now() - startedAt,
  };
}

/** Starts the run and waits for its end. */
export async function runToCompletion(services: Services, request: StartRunRequest): Promise<RunOutcome> {
  const startedAt = Date.now();
  const handle = await services.runs.start(request);
  const steps = countSteps(handle);
  const run = await handle.done;
  return outcomeOf(run, steps(), startedAt);
}
