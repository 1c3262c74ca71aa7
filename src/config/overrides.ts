/**
 * Environment variables and CLI flags laid over the raw config before validation, so a bad value is reported at
 * the config path it lands on (`server.port: …` for a bad `AGENTOS_PORT`).
 * @module
 */
import { isPlainObject } from './env-references.js';

/** Values from CLI flags (`--host`, `--port`, `--db`); they beat both the file and the environment. */
export interface ConfigOverrides {
  host?: string;
  port?: number;
  dbUrl?: string;
}

/** The environment variables {@link applyOverrides} reads, and the config path each one sets. */
export const ENV_OVERRIDES = {
  AGENTOS_HOST: 'server.host',
  AGENTOS_PORT: 'server.port',
  AGENTOS_DB_URL: 'database.url',
  AGENTOS_LOG_LEVEL: 'log_level',
  AGENTOS_API_KEY: 'auth.api_keys[]',
  AGENTOS_JWT_SECRET: 'auth.jwt.secret',
  AGENTOS_JWT_PUBLIC_KEY: 'auth.jwt.public_key',
} as const;

/** The name given to the API key that `AGENTOS_API_KEY` adds. */
export const ENV_API_KEY_NAME = 'AGENTOS_API_KEY';

/**
 * Returns a copy of `raw` with the environment overrides and then `overrides` applied; a raw value that is not an
 * object is returned as it is, for validation to report.
 */
export function applyOverrides(
  raw: unknown,
  env: Readonly<Record<string, string | undefined>>,
  overrides: ConfigOverrides = {},
): unknown {
  if (!isPlainObject(raw)) return raw;
  // An empty variable counts as unset: compose files and CI templates often define every name, most of them empty.
  const read = (name: keyof typeof ENV_OVERRIDES): string | undefined => {
    const value = env[name];
    return value === undefined || value === '' ? undefined : value;
  };

  let config: Record<string, unknown> = { ...raw };
  const host = overrides.host ?? read('AGENTOS_HOST');
  const port = overrides.port ?? portFromEnv(read('AGENTOS_PORT'));
  const dbUrl = overrides.dbUrl ?? read('AGENTOS_DB_URL');
  const logLevel = read('AGENTOS_LOG_LEVEL');
  const apiKey = read('AGENTOS_API_KEY');
  const jwtSecret = read('AGENTOS_JWT_SECRET');
  const jwtPublicKey = read('AGENTOS_JWT_PUBLIC_KEY');

  if (host !== undefined) config = withSection(config, 'server', { host });
  if (port !== undefined) config = withSection(config, 'server', { port });
  if (dbUrl !== undefined) config = withSection(config, 'database', { url: dbUrl });
  if (logLevel !== undefined) config.log_level = logLevel;
  if (apiKey !== undefined) {
    const entry = { name: ENV_API_KEY_NAME, key: apiKey, scopes: ['admin'] };
    const auth = config.auth ?? {};
    if (isPlainObject(auth)) {
      const apiKeys = auth.api_keys ?? [];
      if (Array.isArray(apiKeys)) config.auth = { ...auth, api_keys: [...apiKeys, entry] };
    }
  }
  if (jwtSecret !== undefined || jwtPublicKey !== undefined) {
    const auth = config.auth ?? {};
    if (isPlainObject(auth)) {
      config.auth = withSection(auth, 'jwt', {
        ...(jwtSecret === undefined ? {} : { secret: jwtSecret }),
        ...(jwtPublicKey === undefined ? {} : { public_key: jwtPublicKey }),
      });
    }
  }
  return config;
}

// A non-numeric value passes through as a string so that validation names it at `server.port`.
function portFromEnv(value: string | undefined): number | string | undefined {
  if (value === undefined) return undefined;
  return /^\s*\d+\s*$/.test(value) ? Number(value) : value;
}

// Merges `patch` into `config[key]`; a section of the wrong type is left for validation to report.
function withSection(
  config: Record<string, unknown>,
  key: string,
  patch: Record<string, unknown>,
): Record<string, unknown> {
  const section = config[key] ?? {};
  if (!isPlainObject(section)) return config;
  return { ...config, [key]: { ...section, ...patch } };
}
