/**
 * Run events with their wire names (CONTRACT.md §5, research/agno.md §2.2). The same names are used
 * in code, in the events table and on the wire, so no translation table can drift.
 * @module
 */
import { TEAM_EVENT_NAMES, WORKFLOW_EVENT_NAMES } from './team-workflow-events.js';

/** Every run event name agentos emits: agent runs, then team and workflow runs (`team-workflow-events.ts`). */
export const RUN_EVENT_NAMES = [
  'RunStarted',
  'ModelRequestStarted',
  'RunContent',
  'ToolCallStarted',
  'ToolCallCompleted',
  'ToolCallError',
  'ModelRequestCompleted',
  'RunContentCompleted',
  'RunPaused',
  'RunContinued',
  'RunCancelled',
  'RunError',
  'RunCompleted',
  'MemoryUpdateStarted',
  'MemoryUpdateCompleted',
  ...TEAM_EVENT_NAMES,
  ...WORKFLOW_EVENT_NAMES,
] as const;

/** A run event name. */
export type RunEventName = (typeof RUN_EVENT_NAMES)[number];

/** A tool call as events and run records show it (Agno `ToolExecution`, the fields agentos fills). */
export interface ToolExecution {
  tool_call_id: string;
  tool_name: string;
  tool_args: Record<string, unknown>;
  result?: string;
  tool_call_error?: boolean;
  metrics?: { time: number };
  created_at: string;
}

/** Token and timing metrics of a run or a model request. */
export interface RunMetrics {
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
  /** Seconds. */
  time: number;
  /** Seconds from the start of the run to the first content delta. */
  time_to_first_token?: number;
}

/**
 * One event as stored and sent: the wire name under `event`, the common fields, and the event's own
 * fields. `event_index` is assigned by the run's channel, 0-based and gapless per run.
 */
export interface RunEvent {
  event: RunEventName;
  event_index: number;
  run_id: string;
  session_id: string;
  agent_id?: string;
  agent_name?: string;
  /** ISO-8601 UTC (CONTRACT.md §5). */
  created_at: string;
  [field: string]: unknown;
}

/** What producers hand to a channel: the event without the fields the channel fills in. */
export type RunEventInput = { event: RunEventName } & Record<string, unknown>;
