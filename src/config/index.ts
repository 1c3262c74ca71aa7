/**
 * Configuration: the zod schema of `agentos.config.{ts,yaml,json}`, discovery and loading with environment and CLI
 * overrides, the built-in demo config and the `agentos init` starter file.
 * @module
 */
export { parseByteSize } from './byte-size.js';
export { defineConfig } from './define-config.js';
export { DEMO_CONFIG, DEMO_CONFIG_SOURCE } from './demo.js';
export { formatPath } from './format-issues.js';
export {
  CONFIG_FILE_NAMES,
  findConfigFile,
  type LoadConfigOptions,
  type LoadedConfig,
  loadConfig,
  readConfigFile,
} from './load.js';
export { applyOverrides, type ConfigOverrides, ENV_API_KEY_NAME, ENV_OVERRIDES } from './overrides.js';
export { type ParseConfigOptions, parseConfig } from './parse.js';
export {
  DEFAULT_RATE_LIMITS,
  parseRateLimit,
  RATE_LIMIT_CLASSES,
  type RateLimitClass,
  type RateLimitRule,
} from './rate-limit.js';
export {
  type AgentConfig,
  type AgentOsConfig,
  type AgentOsConfigInput,
  type AgentToolConfig,
  type ApiKeyConfig,
  type AuthConfig,
  BUILTIN_TOOL_NAMES,
  type BuiltinToolName,
  configSchema,
  DEFAULT_DATABASE_URL,
  ID_PATTERN,
  idSchema,
  JWT_ALGORITHMS,
  type JwtConfig,
  KNOWN_PROVIDERS,
  type KnowledgeConfig,
  LOCAL_MODEL_ID,
  LOG_LEVELS,
  type LogLevel,
  type ModelProvider,
  modelIdSchema,
  parseModelId,
  type RateLimitConfig,
  type ServerConfig,
  TEAM_MODES,
  type TeamConfig,
  TOOL_NAME_PATTERN,
  type ToolConfig,
  type WorkflowConfig,
  type WorkflowStepConfig,
} from './schema.js';
export {
  STARTER_CONFIG_FILE_NAME,
  STARTER_CONFIG_YAML,
  type WriteStarterConfigOptions,
  writeStarterConfig,
} from './starter.js';
