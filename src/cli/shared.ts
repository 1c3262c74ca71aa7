/**
 * What several subcommands share: the `--config` / `--db` options and opening services for a
 * one-shot command (logs to stderr, so stdout stays the command's result).
 * @module
 */
import { type Command, InvalidArgumentError } from 'commander';
import { loadConfig } from '../config/index.js';
import { createLogger } from '../logging/logger.js';
import { createServices, type Services } from '../services.js';

/** Flags common to commands that read the config and the database. */
export interface ConfigFlags {
  config?: string;
  db?: string;
}

/** Adds `--config F` and `--db URL`. */
export function withConfigFlags(command: Command): Command {
  return command
    .option(
      '-c, --config <file>',
      'config file (else AGENTOS_CONFIG, else ./agentos.config.{ts,yaml,json}, else the demo)',
    )
    .option('--db <url>', 'database URL, e.g. sqlite:./.agentos/agentos.db');
}

/** Loads config and opens services for a one-shot command; the caller closes them. */
export async function openServices(flags: ConfigFlags, options: { migrate?: boolean } = {}): Promise<Services> {
  const { config, source } = await loadConfig({
    ...(flags.config === undefined ? {} : { path: flags.config }),
    overrides: flags.db === undefined ? {} : { dbUrl: flags.db },
  });
  const logger = createLogger({
    level: config.log_level === 'info' ? 'warn' : config.log_level,
    pretty: false,
    destination: process.stderr,
  });
  return createServices({
    config,
    configSource: source,
    logger,
    migrate: options.migrate ?? true,
    env: process.env,
    // A one-shot command must not judge other processes' runs; the server does that.
    recoverRuns: false,
  });
}

/** Parses a TCP port flag. */
export function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError('expected a port 0..65535');
  return port;
}
