import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runSchedulesContract } from '../contract/schedules.contract.js';
import { createSqliteStore } from '../sqlite/sqlite-store.js';
import type { Store } from '../types.js';

// The same suite also runs inside `runStoreContract` on every adapter; here it runs alone on a fresh
// SQLite database per test, so it does not depend on the other domains' tables.
describe('schedules store on a fresh sqlite :memory: per test', () => {
  let store: Store;
  beforeEach(async () => {
    store = createSqliteStore({ url: 'sqlite::memory:' });
    await store.migrate();
  });
  afterEach(async () => {
    await store.close();
  });
  runSchedulesContract(() => store);
});

describe('schedule engine tick cost (sqlite)', () => {
  it('finds due schedules and due deliveries through their indexes, not a table scan', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentos-sched-plan-'));
    const path = join(dir, 'agentos.db');
    const store = createSqliteStore({ url: `sqlite:${path}` });
    await store.migrate();
    await store.close();
    const database = new Database(path, { readonly: true });
    try {
      // The statements `listDue` and `listDueDeliveries` issue (Kysely compiles the same shape).
      const plan = (sql: string) =>
        (
          database.prepare(`explain query plan ${sql}`).all(
            ...sql
              .split('?')
              .slice(1)
              .map(() => 0),
          ) as Array<{
            detail: string;
          }>
        )
          .map((row) => row.detail)
          .join('; ');
      expect(
        plan(
          'select * from "schedules" where "status" = ? and "next_run_at" <= ? and ("lease_until" is null or "lease_until" < ?) order by "next_run_at" asc limit ?',
        ),
      ).toMatch(/USING INDEX schedules_due/);
      expect(
        plan(
          'select * from "bus_deliveries" where "status" = ? and "next_attempt_at" <= ? and ("lease_until" is null or "lease_until" < ?) order by "next_attempt_at" asc limit ?',
        ),
      ).toMatch(/USING INDEX bus_deliveries_due/);
    } finally {
      database.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
