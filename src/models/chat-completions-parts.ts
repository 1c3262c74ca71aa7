/**
 * The body of one streamed Chat Completions call, read into the parts `@ai-sdk/openai`'s chunk mapper
 * emits (`OpenAIChatLanguageModel.doStream`, field for field): SSE lines → JSON chunks → stream parts,
 * pushed into one `ReadableStream` that pauses the socket while its reader is behind. Used by
 * `chat-completions-stream.ts`.
 * @module
 */
import type {
  LanguageModelV3FinishReason,
  LanguageModelV3StreamPart,
  LanguageModelV3Usage,
  SharedV3Warning,
} from '@ai-sdk/provider';
import { generateId, StreamingToolCallTracker } from '@ai-sdk/provider-utils';

type Chunk = Record<string, unknown>;

/**
 * The parser and mapper of one response body: SSE events → JSON chunks → stream parts, pushed into
 * one `ReadableStream`, pausing the socket while the reader is behind.
 */
export class ChatStream {
  private controller!: ReadableStreamDefaultController<LanguageModelV3StreamPart>;
  private readonly stream: ReadableStream<LanguageModelV3StreamPart>;
  /** Made on the first tool-call delta: most answers are text, and it holds four collections. */
  private tools: StreamingToolCallTracker | undefined;
  private pending = '';
  private readonly data: string[] = [];
  private released = false;
  private closed = false;
  private metadataSent = false;
  private textOpen = false;
  private refused = false;
  private rawFinishReason: string | undefined;
  /** Set by {@link fail}. */
  private errored = false;
  private usage: Chunk | undefined;
  private readonly logprobs: unknown[] = [];
  private readonly openai: Record<string, unknown> = {};

  constructor(
    warnings: SharedV3Warning[],
    private readonly body: NodeJS.ReadableStream & { destroy(error?: Error): void },
    private readonly on: {
      onOutput(stream: ReadableStream<LanguageModelV3StreamPart>): void;
      onEarlyError(frame: unknown): void;
      /** The body failed (abort, cut connection) before the stream was handed over. */
      onEarlyFailure(error: Error): void;
    },
  ) {
    this.stream = new ReadableStream<LanguageModelV3StreamPart>(
      {
        start: (controller) => {
          this.controller = controller;
        },
        pull: () => {
          this.body.resume();
        },
        cancel: () => {
          this.closed = true;
          this.body.destroy();
        },
      },
      { highWaterMark: 16 },
    );
    this.push({ type: 'stream-start', warnings });
  }

  start(): void {
    this.body.setEncoding('utf8');
    this.body.on('data', (text: string) => this.read(text));
    this.body.on('end', () => {
      this.read('\n\n');
      this.finish();
    });
    this.body.on('error', (error: Error) => {
      if (this.closed) return;
      this.closed = true;
      this.controller.error(error);
      if (this.released) return;
      this.released = true;
      this.on.onEarlyFailure(error);
    });
  }

  /** Hands the stream to the caller: at the first output, a chunk that is not JSON, or the end of the body. */
  private release(): void {
    if (this.released) return;
    this.released = true;
    this.on.onOutput(this.stream);
  }

  private push(part: LanguageModelV3StreamPart): void {
    if (this.closed) return;
    this.controller.enqueue(part);
    // Before the caller has the stream nobody reads it; the first chunks must get through.
    if (this.released && (this.controller.desiredSize ?? 1) <= 0) this.body.pause();
  }

  /** Splits SSE lines; a blank line ends an event, whose `data:` lines form the chunk. */
  private read(text: string): void {
    this.pending += text;
    let start = 0;
    for (;;) {
      const newline = this.pending.indexOf('\n', start);
      if (newline < 0) break;
      let line = this.pending.slice(start, newline);
      start = newline + 1;
      if (line.endsWith('\r')) line = line.slice(0, -1);
      if (line === '') {
        if (this.data.length > 0) {
          const event = this.data.join('\n');
          this.data.length = 0;
          this.event(event);
        }
      } else if (line.startsWith('data:')) {
        this.data.push(line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5));
      }
      // Comments (`:`), `event:`, `id:` and `retry:` lines carry nothing for Chat Completions.
    }
    this.pending = this.pending.slice(start);
  }

  private event(data: string): void {
    if (data === '[DONE]') return;
    let value: Chunk;
    try {
      const parsed: unknown = JSON.parse(data);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
      value = parsed as Chunk;
    } catch (cause) {
      // As the provider's JSON parser reports a chunk it cannot read.
      this.release();
      this.fail(new Error(`Invalid JSON in stream chunk: ${data.slice(0, 200)}`, { cause }));
      return;
    }
    if ('error' in value) {
      if (!this.released) {
        // An error before any output fails the call itself, so it can be retried like an HTTP error.
        this.closed = true;
        this.body.destroy();
        this.on.onEarlyError(value.error);
        return;
      }
      this.fail(value.error);
      return;
    }
    this.chunk(value);
  }

  /** An error part; the step's finish reason becomes `error` unless a later chunk gives one. */
  private fail(error: unknown): void {
    this.errored = true;
    this.rawFinishReason = undefined;
    this.push({ type: 'error', error });
  }

  /** The provider's chunk mapping (`OpenAIChatLanguageModel.doStream`), field for field. */
  private chunk(value: Chunk): void {
    if (!this.metadataSent) {
      const metadata = {
        id: typeof value.id === 'string' ? value.id : undefined,
        modelId: typeof value.model === 'string' ? value.model : undefined,
        timestamp: typeof value.created === 'number' && value.created ? new Date(value.created * 1000) : undefined,
      };
      if (metadata.id || metadata.modelId || metadata.timestamp) {
        this.metadataSent = true;
        this.push({ type: 'response-metadata', ...metadata });
      }
    }
    const usage = value.usage as Chunk | null | undefined;
    if (usage != null) {
      this.usage = usage;
      const details = usage.completion_tokens_details as Chunk | null | undefined;
      if (details?.accepted_prediction_tokens != null) {
        this.openai.acceptedPredictionTokens = details.accepted_prediction_tokens;
      }
      if (details?.rejected_prediction_tokens != null) {
        this.openai.rejectedPredictionTokens = details.rejected_prediction_tokens;
      }
    }
    const choice = (Array.isArray(value.choices) ? value.choices[0] : undefined) as Chunk | undefined;
    if (choice?.finish_reason != null) this.rawFinishReason = String(choice.finish_reason);
    const logprobs = choice?.logprobs as { content?: unknown[] | null; refusal?: unknown[] | null } | null | undefined;
    if (logprobs != null && (logprobs.content != null || logprobs.refusal != null)) {
      this.logprobs.push(...(logprobs.content ?? []), ...(logprobs.refusal ?? []));
    }
    const delta = choice?.delta as Chunk | null | undefined;
    if (delta == null) return;
    const texts: string[] = [];
    if (typeof delta.content === 'string' && delta.content.length > 0) texts.push(delta.content);
    if (typeof delta.refusal === 'string' && delta.refusal.length > 0) {
      this.refused = true;
      texts.push(delta.refusal);
    }
    if (texts.length === 0 && delta.content === '') texts.push('');
    const toolCalls = Array.isArray(delta.tool_calls) ? delta.tool_calls : [];
    const annotations = Array.isArray(delta.annotations) ? (delta.annotations as Chunk[]) : [];
    const output =
      (texts.length > 0 && texts.some((text) => text.length > 0)) || toolCalls.length > 0 || annotations.length > 0;
    if (output) this.release();
    for (const text of texts) {
      if (!this.textOpen) {
        this.push({ type: 'text-start', id: '0' });
        this.textOpen = true;
      }
      this.push({ type: 'text-delta', id: '0', delta: text });
    }
    if (toolCalls.length > 0) {
      this.tools ??= new StreamingToolCallTracker(
        { enqueue: (part: LanguageModelV3StreamPart) => this.push(part) } as never,
        { generateId, typeValidation: 'if-present' },
      );
      for (const toolCall of toolCalls) this.tools.processDelta(toolCall as never);
    }
    for (const annotation of annotations) {
      const citation = annotation.url_citation as { url: string; title?: string } | undefined;
      if (!citation) continue;
      this.push({
        type: 'source',
        sourceType: 'url',
        id: generateId(),
        url: citation.url,
        ...(citation.title === undefined ? {} : { title: citation.title }),
      });
    }
  }

  private finish(): void {
    if (this.closed) return;
    this.release();
    if (this.textOpen) this.push({ type: 'text-end', id: '0' });
    this.tools?.flush();
    const finishReason: LanguageModelV3FinishReason =
      this.rawFinishReason !== undefined
        ? { unified: unifiedFinishReason(this.rawFinishReason, this.refused), raw: this.rawFinishReason }
        : { unified: this.errored ? 'error' : 'other', raw: undefined };
    if (this.logprobs.length > 0) this.openai.logprobs = this.logprobs;
    this.push({
      type: 'finish',
      finishReason,
      usage: convertUsage(this.usage),
      providerMetadata: { openai: this.openai as never },
    });
    this.closed = true;
    this.controller.close();
  }
}

/** `mapOpenAIFinishReason` of the provider. */
function unifiedFinishReason(reason: string, refused: boolean): LanguageModelV3FinishReason['unified'] {
  switch (reason) {
    case 'stop':
      return refused ? 'content-filter' : 'stop';
    case 'length':
      return 'length';
    case 'content_filter':
      return 'content-filter';
    case 'function_call':
    case 'tool_calls':
      return 'tool-calls';
    default:
      return 'other';
  }
}

/** `convertOpenAIChatUsage` of the provider. */
function convertUsage(usage: Chunk | undefined): LanguageModelV3Usage {
  if (usage == null) {
    return {
      inputTokens: { total: undefined, noCache: undefined, cacheRead: undefined, cacheWrite: undefined },
      outputTokens: { total: undefined, text: undefined, reasoning: undefined },
      raw: undefined,
    };
  }
  const number = (value: unknown) => (typeof value === 'number' ? value : undefined);
  const prompt = usage.prompt_tokens_details as Chunk | null | undefined;
  const completion = usage.completion_tokens_details as Chunk | null | undefined;
  const promptTokens = number(usage.prompt_tokens) ?? 0;
  const completionTokens = number(usage.completion_tokens) ?? 0;
  const cached = number(prompt?.cached_tokens) ?? 0;
  const cacheWrite = number(prompt?.cache_write_tokens);
  const reasoning = number(completion?.reasoning_tokens) ?? 0;
  return {
    inputTokens: {
      total: promptTokens,
      noCache: promptTokens - cached - (cacheWrite ?? 0),
      cacheRead: cached,
      cacheWrite,
    },
    outputTokens: { total: completionTokens, text: Math.max(0, completionTokens - reasoning), reasoning },
    raw: usage as never,
  };
}
