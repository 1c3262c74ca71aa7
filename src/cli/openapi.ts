/**
 * `agentos openapi`: the OpenAPI document generated from the route schemas, the same one the server
 * serves at `/openapi.json`. `npm run openapi` writes it to the committed `openapi.json`.
 * @module
 */
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { buildApp } from '../app.js';
import { type AgentOsConfig, loadConfig } from '../config/index.js';
import { createLogger, type Logger } from '../logging/logger.js';
import { createServices } from '../services.js';

/** The database every generation uses: the document depends on the routes, never on stored data. */
const MEMORY_DATABASE_URL = 'sqlite::memory:';

/** Options of {@link renderOpenApiDocument}. */
export interface RenderOpenApiOptions {
  config: AgentOsConfig;
  /** Where the config came from, for logs. */
  configSource?: string;
  logger: Logger;
}

/**
 * Builds the app over an in-memory SQLite store and returns its OpenAPI document as JSON text,
 * indented by two spaces with a trailing newline (the form of the committed `openapi.json`).
 * @example
 * const text = await renderOpenApiDocument({ config: parseConfig(DEMO_CONFIG, { source: 'demo' }), logger });
 */
export async function renderOpenApiDocument({ config, configSource, logger }: RenderOpenApiOptions): Promise<string> {
  // In memory, so generating the document never creates or migrates the configured database.
  const services = await createServices({
    config: { ...config, database: { url: MEMORY_DATABASE_URL } },
    ...(configSource === undefined ? {} : { configSource }),
    logger,
    recoverRuns: false,
  });
  try {
    const app = await buildApp({ services });
    try {
      return `${JSON.stringify(app.swagger(), null, 2)}\n`;
    } finally {
      await app.close();
    }
  } finally {
    await services.close();
  }
}

/** `agentos openapi [--config F] [--out FILE]`: print (or write) the OpenAPI document. */
export function registerOpenApiCommand(program: Command): void {
  program
    .command('openapi')
    .description('print the OpenAPI document generated from the route schemas')
    .option(
      '-c, --config <file>',
      'config file (else AGENTOS_CONFIG, else ./agentos.config.{ts,yaml,json}, else the demo)',
    )
    .option('-o, --out <file>', 'write the document to this file instead of stdout')
    .action(async (flags: { config?: string; out?: string }) => {
      const { config, source } = await loadConfig(flags.config === undefined ? {} : { path: flags.config });
      // Logs go to stderr, so stdout carries the document alone.
      const logger = createLogger({
        level: config.log_level === 'info' ? 'warn' : config.log_level,
        pretty: false,
        destination: process.stderr,
      });
      const text = await renderOpenApiDocument({ config, configSource: source, logger });
      if (flags.out === undefined) process.stdout.write(text);
      else await writeFile(flags.out, text);
    });
}
