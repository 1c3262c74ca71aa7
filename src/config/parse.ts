/**
 * Validation of a raw config object (from a file, `defineConfig()` or code) into an {@link AgentOsConfig}.
 * @module
 */
import { ConfigError } from '../errors/index.js';
import { fillEnvReferences } from './env-references.js';
import { configErrorMap, formatIssues } from './format-issues.js';
import { type AgentOsConfig, configSchema } from './schema.js';

/** Options of {@link parseConfig}. */
export interface ParseConfigOptions {
  /** Names the config in errors: a file path, or a phrase such as `built-in demo config`. */
  source: string;
  /** Fills `${VAR}` references; without it every reference is reported as missing. */
  env?: Readonly<Record<string, string | undefined>>;
}

/**
 * Fills `${VAR}` references, validates and applies defaults, throwing one {@link ConfigError} that lists every
 * problem as `<path>: <message>`.
 * @example
 * const config = parseConfig({ agents: [{ id: 'assistant' }] }, { source: 'inline', env: process.env });
 */
export function parseConfig(raw: unknown, options: ParseConfigOptions): AgentOsConfig {
  const filled = fillEnvReferences(raw, options.env ?? {});
  const result = configSchema.safeParse(filled.value, { error: configErrorMap });
  const issues = [...filled.issues, ...(result.success ? [] : formatIssues(result.error.issues))];
  if (!result.success || issues.length > 0) throw new ConfigError(issues, options.source);
  return result.data;
}
