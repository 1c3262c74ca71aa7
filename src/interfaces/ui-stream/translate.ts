/**
 * Run events as AI SDK UI message stream v1 chunks (ai@6, research/ts-peers.md §9), so `useChat` can talk
 * to an agent: text parts, tool calls and their outputs, and a `tool-approval-request` per call a
 * human-in-the-loop pause waits on. One translator per response: it remembers the open text part and the
 * tool calls already announced.
 * @module
 */
import type { RunEvent, ToolExecution } from '../../events/index.js';

/** The headers `useChat`'s transport checks (the same values as ai's `UI_MESSAGE_STREAM_HEADERS`). */
export const UI_STREAM_HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
  'x-vercel-ai-ui-message-stream': 'v1',
  'x-accel-buffering': 'no',
} as const;

/** One UI message chunk (the subset agentos sends). */
export type UiChunk = { type: string } & Record<string, unknown>;

/** The SSE frame of one chunk; the stream ends with {@link UI_STREAM_DONE}. */
export function formatUiChunk(chunk: UiChunk): string {
  return `data: ${JSON.stringify(chunk)}\n\n`;
}

/** The last frame of every UI message stream. */
export const UI_STREAM_DONE = 'data: [DONE]\n\n';

function toolOf(event: RunEvent): ToolExecution | undefined {
  const tool = event.tool as ToolExecution | undefined;
  return tool && typeof tool.tool_call_id === 'string' ? tool : undefined;
}

/** Tool results are strings in run events; JSON ones go to the client as values. */
function outputOf(result: string | undefined): unknown {
  if (result === undefined) return null;
  try {
    return JSON.parse(result);
  } catch {
    return result;
  }
}

/** Translates one run's events, in order, into UI chunks. */
export class UiStreamTranslator {
  private textId: string | undefined;
  private textCount = 0;
  private readonly announced = new Set<string>();
  private started = false;
  private finished = false;

  /** True once a terminal chunk (`finish`, `abort` or `error` + `finish`) was produced. */
  get done(): boolean {
    return this.finished;
  }

  /** The chunks one event becomes (often none). */
  translate(event: RunEvent): UiChunk[] {
    const out: UiChunk[] = [];
    if (!this.started) {
      this.started = true;
      // The message id is the run id, so a resumed stream continues the same assistant message.
      out.push({
        type: 'start',
        messageId: event.run_id,
        messageMetadata: { run_id: event.run_id, session_id: event.session_id },
      });
    }
    if (this.finished) return out;
    switch (event.event) {
      case 'RunContent': {
        const delta = typeof event.content === 'string' ? event.content : '';
        if (delta === '') break;
        if (this.textId === undefined) {
          this.textId = `${event.run_id}-text-${this.textCount++}`;
          out.push({ type: 'text-start', id: this.textId });
        }
        out.push({ type: 'text-delta', id: this.textId, delta });
        break;
      }
      case 'ToolCallStarted': {
        const tool = toolOf(event);
        if (tool) out.push(...this.closeText(), ...this.announce(tool));
        break;
      }
      case 'ToolCallCompleted': {
        const tool = toolOf(event);
        if (tool) {
          out.push(...this.closeText(), ...this.announce(tool));
          out.push({ type: 'tool-output-available', toolCallId: tool.tool_call_id, output: outputOf(tool.result) });
        }
        break;
      }
      case 'ToolCallError': {
        const tool = toolOf(event);
        if (tool) {
          out.push(...this.closeText(), ...this.announce(tool));
          out.push({
            type: 'tool-output-error',
            toolCallId: tool.tool_call_id,
            errorText: String(tool.result ?? event.error ?? 'Tool failed'),
          });
        }
        break;
      }
      case 'RunPaused': {
        out.push(...this.closeText());
        const tools = Array.isArray(event.tools) ? (event.tools as (ToolExecution & { approval_id?: string })[]) : [];
        for (const tool of tools) {
          if (typeof tool?.tool_call_id !== 'string') continue;
          out.push(...this.announce(tool));
          // The approval id is the tool call id: the continue path looks the paused call up by it.
          out.push({ type: 'tool-approval-request', approvalId: tool.tool_call_id, toolCallId: tool.tool_call_id });
        }
        out.push({ type: 'finish', finishReason: 'tool-calls' });
        this.finished = true;
        break;
      }
      case 'RunError':
        out.push(...this.closeText());
        out.push({ type: 'error', errorText: typeof event.content === 'string' ? event.content : 'Run failed' });
        out.push({ type: 'finish', finishReason: 'error' });
        this.finished = true;
        break;
      case 'RunCancelled':
        out.push(...this.closeText());
        out.push({ type: 'abort', ...(typeof event.reason === 'string' ? { reason: event.reason } : {}) });
        this.finished = true;
        break;
      case 'RunCompleted':
        out.push(...this.closeText());
        out.push({ type: 'finish', finishReason: 'stop' });
        this.finished = true;
        break;
      default:
        break;
    }
    return out;
  }

  /** What ends a stream whose run ended without a terminal event this translator saw. */
  end(): UiChunk[] {
    if (this.finished) return [];
    this.finished = true;
    const start: UiChunk[] = this.started ? [] : [{ type: 'start' }];
    this.started = true;
    return [...start, ...this.closeText(), { type: 'finish' }];
  }

  private closeText(): UiChunk[] {
    if (this.textId === undefined) return [];
    const id = this.textId;
    this.textId = undefined;
    return [{ type: 'text-end', id }];
  }

  private announce(tool: ToolExecution): UiChunk[] {
    if (this.announced.has(tool.tool_call_id)) return [];
    this.announced.add(tool.tool_call_id);
    return [
      { type: 'tool-input-start', toolCallId: tool.tool_call_id, toolName: tool.tool_name },
      {
        type: 'tool-input-available',
        toolCallId: tool.tool_call_id,
        toolName: tool.tool_name,
        input: tool.tool_args ?? {},
      },
    ];
  }
}
