import type { Command } from 'commander';
import { closeOnSignals, startServer } from '../main.js';
import { releaseStartupMemory } from './idle-memory.js';
import { type ConfigFlags, parsePort, withConfigFlags } from './shared.js';

interface ServeFlags extends ConfigFlags {
  host?: string;
  port?: number;
}

/** `agentos serve`: start the server and run until SIGTERM / SIGINT. */
export function registerServeCommand(program: Command): void {
  withConfigFlags(program.command('serve').description('start the server'))
    .option('--host <host>', 'interface to bind (default 127.0.0.1)')
    .option('-p, --port <port>', 'port (default 7777)', parsePort)
    .action(async (flags: ServeFlags) => {
      const server = await startServer({
        ...(flags.config === undefined ? {} : { configPath: flags.config }),
        ...(flags.host === undefined ? {} : { host: flags.host }),
        ...(flags.port === undefined ? {} : { port: flags.port }),
        ...(flags.db === undefined ? {} : { dbUrl: flags.db }),
      });
      closeOnSignals(server, server.services.logger);
      releaseStartupMemory(server.app.server);
    });
}
