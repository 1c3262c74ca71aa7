/**
 * The trace of one agent run: an `invoke_agent {name}` span, a `chat {model}` span per model step
 * and an `execute_tool {tool}` span per tool call, all children of the agent span (GenAI
 * conventions), plus the run's Prometheus counts. The runner reports stream parts and wraps tool
 * calls through {@link RunObserver}; everything here is synchronous bookkeeping, storage is batched.
 * @module
 */
import { type Context, context, type Span, type SpanOptions, SpanStatusCode, trace } from '@opentelemetry/api';
import type { TextStreamPart, ToolSet } from 'ai';
import type { ToolSpanOpener } from '../runtime/tools/types.js';
import type { RunInstruments } from './instruments.js';
import type { PriceTable } from './pricing.js';
import { contextWithSpan } from './recording-tracer.js';
import { AGENTOS, ERROR_TYPE, GEN_AI } from './semconv.js';
import { recordFailure, withSpan } from './spans.js';
import type { Tracing } from './tracing.js';

/** What the agent loop tells the tracing about itself. */
export interface RunObserver {
  /** Every part of the model stream, in order. */
  onPart(part: TextStreamPart<ToolSet>): void;
  /** A model call is about to be sent (before its first chunk, which is when `start-step` arrives). */
  onModelRequest?(): void;
  /** Runs one tool call inside its `execute_tool` span. */
  wrapTool<T>(
    toolName: string,
    toolCallId: string,
    args: unknown,
    fn: (tracing: { withSpan: ToolSpanOpener }) => Promise<T>,
  ): Promise<T>;
}

/** Identity of the run being traced. */
export interface AgentRunInfo {
  workspaceId: string;
  runId: string;
  sessionId: string;
  userId: string | null;
  agentId: string;
  agentName: string;
  /** `provider:model`. */
  modelId: string;
  message: string;
  /** `TEAM` when a team leader runs as an agent. */
  type?: 'AGENT' | 'TEAM';
  /** The span this run belongs under (a workflow step's, a team's); else the active context. */
  parent?: Context | undefined;
}

/** How the run ended, for the agent span and the counters. */
export interface AgentRunOutcome {
  status: string;
  content?: string | undefined;
  error?: { message: string; type: string } | undefined;
  inputTokens: number;
  outputTokens: number;
}

const OK = { code: SpanStatusCode.OK } as const;
const NO_OPTIONS: SpanOptions = {};

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : 'Error';
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** One run's spans; create through `Observability.startAgentRun`. */
export class AgentRunTrace implements RunObserver {
  private readonly span: Span;
  private readonly parent: Context;
  /** The agent span's context, made when first needed (a tool span, a recall). */
  private agentContext: Context | undefined;
  /**
   * When the open step's model call was sent (`Date.now()`, as the SDK stamps a span it starts itself). Its
   * `chat` span is made when the step ends, with this start: an SDK span open for a whole streamed answer
   * held about 1 KB of heap per open run (issue 4), and nothing nests under a chat span.
   */
  private chatStartedAt: number | undefined;
  /** `performance.now()` at the same moment: the span's end is its start plus the time since, as the SDK's own. */
  private chatStartedPerf = 0;
  private chatText = '';
  private chatRequested = false;
  /** When the model finished its part of a step: the first tool call starts the tools' part. */
  private toolsStartedAt: number | undefined;
  private readonly provider: string;
  private readonly model: string;

  constructor(
    private readonly tracing: Tracing,
    private readonly instruments: RunInstruments,
    private readonly prices: PriceTable,
    private readonly info: AgentRunInfo,
  ) {
    const [provider, ...rest] = info.modelId.split(':');
    this.provider = provider ?? info.modelId;
    this.model = rest.join(':') || info.modelId;
    const capture = tracing.captureContent;
    const parent = info.parent ?? context.active();
    this.parent = parent;
    // Attributes are set on the span, not passed in an object literal: with computed keys V8 builds such a
    // literal property by property, and the tracer then copies it again (bench/tracing's profiles).
    const span = tracing.tracer.startSpan(`invoke_agent ${info.agentName}`, NO_OPTIONS, parent);
    span.setAttribute(GEN_AI.operationName, 'invoke_agent');
    span.setAttribute(GEN_AI.providerName, this.provider);
    span.setAttribute(GEN_AI.requestModel, this.model);
    span.setAttribute(GEN_AI.agentId, info.agentId);
    span.setAttribute(GEN_AI.agentName, info.agentName);
    span.setAttribute(GEN_AI.conversationId, info.sessionId);
    span.setAttribute(AGENTOS.runId, info.runId);
    span.setAttribute(AGENTOS.workspaceId, info.workspaceId);
    if (info.type) span.setAttribute(AGENTOS.spanType, info.type);
    if (info.userId) span.setAttribute(AGENTOS.userId, info.userId);
    if (capture) span.setAttribute(AGENTOS.input, info.message);
    this.span = span;
    instruments.activeRuns.inc();
  }

  /** The context of the agent span: the parent of spans opened for the run outside the loop (memory recall). */
  get spanContext(): Context {
    this.agentContext ??= contextWithSpan(this.parent, this.span);
    return this.agentContext;
  }

  onModelRequest(): void {
    this.startChat();
    this.chatRequested = true;
  }

  onPart(part: TextStreamPart<ToolSet>): void {
    switch (part.type) {
      case 'start-step':
        // The span normally opened at the request (`onModelRequest`), so it covers the wait for the first chunk.
        if (!this.chatRequested) this.startChat();
        this.chatRequested = false;
        break;
      case 'text-delta':
        if (this.tracing.captureContent) this.chatText += part.text;
        break;
      case 'tool-call':
        this.toolsStartedAt ??= Date.now();
        break;
      case 'finish-step':
        this.endChat(part);
        break;
      case 'error': {
        const chat = this.openChat();
        if (chat) {
          recordFailure(chat.span, part.error);
          chat.span.end(chat.now);
        }
        break;
      }
      default:
        break;
    }
  }

  private startChat(): void {
    this.endOpenChat();
    this.chatText = '';
    this.toolsStartedAt = undefined;
    this.chatStartedAt = Date.now();
    this.chatStartedPerf = performance.now();
  }

  /**
   * The open step's `chat` span, made now with the step's start time (see {@link chatStartedAt}), and the
   * time now on its clock; the step is then closed.
   */
  private openChat(): { span: Span; now: number } | undefined {
    const startTime = this.chatStartedAt;
    if (startTime === undefined) return undefined;
    this.chatStartedAt = undefined;
    const now = startTime + (performance.now() - this.chatStartedPerf);
    const span = this.tracing.tracer.startSpan(`chat ${this.model}`, { startTime }, this.spanContext);
    span.setAttribute(GEN_AI.operationName, 'chat');
    span.setAttribute(GEN_AI.providerName, this.provider);
    span.setAttribute(GEN_AI.requestModel, this.model);
    span.setAttribute(GEN_AI.conversationId, this.info.sessionId);
    return { span, now };
  }

  /** Ends a step's chat span that no finish reached (a new request, the run's end). */
  private endOpenChat(): void {
    const chat = this.openChat();
    chat?.span.end(chat.now);
  }

  private endChat(part: Extract<TextStreamPart<ToolSet>, { type: 'finish-step' }>): void {
    const opened = this.openChat();
    if (!opened) return;
    const chat = opened.span;
    const input = part.usage.inputTokens ?? 0;
    const output = part.usage.outputTokens ?? 0;
    chat.setAttribute(GEN_AI.responseModel, part.response.modelId || this.model);
    chat.setAttribute(GEN_AI.inputTokens, input);
    chat.setAttribute(GEN_AI.outputTokens, output);
    chat.setAttribute(GEN_AI.responseFinishReasons, [part.finishReason]);
    chat.setAttribute(AGENTOS.costUsd, this.prices.cost(this.info.modelId, input, output));
    if (this.tracing.captureContent && this.chatText !== '') {
      chat.setAttribute(
        GEN_AI.outputMessages,
        JSON.stringify([{ role: 'assistant', parts: [{ type: 'text', content: this.chatText }] }]),
      );
    }
    chat.setStatus(OK);
    // The SDK reports a step's end after its tools ran; the model's own part ended when tools began.
    chat.end(this.toolsStartedAt ?? opened.now);
  }

  async wrapTool<T>(
    toolName: string,
    toolCallId: string,
    args: unknown,
    fn: (tracing: { withSpan: ToolSpanOpener }) => Promise<T>,
  ): Promise<T> {
    this.toolsStartedAt ??= Date.now();
    const span = this.tracing.tracer.startSpan(`execute_tool ${toolName}`, NO_OPTIONS, this.spanContext);
    span.setAttribute(GEN_AI.operationName, 'execute_tool');
    span.setAttribute(GEN_AI.toolName, toolName);
    span.setAttribute(GEN_AI.toolCallId, toolCallId);
    if (this.tracing.captureContent) span.setAttribute(GEN_AI.toolArguments, text(args));
    try {
      const toolContext = trace.setSpan(this.spanContext, span);
      const tracing: { withSpan: ToolSpanOpener } = {
        withSpan: (options, inner) =>
          withSpan(this.tracing.tracer, { ...options, parent: toolContext }, (_span, spanContext) =>
            inner(spanContext),
          ),
      };
      const result = await context.with(toolContext, () => fn(tracing));
      if (this.tracing.captureContent) span.setAttribute(GEN_AI.toolResult, text(result));
      span.setStatus(OK);
      return result;
    } catch (error) {
      recordFailure(span, error);
      this.instruments.functionErrors.inc({ function_id: toolName, error_type: errorName(error) });
      throw error;
    } finally {
      span.end();
    }
  }

  /** Closes the agent span and counts the run. Call once. */
  end(outcome: AgentRunOutcome): void {
    this.endOpenChat();
    const cost = this.prices.cost(this.info.modelId, outcome.inputTokens, outcome.outputTokens);
    this.span.setAttribute(GEN_AI.inputTokens, outcome.inputTokens);
    this.span.setAttribute(GEN_AI.outputTokens, outcome.outputTokens);
    this.span.setAttribute(AGENTOS.costUsd, cost);
    if (this.tracing.captureContent && outcome.content) this.span.setAttribute(AGENTOS.output, outcome.content);
    if (outcome.status === 'error') {
      this.span.setAttribute(ERROR_TYPE, outcome.error?.type ?? 'Error');
      this.span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.error?.message ?? 'Run failed' });
    } else {
      this.span.setStatus(OK);
    }
    this.span.end();
    const { instruments } = this;
    instruments.activeRuns.dec();
    instruments.runs.inc({ component_type: this.info.type === 'TEAM' ? 'team' : 'agent', status: outcome.status });
    instruments.tokens.inc({ model: this.info.modelId, type: 'input' }, outcome.inputTokens);
    instruments.tokens.inc({ model: this.info.modelId, type: 'output' }, outcome.outputTokens);
    if (cost > 0) instruments.cost.inc({ model: this.info.modelId }, cost);
  }
}

/** The outcome of a run from the status and patch the run manager records. */
export function runOutcome(
  status: string,
  patch: { content?: string | null | undefined; error?: string | null | undefined; metrics?: unknown },
): AgentRunOutcome {
  const metrics = (patch.metrics ?? {}) as { input_tokens?: unknown; output_tokens?: unknown };
  return {
    status,
    content: patch.content ?? undefined,
    ...(patch.error ? { error: { message: patch.error, type: 'RunError' } } : {}),
    inputTokens: typeof metrics.input_tokens === 'number' ? metrics.input_tokens : 0,
    outputTokens: typeof metrics.output_tokens === 'number' ? metrics.output_tokens : 0,
  };
}
