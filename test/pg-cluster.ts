/**
 * A throwaway PostgreSQL cluster for the Postgres tests (CONTRACT.md §6), started once per vitest run
 * as its global setup when `AGENTOS_TEST_PG=1`: `initdb` + `pg_ctl` from the apt packages, as the
 * `postgres` user when running as root, in a temp folder, on a free port. Each test file creates its
 * own database with {@link createTestDatabase}, so files running in parallel never share rows.
 * @module
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of the cluster's `postgres` database, or '' when Postgres tests are off. */
    pgAdminUrl: string;
  }
}

/** Postgres tests run only when asked (CI sets it); without it they are skipped. */
export const PG_ENABLED = process.env.AGENTOS_TEST_PG === '1';

function binDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((name) => existsSync(join(root, name, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const newest = versions[0];
  if (newest === undefined) throw new Error('AGENTOS_TEST_PG=1 but no PostgreSQL under /usr/lib/postgresql/*/bin');
  return join(root, newest, 'bin');
}

function freePort(): Promise<number> {
  return new Promise((found, failed) => {
    const server = createServer();
    server.once('error', failed);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? found(address.port) : failed(new Error('no port'))));
    });
  });
}

/** Runs a cluster binary, as `postgres` when this process is root (initdb refuses root). */
function runAsOwner(command: string, args: string[]): void {
  const asRoot = process.getuid?.() === 0;
  const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
  execFileSync(file, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A running cluster and how to stop it. */
export interface PgCluster {
  adminUrl: string;
  /** The postmaster's pid (its children are the backends), for CPU accounting in bench/scale. */
  pid(): number;
  stop(): void;
}

/** Starts a fresh cluster in a temp folder (trust auth on 127.0.0.1 and the socket folder only). */
export async function startPgCluster(): Promise<PgCluster> {
  const bin = binDir();
  const dir = mkdtempSync(join(tmpdir(), 'agentos-pg-'));
  const data = join(dir, 'data');
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(dir, uid, gid);
  }
  chmodSync(dir, 0o700);
  const port = await freePort();
  runAsOwner(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const options = [
    `-c port=${port}`,
    `-c listen_addresses=127.0.0.1`,
    `-c unix_socket_directories=${dir}`,
    // A test cluster: durability does not matter, speed and enough connections for parallel files do.
    '-c fsync=off',
    '-c synchronous_commit=off',
    '-c full_page_writes=off',
    '-c max_connections=200',
  ].join(' ');
  runAsOwner(join(bin, 'pg_ctl'), ['-D', data, '-o', options, '-l', join(dir, 'log'), '-w', '-t', '60', 'start']);
  return {
    adminUrl: `postgres://postgres@127.0.0.1:${port}/postgres`,
    pid: () => Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]),
    stop() {
      try {
        runAsOwner(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** vitest global setup: one cluster for the whole run, removed after it. */
export default async function setup(project: TestProject): Promise<(() => void) | undefined> {
  if (!PG_ENABLED) {
    project.provide('pgAdminUrl', '');
    return undefined;
  }
  const cluster = await startPgCluster();
  project.provide('pgAdminUrl', cluster.adminUrl);
  return () => cluster.stop();
}

/** A database of its own for one test file; `drop()` removes it. */
export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

let counter = 0;

/** Creates an empty database on the cluster named by `adminUrl`. */
export async function createTestDatabase(adminUrl: string): Promise<TestDatabase> {
  counter += 1;
  const name = `agentos_${process.pid}_${Date.now().toString(36)}_${counter}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(`drop database if exists ${name} with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}
