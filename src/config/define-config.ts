/**
 * The helper a `agentos.config.ts` file default-exports through.
 * @module
 */
import type { AgentOsConfigInput } from './schema.js';

/**
 * Returns `config` unchanged; it exists so that a `.ts` config file gets types and completion.
 * @example
 * export default defineConfig({ agents: [{ id: 'assistant', model: 'local:default' }] });
 */
export function defineConfig(config: AgentOsConfigInput): AgentOsConfigInput {
  return config;
}
