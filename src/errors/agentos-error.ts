import { ERROR_CODES, type ErrorCategory, type ErrorCode } from './codes.js';

// A Symbol.for marker instead of instanceof, so the check holds when two copies of agentos are installed.
const marker = Symbol.for('agentos.error');

/** Options accepted by {@link AgentOsError}. */
export interface AgentOsErrorOptions {
  /** Overrides the catalogue status (e.g. 400 instead of 422 on a surface that uses 400). */
  status?: number;
  /** JSON-safe details sent to the client below 500 (validation issues, the missing scope). */
  details?: unknown;
  cause?: unknown;
}

/**
 * The one error class of agentos: a code from the catalogue, an HTTP status and a category.
 * Only `http/plugins/error-handler.ts` turns it into a response body.
 */
export class AgentOsError extends Error {
  readonly [marker] = true;
  readonly code: ErrorCode;
  readonly status: number;
  readonly category: ErrorCategory;
  readonly details?: unknown;

  constructor(code: ErrorCode, message: string, options: AgentOsErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AgentOsError';
    this.code = code;
    this.status = options.status ?? ERROR_CODES[code].status;
    this.category = ERROR_CODES[code].category;
    this.details = options.details;
  }

  /** A JSON view for logs; never includes the cause chain. */
  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, status: this.status, message: this.message, details: this.details };
  }
}

/** True for any {@link AgentOsError}, across package copies. */
export function isAgentOsError(value: unknown): value is AgentOsError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[marker] === true;
}

/** A resource or route that does not exist. */
export class NotFoundError extends AgentOsError {
  constructor(message: string, details?: unknown) {
    super('AOS_NOT_FOUND', message, { details });
    this.name = 'NotFoundError';
  }
}

/** A create that collides with an existing row, or an update that lost a race. */
export class ConflictError extends AgentOsError {
  constructor(message: string, details?: unknown) {
    super('AOS_CONFLICT', message, { details });
    this.name = 'ConflictError';
  }
}

/** A configuration file (or override) that failed validation; `issues` name each bad path. */
export class ConfigError extends AgentOsError {
  readonly issues: readonly string[];
  constructor(issues: readonly string[], source: string) {
    super('AOS_CONFIG_INVALID', `Invalid configuration (${source}):\n  ${issues.join('\n  ')}`, {
      details: { issues, source },
    });
    this.name = 'ConfigError';
    this.issues = issues;
  }
}
