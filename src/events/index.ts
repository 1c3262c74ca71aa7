/**
 * Run events: names, shapes and their SSE framing. Leaf room.
 * @module
 */
export { dropNulls, formatSseFrame, SSE_HEARTBEAT } from './sse.js';
export {
  RUN_EVENT_NAMES,
  type RunEvent,
  type RunEventInput,
  type RunEventName,
  type RunMetrics,
  type ToolExecution,
} from './types.js';
