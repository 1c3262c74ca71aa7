/**
 * The API surfaces agentos serves and the error body each speaks (CONTRACT.md §3). Only the error
 * handler uses these formatters, so a surface's error shape is defined in exactly one place.
 * @module
 */
import type { ErrorCode } from '../errors/index.js';

/** `root` = Agno-style paths, `openai` = `/v1`, `api` = iii / agtOS / Automatos under `/api`. */
export type Surface = 'root' | 'openai' | 'api';

/** A validation problem, in the Agno/FastAPI shape the root surface returns under `detail`. */
export interface ValidationIssue {
  loc: (string | number)[];
  msg: string;
  type: string;
}

/** Everything a formatter may put in a body. */
export interface ErrorDescription {
  status: number;
  code: ErrorCode;
  message: string;
  requestId: string;
  issues?: ValidationIssue[];
  /** Seconds until a rate-limited caller may retry. */
  retryAfter?: number;
}

/** OpenAI's `error.type` values, picked by status. */
function openAiType(description: ErrorDescription): string {
  // OpenAI clients tell a used-up budget (no retry today) from a rate limit (retry soon) by this type.
  if (description.code === 'AOS_QUOTA_EXCEEDED') return 'insufficient_quota';
  if (description.status === 429) return 'rate_limit_exceeded';
  if (description.status === 401) return 'authentication_error';
  if (description.status === 403) return 'permission_error';
  if (description.status === 404) return 'not_found_error';
  if (description.status >= 500) return 'server_error';
  return 'invalid_request_error';
}

/** Builds the error body of a surface. */
export function formatErrorBody(surface: Surface, description: ErrorDescription): Record<string, unknown> {
  const { code, message, requestId, issues, retryAfter } = description;
  switch (surface) {
    case 'root':
      // FastAPI puts validation issues themselves under `detail`; other errors carry a string.
      return {
        detail: issues ?? message,
        code,
        request_id: requestId,
        ...(retryAfter === undefined ? {} : { retryAfter }),
      };
    case 'openai':
      return {
        error: {
          message: issues
            ? `${message}: ${issues.map((issue) => `${issue.loc.join('.')}: ${issue.msg}`).join('; ')}`
            : message,
          type: openAiType(description),
          code,
          param: issues?.[0]?.loc.slice(1).join('.') ?? null,
        },
      };
    case 'api':
      return {
        error: message,
        code,
        request_id: requestId,
        ...(issues
          ? { message: issues.map((issue) => `${issue.loc.join('.')}: ${issue.msg}`).join('; '), issues }
          : {}),
        ...(retryAfter === undefined ? {} : { retryAfter }),
      };
  }
}

/** Validation failures are 422 on the root surface (FastAPI) and 400 elsewhere (OpenAI, iii, agtOS). */
export function validationStatus(surface: Surface): number {
  return surface === 'root' ? 422 : 400;
}
