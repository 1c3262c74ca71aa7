/**
 * Streaming Chat Completions calls without a web-stream pipeline per call (issue 4: heap per open
 * streaming run).
 *
 * `@ai-sdk/openai`'s `doStream` passes the response through a text decoder, an SSE parser, a JSON
 * parser, a tee (for errors before any output) and its chunk mapper, each a web stream: on Node 20
 * about 75 KB of heap per open call, against about 11 KB for the node:http response and one stream
 * (`bench/runs/provider-floor.ts`). With a thousand streams open that is most of the server's heap.
 * Decision record: docs/decisions/2026-11-23-lean-openai-streams.md.
 *
 * The wrapper keeps the provider for everything but the transport of a streamed answer: the request
 * is the one the provider builds (its own `getArgs`, URL and headers, so settings, tools and provider
 * options mean the same), sent over agentos's node:http client; the body is parsed here line by line
 * into the parts the provider's mapper emits (`chat-completions-parts.ts`), and errors are the SDK's
 * `APICallError`s, raised at the same points (`chat-completions-errors.ts`).
 * It falls back to the provider's `doStream` when that provider does not have the members it relies on
 * (another SDK version: `chat-completions-stream.test.ts` notices) or raw chunks are asked for.
 * @module
 */
import type {
  LanguageModelV3,
  LanguageModelV3CallOptions,
  LanguageModelV3StreamPart,
  SharedV3Warning,
} from '@ai-sdk/provider';
import { combineHeaders, getRuntimeEnvironmentUserAgent, VERSION, withUserAgentSuffix } from '@ai-sdk/provider-utils';
import { connectionError, httpError, streamError } from './chat-completions-errors.js';
import { ChatStream, type PartReader } from './chat-completions-parts.js';
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

/** What `doStream` resolves with here: the provider's result, plus the parts' own reader ({@link partReaderOf}). */
interface LeanStreamResult {
  /** A web stream over the parts, made when first read (see {@link ChatStream}). */
  readonly stream: ReadableStream<LanguageModelV3StreamPart>;
  request: { body: unknown };
  response: { headers: Record<string, string> };
  [PART_READER]: PartReader;
}

const PART_READER = Symbol('agentos.partReader');

/**
 * The reader of a `doStream` result: the lean stream's own queue when it is one of {@link withLeanStreaming}'s
 * (no web stream is made), else a reader of its web stream. Read it or its `stream`, not both.
 */
export function partReaderOf(result: { stream: ReadableStream<LanguageModelV3StreamPart> }): PartReader {
  return (result as Partial<LeanStreamResult>)[PART_READER] ?? result.stream.getReader();
}

/** One streamed call. Resolves once the first output arrives, as the provider's does. */
async function streamChat(
  model: ChatModelInternals,
  options: LanguageModelV3CallOptions,
  http: HttpFetch,
): Promise<LeanStreamResult> {
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
    const call: ChatStream = new ChatStream(warnings, answer.body, {
      onOutput: () =>
        resolve({
          get stream() {
            return call.webStream();
          },
          request: { body },
          response: { headers: responseHeaders },
          [PART_READER]: call,
        }),
      onEarlyError: (frame) => reject(streamError(frame, url, body, responseHeaders)),
      onEarlyFailure: reject,
    });
    call.start();
  });
}
