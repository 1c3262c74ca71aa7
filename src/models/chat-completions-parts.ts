/**
 * The body of one streamed Chat Completions call, read into the parts `@ai-sdk/openai`'s chunk mapper
 * emits (`OpenAIChatLanguageModel.doStream`, field for field): SSE lines → JSON chunks → stream parts,
 * queued for one reader that pauses the socket while it is behind. Used by `chat-completions-stream.ts`.
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
type Part = LanguageModelV3StreamPart;
type ReadResult = Awaited<ReturnType<ReadableStreamDefaultReader<Part>['read']>>;

/** The members of a web stream reader that agentos's model loop uses; {@link ChatStream} is one without the web stream. */
export type PartReader = Pick<ReadableStreamDefaultReader<Part>, 'read' | 'cancel' | 'releaseLock'>;

/** Parts queued ahead of the reader before the socket is paused (the web stream's high-water mark it replaced). */
const HIGH_WATER_MARK = 16;

/**
 * The parser and mapper of one response body: SSE events → JSON chunks → stream parts, queued for one
 * reader, pausing the socket while the reader is behind. It is its own reader ({@link PartReader}):
 * a web `ReadableStream` (with its controller, state, promises and, on Node 20, transferable wrapper)
 * held about 2 KB per open call, so one is made only for a caller that asks for `stream` ({@link webStream}).
 */
export class ChatStream implements PartReader {
  private readonly queue: Part[] = [];
  /** The reader's pending `read()`, when the queue was empty. */
  private waiting: { resolve(result: ReadResult): void; reject(error: Error): void } | undefined;
  /** The body failed (abort, cut connection): reads reject with it, as a web stream's do once errored. */
  private failure: Error | undefined;
  private ended = false;
  private paused = false;
  private web: ReadableStream<Part> | undefined;
  /** Made on the first tool-call delta: most answers are text, and it holds four collections. */
  private tools: StreamingToolCallTracker | undefined;
  /** Bytes after the last newline so far: a line, maybe a character, cut by the network. */
  private partialLine: Buffer | undefined;
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
    /**
     * Until the stream is handed over (or fails first); dropped then, with the request body, URL and
     * headers its callbacks hold for the call's errors, so an open stream does not keep them.
     */
    private on:
      | {
          /** The first output (or the end) arrived: the call resolves with this stream. */
          onOutput(): void;
          onEarlyError(frame: unknown): void;
          /** The body failed (abort, cut connection) before the stream was handed over. */
          onEarlyFailure(error: Error): void;
        }
      | undefined,
  ) {
    this.push({ type: 'stream-start', warnings });
  }

  read(): Promise<ReadResult> {
    const part = this.queue.shift();
    if (part !== undefined) {
      if (this.paused && this.queue.length < HIGH_WATER_MARK) this.resume();
      return Promise.resolve({ done: false, value: part });
    }
    if (this.failure) return Promise.reject(this.failure);
    if (this.ended) return Promise.resolve({ done: true, value: undefined });
    if (this.paused) this.resume();
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
  }

  /** Stops the call: the socket is destroyed, a pending read ends. */
  cancel(): Promise<void> {
    this.queue.length = 0;
    this.end();
    this.body.destroy();
    return Promise.resolve();
  }

  releaseLock(): void {}

  /** The parts as a web stream, for a caller of `doStream` that reads `stream` (made once, on first use). */
  webStream(): ReadableStream<Part> {
    this.web ??= new ReadableStream<Part>(
      {
        pull: async (controller) => {
          const result = await this.read();
          if (result.done) controller.close();
          else controller.enqueue(result.value);
        },
        cancel: () => this.cancel(),
      },
      { highWaterMark: 0 },
    );
    return this.web;
  }

  start(): void {
    this.body.on('data', (bytes: Buffer) => this.readBytes(bytes));
    this.body.on('end', () => {
      // The last line may lack its newline; a blank line then ends the last event.
      this.readText(`${this.partialLine?.toString('utf8') ?? ''}\n\n`);
      this.finish();
    });
    this.body.on('error', (error: Error) => {
      if (this.closed) return;
      this.closed = true;
      this.failure = error;
      this.queue.length = 0;
      this.takeWaiting()?.reject(error);
      if (this.released) return;
      this.released = true;
      this.takeCallbacks()?.onEarlyFailure(error);
    });
  }

  /** Hands the stream to the caller: at the first output, a chunk that is not JSON, or the end of the body. */
  private release(): void {
    if (this.released) return;
    this.released = true;
    this.takeCallbacks()?.onOutput();
  }

  /** The caller's callbacks, once: whichever of them is called, none is needed after. */
  private takeCallbacks() {
    const on = this.on;
    this.on = undefined;
    return on;
  }

  private push(part: Part): void {
    if (this.closed) return;
    const waiting = this.takeWaiting();
    if (waiting) {
      waiting.resolve({ done: false, value: part });
      return;
    }
    this.queue.push(part);
    // Before the caller has the stream nobody reads it; the first chunks must get through.
    if (this.released && this.queue.length >= HIGH_WATER_MARK && !this.paused) {
      this.paused = true;
      this.body.pause();
    }
  }

  private resume(): void {
    this.paused = false;
    if (!this.closed) this.body.resume();
  }

  /** No more parts: a pending read ends (queued parts are still read first). */
  private end(): void {
    this.closed = true;
    this.ended = true;
    this.takeWaiting()?.resolve({ done: true, value: undefined });
  }

  /** The reader's pending read, once: each is answered by one part, the end or the failure. */
  private takeWaiting() {
    const waiting = this.waiting;
    this.waiting = undefined;
    return waiting;
  }

  /**
   * Decodes whole lines only. A newline byte is never part of a multi-byte UTF-8 character, so text up to
   * the last one decodes alone; the rest waits for the next bytes. (A string decoder on the body does the
   * same at about 0.3 KB of heap per open call.)
   */
  private readBytes(bytes: Buffer): void {
    const last = bytes.lastIndexOf(10);
    if (last < 0) {
      this.partialLine = this.partialLine ? Buffer.concat([this.partialLine, bytes]) : Buffer.from(bytes);
      return;
    }
    const lines = bytes.subarray(0, last + 1);
    const text = this.partialLine ? Buffer.concat([this.partialLine, lines]).toString('utf8') : lines.toString('utf8');
    // A copy: a slice would keep the whole chunk the socket read alive.
    this.partialLine = last + 1 < bytes.length ? Buffer.from(bytes.subarray(last + 1)) : undefined;
    this.readText(text);
  }

  /** Splits SSE lines (`text` ends with a newline); a blank line ends an event, whose `data:` lines form the chunk. */
  private readText(text: string): void {
    let start = 0;
    for (;;) {
      const newline = text.indexOf('\n', start);
      if (newline < 0) return;
      let line = text.slice(start, newline);
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
        this.takeCallbacks()?.onEarlyError(value.error);
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
    this.end();
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
