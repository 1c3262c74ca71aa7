import { type Kysely, type Migration, Migrator } from 'kysely';
import { AgentOsError } from '../../errors/index.js';
import type { MigrationResult } from '../types.js';

/** Bookkeeping tables of the migrator, named for agentos rather than Kysely's defaults. */
const MIGRATION_TABLE = 'agentos_migrations';
const MIGRATION_LOCK_TABLE = 'agentos_migrations_lock';

/**
 * Applies (or, with `dryRun`, lists) pending migrations through Kysely's Migrator, which takes a lock
 * table so two processes migrating at once apply each migration once.
 */
export async function runMigrations(
  db: Kysely<unknown>,
  migrations: Record<string, Migration>,
  options: { dryRun?: boolean } = {},
): Promise<MigrationResult> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
  });
  const dryRun = options.dryRun ?? false;
  if (dryRun) {
    // getMigrations() only reads, but it creates the bookkeeping tables on a fresh database;
    // a dry run must change nothing, so look for them first.
    const exists = await hasTable(db, MIGRATION_TABLE);
    const known = exists
      ? await migrator.getMigrations()
      : Object.keys(migrations).map((name) => ({ name, executedAt: undefined }));
    const pending = known.filter((migration) => migration.executedAt === undefined).map((migration) => migration.name);
    return {
      applied: pending,
      dryRun,
      migrations: known.map((migration) => ({ name: migration.name, applied: migration.executedAt !== undefined })),
    };
  }
  const { error, results = [] } = await migrator.migrateToLatest();
  if (error) {
    const failed = results.find((result) => result.status === 'Error')?.migrationName ?? 'unknown';
    throw new AgentOsError('AOS_STORE_MIGRATION_FAILED', `Migration ${failed} failed: ${String(error)}`, {
      cause: error,
    });
  }
  const known = await migrator.getMigrations();
  return {
    applied: results.filter((result) => result.status === 'Success').map((result) => result.migrationName),
    dryRun,
    migrations: known.map((migration) => ({ name: migration.name, applied: migration.executedAt !== undefined })),
  };
}

async function hasTable(db: Kysely<unknown>, name: string): Promise<boolean> {
  const tables = await db.introspection.getTables({ withInternalKyselyTables: true });
  return tables.some((table) => table.name === name);
}
