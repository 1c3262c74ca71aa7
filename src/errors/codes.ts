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
  AOS_WORKFLOW_FAILED: {
    status: 400,
    category: 'user',
    description: 'A workflow run ended in error (agtOS `POST /api/workflows/{id}/execute`).',
  },
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
  AOS_METHOD_NOT_ALLOWED: {
    status: 405,
    category: 'user',
    description: 'The path exists but not with this method (`GET`/`DELETE /mcp` in stateless mode).',
  },
  AOS_NOT_ACCEPTABLE: {
    status: 406,
    category: 'user',
    description: 'The `Accept` header rules out every response type the route sends (`/mcp` needs JSON and SSE).',
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
  AOS_AGENT_INVALID_TRANSITION: {
    status: 400,
    category: 'user',
    description: 'The agent status cannot move this way (active ↔ idle ↔ failed; deleted is final).',
  },
  AOS_PLUGINS_NOT_ENABLED: {
    status: 400,
    category: 'user',
    description: 'Plugins assigned to an agent must first be enabled for the workspace; the message lists the others.',
  },
  AOS_RUN_INVALID_TRANSITION: {
    status: 409,
    category: 'user',
    description: 'The run is not in a state that allows this action.',
  },
  AOS_SESSION_NOT_FOUND: { status: 404, category: 'user', description: 'No such session.' },
  AOS_SCHEDULE_NOT_FOUND: { status: 404, category: 'user', description: 'No such schedule (or schedule run).' },
  AOS_SCHEDULE_BUSY: {
    status: 409,
    category: 'user',
    description: 'A firing of this schedule is in progress (it holds the lease).',
  },
  AOS_SCHEDULE_DISABLED: { status: 409, category: 'user', description: 'The schedule is disabled or finished.' },
  AOS_SCHEDULER_UNAVAILABLE: {
    status: 503,
    category: 'system',
    description: 'The scheduler is switched off (schedules.enabled: false).',
  },
  AOS_VOICE_UNAVAILABLE: {
    status: 503,
    category: 'system',
    description: 'Voice is disabled or a speech engine is missing (see GET /api/voice/status).',
  },
  AOS_EVENT_NOT_FOUND: { status: 404, category: 'user', description: 'No such event-bus event.' },
  AOS_MEMORY_NOT_FOUND: { status: 404, category: 'user', description: 'No such memory (of this user).' },
  AOS_KNOWLEDGE_NOT_FOUND: { status: 404, category: 'user', description: 'No such knowledge base in the config.' },
  AOS_KNOWLEDGE_CONTENT_NOT_FOUND: {
    status: 404,
    category: 'user',
    description: 'No such knowledge content in this workspace.',
  },
  AOS_KNOWLEDGE_UNREADABLE: {
    status: 422,
    category: 'user',
    description: 'Knowledge content could not be read (a malformed PDF, invalid JSON or CSV, no content).',
  },
  AOS_TRACE_NOT_FOUND: { status: 404, category: 'user', description: 'No such trace (or span) in this workspace.' },
  AOS_EVAL_NOT_FOUND: { status: 404, category: 'user', description: 'No such eval run.' },
  AOS_EVAL_JUDGE_FAILED: {
    status: 502,
    category: 'upstream',
    description: 'The judge model of an eval did not answer with a usable verdict.',
  },
  AOS_APPROVAL_NOT_FOUND: { status: 404, category: 'user', description: 'No such approval.' },
  AOS_SERVICE_ACCOUNT_NOT_FOUND: {
    status: 404,
    category: 'user',
    description: 'No such active service account (or token) in this workspace.',
  },
  AOS_SCOPE_ESCALATION: {
    status: 403,
    category: 'user',
    description: 'A role or scope the caller does not hold itself cannot be granted.',
  },
  AOS_APPROVAL_RESOLVED: {
    status: 409,
    category: 'user',
    description: 'The approval is no longer pending (already resolved, expired or cancelled).',
  },
  AOS_APPROVAL_PENDING: {
    status: 403,
    category: 'user',
    description: 'The paused run needs an approver: continue is refused until its approval is resolved.',
  },
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
