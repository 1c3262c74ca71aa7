/**
 * agentos as a library: the same server the CLI starts, with its config helpers, store and errors.
 * The agent, team and workflow classes of CONTRACT.md §7 arrive with the runtime.
 * @module
 */
export { type BuildAppOptions, buildApp } from './app.js';
export { type AuthMode, generateApiKey, hashApiKey, type Principal } from './auth/index.js';
export { type AgentOsConfig, type AgentOsConfigInput, defineConfig, loadConfig, parseConfig } from './config/index.js';
export { AgentOsError, type ErrorCode, isAgentOsError } from './errors/index.js';
export { createLogger, type Logger } from './logging/logger.js';
export { type RunningServer, type StartServerOptions, startServer } from './main.js';
export { type CreateServicesOptions, createServices, type Services } from './services.js';
export type { Store } from './store/index.js';
export { VERSION } from './version.js';
