/**
 * The error-code catalogue: every `AOS_*` code agentos can answer with, its HTTP status and category.
 * `docs/errors.md` lists the same codes; `codes.test.ts` keeps the two in step.
 * @module
 */

/** Whose fault an error is: `user` → 4xx, `system` → 500, `upstream` → 502. */
export type ErrorCategory = 'user' | 'system' | 'upstream';

/** One catalogue entry. */
export interface ErrorCodeInfo {
  status: number;
  category: ErrorCategory;
  /** What the code means, for docs and OpenAPI. */
  description: string;
}

export const ERROR_CODES = {
  AOS_VALIDATION: { status: 422, category: 'user', description: 'The request failed schema validation.' },
  AOS_BAD_REQUEST: { status: 400, category: 'user', description: 'The request is malformed.' },
  AOS_NOT_FOUND: { status: 404, category: 'user', description: 'No route or resource at this path.' },
  AOS_CONFLICT: { status: 409, category: 'user', description: 'The resource already exists or changed meanwhile.' },
  AOS_PAYLOAD_TOO_LARGE: {
    status: 413,
    category: 'user',
    description: 'The request body exceeds the configured limit.',
  },
  AOS_UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    category: 'user',
    description: 'The request body has a content type this route does not accept.',
  },
  AOS_AUTH_REQUIRED: { status: 401, category: 'user', description: 'No credentials were sent.' },
  AOS_AUTH_INVALID: { status: 401, category: 'user', description: 'The credentials are invalid, expired or revoked.' },
  AOS_AUTH_WORKSPACE_REQUIRED: {
    status: 400,
    category: 'user',
    description: 'Tenancy is on and the request names no workspace (X-Workspace-ID).',
  },
  AOS_AUTH_WORKSPACE_FORBIDDEN: {
    status: 403,
    category: 'user',
    description: 'The caller does not belong to the workspace named by X-Workspace-ID.',
  },
  AOS_RATE_LIMITED: {
    status: 429,
    category: 'user',
    description: 'Too many requests in this class; retry after retryAfter seconds.',
  },
  AOS_QUOTA_EXCEEDED: { status: 429, category: 'user', description: 'A token or cost budget is used up.' },
  AOS_RATE_LIMITER_UNAVAILABLE: {
    status: 503,
    category: 'system',
    description: 'The rate limiter could not decide; the request is refused rather than admitted.',
  },
  AOS_AUTH_FORBIDDEN: { status: 403, category: 'user', description: 'The caller lacks the scope this route needs.' },
  AOS_CONFIG_INVALID: { status: 500, category: 'system', description: 'The configuration file failed validation.' },
  AOS_STORE_UNAVAILABLE: { status: 503, category: 'system', description: 'The database did not answer.' },
  AOS_STORE_MIGRATION_FAILED: { status: 500, category: 'system', description: 'A schema migration failed.' },
  AOS_MODEL_UNKNOWN: { status: 400, category: 'user', description: 'The model id names no known provider.' },
  AOS_MODEL_NOT_CONFIGURED: {
    status: 400,
    category: 'user',
    description: 'The model provider needs a setting (an API key) that is not configured.',
  },
  AOS_MODEL_PROVIDER_ERROR: { status: 502, category: 'upstream', description: 'The model provider failed.' },
  AOS_RUN_NOT_FOUND: { status: 404, category: 'user', description: 'No such run (for this agent and session).' },
  AOS_RUN_INVALID_TRANSITION: {
    status: 409,
    category: 'user',
    description: 'The run is not in a state that allows this action.',
  },
  AOS_SESSION_NOT_FOUND: { status: 404, category: 'user', description: 'No such session.' },
  AOS_INTERNAL: { status: 500, category: 'system', description: 'An unexpected error; details are in the log.' },
  AOS_TOOL_INVALID_INPUT: {
    status: 400,
    category: 'user',
    description: 'A tool was called with input it cannot use (a bad expression, time zone or URL).',
  },
  AOS_TOOL_BLOCKED_HOST: {
    status: 403,
    category: 'user',
    description: 'http_request refused a private, loopback or link-local address that is not allowed.',
  },
  AOS_TOOL_FAILED: {
    status: 502,
    category: 'upstream',
    description: 'A tool failed or timed out calling out (an HTTP request, a webhook).',
  },
} as const satisfies Record<string, ErrorCodeInfo>;

/** Every known error code. */
export type ErrorCode = keyof typeof ERROR_CODES;
