import type { Command } from 'commander';
import { type ConfigFlags, openServices, withConfigFlags } from './shared.js';

/** `agentos migrate [--dry-run]`: apply (or list) pending schema migrations. */
export function registerMigrateCommand(program: Command): void {
  withConfigFlags(program.command('migrate').description('apply pending database migrations'))
    .option('--dry-run', 'list pending migrations without applying them')
    .action(async (flags: ConfigFlags & { dryRun?: boolean }) => {
      const services = await openServices(flags, { migrate: false });
      try {
        const result = await services.store.migrate({ dryRun: flags.dryRun === true });
        const verb = result.dryRun ? 'pending' : 'applied';
        if (result.applied.length === 0) process.stdout.write('Database is up to date.\n');
        for (const name of result.applied) process.stdout.write(`${verb}: ${name}\n`);
      } finally {
        await services.close();
      }
    });
}
