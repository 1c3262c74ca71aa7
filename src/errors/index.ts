/**
 * Typed errors with codes. Leaf room: imports nothing from the rest of src/.
 * @module
 */
export {
  AgentOsError,
  type AgentOsErrorOptions,
  ConfigError,
  ConflictError,
  isAgentOsError,
  NotFoundError,
} from './agentos-error.js';
export { ERROR_CODES, type ErrorCategory, type ErrorCode, type ErrorCodeInfo } from './codes.js';
