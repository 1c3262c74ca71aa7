/**
 * A2A protocol v1.0 (HTTP+JSON binding) over agentos runs (CONTRACT.md §3, research/agno.md §1.12): an
 * agent is an A2A agent, a task is a run (task id = run id) and a context is a session (context id =
 * session id). Wire shapes are built with @a2a-js/sdk's own proto codecs (`fromJSON`/`toJSON`), so what
 * agentos sends is what the SDK client parses.
 * @module
 */
import { randomUUID } from 'node:crypto';
import {
  A2A_PROTOCOL_VERSION,
  AgentCard,
  type Message,
  type Part,
  Role,
  SendMessageRequest,
  StreamResponse,
  Task,
  TaskState,
} from '@a2a-js/sdk';
import type { AgentConfig } from '../../config/index.js';
import { AgentOsError } from '../../errors/index.js';
import { pausedStateOf } from '../../runtime/hitl/pause.js';
import type { PausedToolExecution, ToolDecisionInput } from '../../runtime/hitl/types.js';
import type { RunRecord, RunStatus } from '../../store/types.js';

/** The interface URL of one agent: the card, `v1/message:send` and `v1/tasks/…` hang below it. */
export function agentBaseUrl(origin: string, agentId: string): string {
  return `${origin}/a2a/agents/${encodeURIComponent(agentId)}`;
}

/** The agent card (JSON) of one agent. Bearer credentials are required, as on every agentos surface. */
export function agentCardJson(agent: AgentConfig, origin: string, version: string): unknown {
  const card = AgentCard.fromJSON({
    name: agent.name ?? agent.id,
    description: agent.description ?? `agentos agent ${agent.id}`,
    supportedInterfaces: [
      {
        url: `${agentBaseUrl(origin, agent.id)}/v1`,
        protocolBinding: 'HTTP+JSON',
        protocolVersion: A2A_PROTOCOL_VERSION,
      },
    ],
    version,
    capabilities: { streaming: true, pushNotifications: false },
    securitySchemes: {
      bearer: { httpAuthSecurityScheme: { scheme: 'Bearer', description: 'agentos API key or JWT' } },
    },
    securityRequirements: [{ schemes: { bearer: { list: [] } } }],
    defaultInputModes: ['text/plain'],
    defaultOutputModes: ['text/plain'],
    skills: [
      {
        id: agent.id,
        name: agent.name ?? agent.id,
        description: agent.description ?? `Chat with ${agent.name ?? agent.id}`,
        tags: ['agentos'],
      },
    ],
  });
  return AgentCard.toJSON(card);
}

/** The parsed `message:send` / `message:stream` body; undefined when it is not a well-formed request. */
export function parseSendRequest(body: unknown): SendMessageRequest | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  try {
    return SendMessageRequest.fromJSON(body);
  } catch {
    return undefined;
  }
}

/** The text of a message's text parts (other part kinds are not read by agentos agents). */
export function messageText(message: Message | undefined): string {
  return (message?.parts ?? [])
    .map((part) => (part.content?.$case === 'text' ? part.content.value : ''))
    .filter((text) => text !== '')
    .join('\n');
}

const STATES: Record<RunStatus, TaskState> = {
  pending: TaskState.TASK_STATE_SUBMITTED,
  running: TaskState.TASK_STATE_WORKING,
  completed: TaskState.TASK_STATE_COMPLETED,
  paused: TaskState.TASK_STATE_INPUT_REQUIRED,
  cancelled: TaskState.TASK_STATE_CANCELED,
  error: TaskState.TASK_STATE_FAILED,
};

/** The task state of a run status. */
export function taskStateOf(status: RunStatus): TaskState {
  return STATES[status];
}

function textPart(text: string): Part {
  return { content: { $case: 'text', value: text }, metadata: undefined, filename: '', mediaType: 'text/plain' };
}

function dataPart(value: unknown): Part {
  return { content: { $case: 'data', value }, metadata: undefined, filename: '', mediaType: 'application/json' };
}

function message(
  role: Role,
  text: string,
  run: Pick<RunRecord, 'runId' | 'sessionId'>,
  id: string,
  extra: Part[] = [],
): Message {
  return {
    messageId: id,
    contextId: run.sessionId,
    taskId: run.runId,
    role,
    parts: [textPart(text), ...extra],
    metadata: undefined,
    extensions: [],
    referenceTaskIds: [],
  };
}

/** One paused call in words: `calculator({"expression":"6*7"})`, and what it waits for. */
function describePaused(tool: PausedToolExecution): string {
  const call = `${tool.tool_name}(${JSON.stringify(tool.tool_args ?? {})})`;
  const waiting = tool.external_execution_required
    ? 'its external result'
    : tool.requires_user_input
      ? `user input for ${(tool.user_input_schema ?? []).map((field) => field.name).join(', ')}`
      : 'confirmation';
  const approval = tool.approval_type === 'required' ? '; an approver (approvals:write) must decide it' : '';
  return `- ${call} [${tool.tool_call_id}] waits for ${waiting}${approval}`;
}

/**
 * The agent's question of a paused run (task `input-required`): the pending tool calls in words, how to
 * answer, and the calls as a data part `{pending_tools: [...]}` (Agno `ToolExecution` fields).
 */
export function pausedMessage(run: RunRecord): Message | undefined {
  const state = pausedStateOf(run);
  if (run.status !== 'paused' || !state) return undefined;
  const text = [
    'The run is paused at these tool calls:',
    ...state.tools.map(describePaused),
    'Reply on this task with "yes" to run them or "no" to refuse them (a note may follow), or with a data part ' +
      '{"confirmed": true|false, "note": "..."}.',
  ].join('\n');
  return message(Role.ROLE_AGENT, text, run, `${run.runId}-paused`, [dataPart({ pending_tools: state.tools })]);
}

const YES = /^\s*(yes|y|ok|approve|approved|confirm|confirmed)\b[\s,.:;!-]*/i;
const NO = /^\s*(no|n|reject|rejected|deny|denied|refuse|refused)\b[\s,.:;!-]*/i;

/** What a reply on a paused task decides, before it is applied to each pending call. */
export interface ReplyDecision {
  confirmed?: boolean;
  note?: string;
}

/**
 * Reads the reply to an `input-required` task: a data part `{confirmed: boolean, note?: string}`, else text
 * starting with yes (ok, approve, confirm) or no (reject, deny, refuse), the rest being the note. Anything
 * else decides nothing (resolved approvals then apply). 400 for a data part of another shape.
 */
export function replyDecision(message: Message): ReplyDecision {
  for (const part of message.parts) {
    if (part.content?.$case !== 'data') continue;
    const value = part.content.value as Record<string, unknown> | null;
    const note = value?.note;
    if (
      value === null ||
      typeof value !== 'object' ||
      typeof value.confirmed !== 'boolean' ||
      (note !== undefined && typeof note !== 'string')
    ) {
      throw new AgentOsError('AOS_BAD_REQUEST', 'A data part must be {"confirmed": true|false, "note"?: string}');
    }
    return { confirmed: value.confirmed, ...(typeof note === 'string' && note !== '' ? { note } : {}) };
  }
  const text = messageText(message);
  for (const [pattern, confirmed] of [
    [YES, true],
    [NO, false],
  ] as const) {
    const match = pattern.exec(text);
    if (!match) continue;
    const note = text.slice(match[0].length).trim();
    return { confirmed, ...(note === '' ? {} : { note }) };
  }
  return {};
}

/** The reply applied to every pending call of a paused run, as the continue route's `tools`. */
export function toolDecisionsOf(run: RunRecord, reply: ReplyDecision): ToolDecisionInput[] {
  if (reply.confirmed === undefined) return [];
  return (pausedStateOf(run)?.tools ?? []).map((tool) => ({
    tool_call_id: tool.tool_call_id,
    confirmed: reply.confirmed,
    ...(reply.note === undefined ? {} : { confirmation_note: reply.note }),
  }));
}

/** The artifact id of a run's reply. */
export const replyArtifactId = (runId: string) => `${runId}-reply`;

/** A run as an A2A task (proto object). */
export function taskOf(run: RunRecord): Task {
  const input = (run.input as { message?: unknown }).message;
  const history: Message[] = [];
  if (typeof input === 'string') history.push(message(Role.ROLE_USER, input, run, `${run.runId}-input`));
  const content = run.content ?? '';
  const failure = run.status === 'error' ? (run.error ?? 'Run failed') : undefined;
  return {
    id: run.runId,
    contextId: run.sessionId,
    status: {
      state: taskStateOf(run.status),
      message:
        failure === undefined ? pausedMessage(run) : message(Role.ROLE_AGENT, failure, run, `${run.runId}-error`),
      timestamp: new Date(run.updatedAt).toISOString(),
    },
    artifacts:
      content === ''
        ? []
        : [
            {
              artifactId: replyArtifactId(run.runId),
              name: 'reply',
              description: '',
              parts: [textPart(content)],
              metadata: undefined,
              extensions: [],
            },
          ],
    history,
    metadata: { agent_id: run.componentId },
  };
}

/** A task as JSON. */
export function taskJson(run: RunRecord): unknown {
  return Task.toJSON(taskOf(run));
}

/** `message:send`'s answer: the task. */
export function sendResponseJson(run: RunRecord): unknown {
  return { task: taskJson(run) };
}

/** One SSE frame of `message:stream`. */
export function streamFrame(payload: StreamResponse['payload']): string {
  return `data: ${JSON.stringify(StreamResponse.toJSON({ payload }))}\n\n`;
}

/** A reply text chunk as an artifact update. */
export function artifactChunk(
  run: Pick<RunRecord, 'runId' | 'sessionId'>,
  text: string,
  append: boolean,
): StreamResponse['payload'] {
  return {
    $case: 'artifactUpdate',
    value: {
      taskId: run.runId,
      contextId: run.sessionId,
      artifact: {
        artifactId: replyArtifactId(run.runId),
        name: 'reply',
        description: '',
        parts: [textPart(text)],
        metadata: undefined,
        extensions: [],
      },
      append,
      lastChunk: false,
      metadata: undefined,
    },
  };
}

/** A status change as a stream payload; `message` says what an `input-required` task waits for. */
export function statusChunk(
  run: Pick<RunRecord, 'runId' | 'sessionId'>,
  state: TaskState,
  message?: Message,
): StreamResponse['payload'] {
  return {
    $case: 'statusUpdate',
    value: {
      taskId: run.runId,
      contextId: run.sessionId,
      status: { state, message, timestamp: new Date().toISOString() },
      metadata: undefined,
    },
  };
}

/** A fresh id for messages agentos creates. */
export const newMessageId = () => randomUUID();
