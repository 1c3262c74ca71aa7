/**
 * The errors of a streamed Chat Completions call, built as `@ai-sdk/openai` and `@ai-sdk/provider-utils`
 * build them, so retries and messages read the same on either path. Used by `chat-completions-stream.ts`.
 * @module
 */
import { APICallError } from '@ai-sdk/provider';
import type { HttpStreamResponse } from './http-fetch.js';

/** A failed connection reads as the SDK's (`handleFetchError`): retryable, "Cannot connect to API". */
export function connectionError(error: unknown, url: string, requestBodyValues: unknown): unknown {
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
export async function httpError(
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
export function streamError(
  frame: unknown,
  url: string,
  requestBodyValues: unknown,
  responseHeaders: Record<string, string>,
) {
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
