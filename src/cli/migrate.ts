import type { Command } from 'commander';
import { AgentOsError } from '../errors/index.js';
import { openStore } from '../services.js';
import { KyselyStore, sqlitePathFromUrl, traceFileSpans } from '../store/index.js';
import { type ConfigFlags, openServices, withConfigFlags } from './shared.js';

interface MigrateFlags extends ConfigFlags {
  dryRun?: boolean;
  from?: string;
  to?: string;
}

async function openKysely(url: string): Promise<KyselyStore> {
  const store = await openStore(url, process.cwd());
  if (!(store instanceof KyselyStore)) {
    await store.close();
    throw new AgentOsError('AOS_STORE_UNAVAILABLE', `Cannot copy tables of ${url}`);
  }
  return store;
}

/**
 * `agentos migrate --from URL --to URL`: copies every table (SQLite → Postgres when scaling out),
 * verified by row counts and checksums; the target must be empty. Prints one line per table.
 */
async function copyCommand(from: string, to: string, dryRun: boolean): Promise<void> {
  const { copyDatabase } = await import('../store/postgres/copy-database.js');
  const source = await openKysely(from);
  try {
    const target = await openKysely(to);
    try {
      const result = await copyDatabase(source, target, {
        dryRun,
        onTable: (copy) =>
          process.stdout.write(
            dryRun
              ? `would copy ${copy.table}: ${copy.rows} rows\n`
              : `copied ${copy.table}: ${copy.rows} rows, checksum ${copy.checksum}\n`,
          ),
      });
      for (const table of result.skipped) {
        process.stdout.write(`skipped ${table}: a SQLite virtual table (full-text or vector index), not copied\n`);
      }
      // A SQLite store keeps its traces in a file of its own (`<name>.traces.db`), beside the tables just copied.
      if (source.capabilities.dialect === 'sqlite') {
        let spans = 0;
        for await (const batch of traceFileSpans(sqlitePathFromUrl(from))) {
          if (!dryRun) await target.observability.saveSpans(batch);
          spans += batch.length;
        }
        if (spans > 0) process.stdout.write(`${dryRun ? 'would copy' : 'copied'} trace spans: ${spans}\n`);
      }
      const rows = result.tables.reduce((total, copy) => total + copy.rows, 0);
      process.stdout.write(
        dryRun
          ? `dry run: ${result.tables.length} tables, ${rows} rows; nothing written\n`
          : `verified: ${result.tables.length} tables, ${rows} rows, counts and checksums match\n`,
      );
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}

/** `agentos migrate [--dry-run]`: apply (or list) pending schema migrations; with `--from/--to`, copy a database. */
export function registerMigrateCommand(program: Command): void {
  withConfigFlags(program.command('migrate').description('apply pending database migrations, or copy a database'))
    .option('--dry-run', 'list pending migrations (or tables to copy) without writing')
    .option('--from <url>', 'copy all data from this database (e.g. sqlite:./.agentos/agentos.db) ...')
    .option('--to <url>', '... into this empty one (e.g. postgres://user:password@host/agentos)')
    .action(async (flags: MigrateFlags) => {
      if ((flags.from === undefined) !== (flags.to === undefined)) {
        throw new AgentOsError('AOS_VALIDATION', '--from and --to go together');
      }
      if (flags.from !== undefined && flags.to !== undefined) {
        await copyCommand(flags.from, flags.to, flags.dryRun === true);
        return;
      }
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
