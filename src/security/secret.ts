/**
 * The server secret that keys the audit chain's HMAC: `AGENTOS_SECRET`, else a random 32 bytes kept in
 * `<folder of the SQLite file, or ./.agentos>/secret` (mode 0600, created once, shared by the CLI and the
 * server). An in-memory database gets an in-memory secret: its audit log dies with the process anyway.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { AgentOsError } from '../errors/index.js';
import { sqlitePathFromUrl } from '../store/index.js';

/** The environment variable that supplies the secret. */
export const SECRET_ENV = 'AGENTOS_SECRET';

/** Name of the generated secret file. */
export const SECRET_FILE = 'secret';

/** Options of {@link resolveServerSecret}. */
export interface ServerSecretOptions {
  /** Where `AGENTOS_SECRET` is read from (the process environment, or a test's). */
  env?: { readonly AGENTOS_SECRET?: string | undefined };
  /** `database.url`; a `sqlite:` file puts the secret beside it. */
  databaseUrl: string;
  cwd?: string;
}

/** Where the secret file lives for this database, or null for an in-memory database. */
export function secretFilePath(databaseUrl: string, cwd: string = process.cwd()): string | null {
  if (databaseUrl.startsWith('sqlite:')) {
    const path = sqlitePathFromUrl(databaseUrl, cwd);
    return path === ':memory:' ? null : resolve(dirname(path), SECRET_FILE);
  }
  return resolve(cwd, '.agentos', SECRET_FILE);
}

const HEX_SECRET = /^[0-9a-f]{64}$/;

/** Returns the server secret, creating the secret file on first use. */
export function resolveServerSecret(options: ServerSecretOptions): Buffer {
  const fromEnv = options.env?.AGENTOS_SECRET;
  if (fromEnv !== undefined && fromEnv !== '') return Buffer.from(fromEnv, 'utf8');
  const path = secretFilePath(options.databaseUrl, options.cwd);
  if (path === null) return randomBytes(32);
  try {
    mkdirSync(dirname(path), { recursive: true });
    try {
      // `wx` fails when the file exists, so two processes starting at once keep the first one's secret.
      writeFileSync(path, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const text = readFileSync(path, 'utf8').trim();
    if (!HEX_SECRET.test(text)) {
      throw new Error(`${path} does not hold 64 hex characters; delete it to generate a new secret`);
    }
    // Tighten a file someone loosened; reading it still works if this is refused (read-only mounts).
    try {
      chmodSync(path, 0o600);
    } catch {}
    return Buffer.from(text, 'hex');
  } catch (error) {
    throw new AgentOsError('AOS_CONFIG_INVALID', `Cannot read or create the server secret: ${String(error)}`, {
      cause: error,
    });
  }
}
