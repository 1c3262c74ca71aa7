/**
 * `${VAR}` references, filled from the environment before validation. Only webhook URLs and headers and API keys
 * take them: those are the places secrets belong, and filling anywhere else would let an environment variable
 * silently change what an agent is.
 * @module
 */
import { formatPath } from './format-issues.js';

const REFERENCE_PATTERN = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** The result of {@link fillEnvReferences}: a copy of the raw config, and one issue per missing variable. */
export interface FilledConfig {
  value: unknown;
  issues: string[];
}

/**
 * Replaces `${NAME}` in `tools[].webhook.url`, `tools[].webhook.headers.*` and `auth.api_keys[]` (plain strings and
 * `.key`) with `env.NAME`; the input is not modified.
 */
export function fillEnvReferences(raw: unknown, env: Readonly<Record<string, string | undefined>>): FilledConfig {
  const issues: string[] = [];
  if (!isPlainObject(raw)) return { value: raw, issues };

  const fill = (text: string, path: PropertyKey[]): string =>
    text.replace(REFERENCE_PATTERN, (reference, name: string) => {
      const value = env[name];
      if (value === undefined) {
        issues.push(`${formatPath(path)}: environment variable ${name} is not set`);
        return reference;
      }
      return value;
    });

  const config: Record<string, unknown> = { ...raw };

  if (Array.isArray(config.tools)) {
    config.tools = config.tools.map((tool: unknown, index) => {
      if (!isPlainObject(tool) || !isPlainObject(tool.webhook)) return tool;
      const webhook: Record<string, unknown> = { ...tool.webhook };
      const path = ['tools', index, 'webhook'];
      if (typeof webhook.url === 'string') webhook.url = fill(webhook.url, [...path, 'url']);
      if (isPlainObject(webhook.headers)) {
        webhook.headers = Object.fromEntries(
          Object.entries(webhook.headers).map(([header, value]) => [
            header,
            typeof value === 'string' ? fill(value, [...path, 'headers', header]) : value,
          ]),
        );
      }
      return { ...tool, webhook };
    });
  }

  if (isPlainObject(config.auth) && Array.isArray(config.auth.api_keys)) {
    const apiKeys = config.auth.api_keys.map((entry: unknown, index) => {
      const path = ['auth', 'api_keys', index];
      if (typeof entry === 'string') return fill(entry, path);
      if (isPlainObject(entry) && typeof entry.key === 'string')
        return { ...entry, key: fill(entry.key, [...path, 'key']) };
      return entry;
    });
    config.auth = { ...config.auth, api_keys: apiKeys };
  }

  return { value: config, issues };
}

/** True for `{}`-style objects (not arrays, not class instances such as Date). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}
