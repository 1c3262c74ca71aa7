/**
 * Streaming Chat Completions calls without a web-stream pipeline per call (issue 4: heap per open
 * streaming run).
 *
 * `@ai-sdk/openai`'s `doStream` passes the response through a text decoder, an SSE parser, a JSON
 * parser, a tee (for errors before any output) and its chunk mapper, each a web stream: on Node 20
 * about 75 KB of heap per open call, against about 11 KB for the node:http response and one stream
 * (`bench/runs/provider-floor.ts`). With a thousand streams open that is most of the server's heap.
 *
 * The wrapper keeps the provider for everything but the transport of a streamed answer: the request
 * is the one the provider builds (its own `getArgs`, URL and headers, so settings, tools and provider
 * options mean the same), sent over agentos's node:http client; the body is parsed here line by line
 * into the parts the provider's mapper emits (same order, same fields; tool calls through the AI SDK's
 * own `StreamingToolCallTracker`), and errors are the SDK's `APICallError`s, raised at the same points.
 * It falls back to the provider's `doStream` when that provider does not have the members it relies on
 * (another SDK version: `chat-completions-stream.test.ts` notices) or raw chunks are asked for.
 * @module
 */
import type {
  LanguageModelV3,
  LanguageModelV3CallOptions,
  LanguageModelV3FinishReason,
  LanguageModelV3StreamPart,
  LanguageModelV3Usage,
  SharedV3Warning,
} from '@ai-sdk/provider';
import { APICallError } from '@ai-sdk/provider';
import {
  combineHeaders,
  generateId,
  getRuntimeEnvironmentUserAgent,
  StreamingToolCallTracker,
  VERSION,
  withUserAgentSuffix,
} from '@ai-sdk/provider-utils';
import type { HttpFetch, HttpStreamResponse } from './http-fetch.js';

/** The members of `@ai-sdk/openai`'s Chat Completions model this wrapper calls. */
interface ChatModelInternals {
  modelId: string;
  getArgs(options: LanguageModelV3CallOptions): Promise<{ args: Record<string, unknown>; warnings: SharedV3Warning[] }>;
  config: { url(options: { path: string; modelId: string }): string; headers(): Record<string, string | undefined> };
}

function internalsOf(model: LanguageModelV3): ChatModelInternals | undefined {
  const candidate = model as unknown as Partial<ChatModelInternals>;
  return typeof candidate.getArgs === 'function' &&
    typeof candidate.config?.url === 'function' &&
    typeof candidate.config?.headers === 'function'
    ? (candidate as ChatModelInternals)
    : undefined;
}

/** Whether {@link withLeanStreaming} can stream `model` itself. */
export function canStreamLean(model: LanguageModelV3): boolean {
  return internalsOf(model) !== undefined;
}

/**
 * `model` with `doStream` answered over `http` (see the module comment); every other member is the
 * model's own, inherited, so code that reads the provider's settings (the provider health probe) sees
 * them as before.
 */
export function withLeanStreaming(model: LanguageModelV3, http: HttpFetch): LanguageModelV3 {
  const internals = internalsOf(model);
  if (!internals) return model;
  const lean = Object.create(model) as LanguageModelV3;
  Object.defineProperty(lean, 'doStream', {
    value: (options: LanguageModelV3CallOptions) =>
      options.includeRawChunks ? model.doStream(options) : streamChat(internals, options, http),
  });
  return lean;
}

type Chunk = Record<string, unknown>;

/** One streamed call. Resolves once the first output arrives, as the provider's does. */
async function streamChat(
  model: ChatModelInternals,
  options: LanguageModelV3CallOptions,
  http: HttpFetch,
): Promise<{
  stream: ReadableStream<LanguageModelV3StreamPart>;
  request: { body: unknown };
  response: { headers: Record<string, string> };
}> {
  const { args, warnings } = await model.getArgs(options);
  const body = { ...args, stream: true, stream_options: { include_usage: true } };
  const url = model.config.url({ path: '/chat/completions', modelId: model.modelId });
  // As the provider's `postJsonToApi` sends them, user agent included.
  const headers = withUserAgentSuffix(
    { ...combineHeaders(model.config.headers(), options.headers), 'Content-Type': 'application/json' },
    `ai-sdk/provider-utils/${VERSION}`,
    getRuntimeEnvironmentUserAgent(),
  );
  let answer: HttpStreamResponse;
  try {
    answer = await http.stream(new URL(url), {
      method: 'POST',
      headers,
      body: JSON.stringify(body),
      ...(options.abortSignal ? { signal: options.abortSignal } : {}),
    });
  } catch (error) {
    throw connectionError(error, url, body);
  }
  const responseHeaders = answer.headers;
  if (answer.status < 200 || answer.status > 299) {
    throw await httpError(answer, url, body, responseHeaders);
  }
  return new Promise((resolve, reject) => {
    const call = new ChatStream(warnings, answer.body, {
      onOutput: (stream) => resolve({ stream, request: { body }, response: { headers: responseHeaders } }),
      onEarlyError: (frame) => reject(streamError(frame, url, body, responseHeaders)),
      onEarlyFailure: reject,
    });
    call.start();
  });
}

/**
 * The parser and mapper of one response body: SSE events → JSON chunks → stream parts, pushed into
 * one `ReadableStream`, pausing the socket while the reader is behind.
 */
class ChatStream {
  private controller!: ReadableStreamDefaultController<LanguageModelV3StreamPart>;
  private readonly stream: ReadableStream<LanguageModelV3StreamPart>;
  /** Made on the first tool-call delta: most answers are text, and it holds four collections. */
  private tools: StreamingToolCallTracker | undefined;
  private pending = '';
  private data: string[] = [];
  private released = false;
  private closed = false;
  private metadataSent = false;
  private textOpen = false;
  private refused = false;
  private rawFinishReason: string | undefined;
  /** An error part makes the step's finish reason `error`, unless a later chunk gives one. */
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

  /** Hands the stream to the caller: on the first output, an error frame after output, or the end. */
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
          this.data = [];
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
      // As the provider's JSON parser reports a chunk it cannot read: an error part, the step ends in error.
      this.errored = true;
      this.rawFinishReason = undefined;
      this.release();
      this.push({ type: 'error', error: new Error(`Invalid JSON in stream chunk: ${data.slice(0, 200)}`, { cause }) });
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
      this.errored = true;
      this.rawFinishReason = undefined;
      this.push({ type: 'error', error: value.error });
      return;
    }
    this.chunk(value);
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

/** A failed connection reads as the SDK's (`handleFetchError`): retryable, "Cannot connect to API". */
function connectionError(error: unknown, url: string, requestBodyValues: unknown): unknown {
  if (error instanceof TypeError && error.message === 'fetch failed' && error.cause instanceof Error) {
    return new APICallError({
      message: `Cannot connect to API: ${error.cause.message}`,
      cause: error.cause,
      url,
      requestBodyValues,
      isRetryable: true,
    });
  }
  return error;
}

/** A non-2xx answer as the provider's failed-response handler reports it (message from `error.message`). */
async function httpError(
  answer: HttpStreamResponse,
  url: string,
  requestBodyValues: unknown,
  responseHeaders: Record<string, string>,
): Promise<APICallError> {
  let responseBody = '';
  answer.body.setEncoding('utf8');
  for await (const text of answer.body) responseBody += text as string;
  let message = answer.statusText;
  let data: unknown;
  try {
    const parsed = JSON.parse(responseBody) as { error?: { message?: unknown } };
    if (typeof parsed?.error?.message === 'string') {
      message = parsed.error.message;
      data = parsed;
    }
  } catch {
    // Not JSON: the status text, as the provider does.
  }
  return new APICallError({
    message,
    url,
    requestBodyValues,
    statusCode: answer.status,
    responseHeaders,
    responseBody,
    ...(data === undefined ? {} : { data }),
  });
}

/** An error frame before any output, as the provider's `createOpenAIStreamError` reports it. */
function streamError(frame: unknown, url: string, requestBodyValues: unknown, responseHeaders: Record<string, string>) {
  const error = (typeof frame === 'object' && frame !== null ? frame : {}) as Record<string, unknown>;
  const readable =
    typeof error.message === 'string' &&
    (typeof error.type === 'string' || 'code' in error || 'param' in error || 'error' in error);
  const statusCode = readable ? statusOf(error.code, error.type) : 500;
  const quota = error.code === 'insufficient_quota' || error.type === 'insufficient_quota';
  return new APICallError({
    message: readable ? (error.message as string) : 'OpenAI stream failed before any output was generated',
    url,
    requestBodyValues,
    statusCode,
    responseHeaders,
    responseBody: JSON.stringify(frame),
    data: frame,
    isRetryable: !quota && (statusCode === 408 || statusCode === 409 || statusCode === 429 || statusCode >= 500),
  });
}

/** The provider's `getStatusCode`: a numeric code, else one read from the code and type. */
function statusOf(code: unknown, type: unknown): number {
  const numeric = typeof code === 'number' ? code : typeof code === 'string' && /^\d{3}$/.test(code) ? Number(code) : 0;
  if (numeric >= 400 && numeric <= 599) return numeric;
  const words = [code, type]
    .filter((value) => typeof value === 'string' || typeof value === 'number')
    .join(' ')
    .toLowerCase();
  if (words.includes('insufficient_quota') || words.includes('rate_limit')) return 429;
  if (words.includes('authentication')) return 401;
  if (words.includes('permission')) return 403;
  if (words.includes('not_found')) return 404;
  if (['invalid', 'bad_request', 'context_length'].some((term) => words.includes(term))) return 400;
  if (words.includes('overload')) return 503;
  if (words.includes('timeout')) return 504;
  return 500;
}
