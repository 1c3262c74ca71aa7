import { type Kysely, sql } from 'kysely';
import { dialectOf } from './column-types.js';

/**
 * Cross-replica signals (issue 12), Postgres only: triggers NOTIFY when a run's events are stored or its
 * row changes, so every replica learns of it from the database itself, whoever wrote the row (the owner,
 * a sweep that closed a dead run, another process's cancel). One batch insert is one transaction, and
 * Postgres folds identical notifications of one transaction into one, so a batch costs one signal.
 *
 * - `agentos_run_events`, payload `run_id`: events were stored, or the status changed.
 * - `agentos_run_cancel`, payload `run_id`: a cancel was requested (the owner stops the run).
 *
 * SQLite has one writer process and no NOTIFY; there the runtime polls the same rows instead.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  if (dialectOf(db) !== 'postgres') return;
  await sql`
    create function agentos_notify_run_events() returns trigger language plpgsql as $$
    begin
      perform pg_notify('agentos_run_events', new.run_id);
      return null;
    end $$`.execute(db);
  await sql`
    create trigger run_events_notify after insert on run_events
    for each row execute function agentos_notify_run_events()`.execute(db);
  await sql`
    create function agentos_notify_runs() returns trigger language plpgsql as $$
    begin
      if new.status is distinct from old.status then
        perform pg_notify('agentos_run_events', new.run_id);
      end if;
      if new.cancel_requested_at is distinct from old.cancel_requested_at then
        perform pg_notify('agentos_run_cancel', new.run_id);
      end if;
      return null;
    end $$`.execute(db);
  await sql`
    create trigger runs_notify after update on runs
    for each row execute function agentos_notify_runs()`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  if (dialectOf(db) !== 'postgres') return;
  await sql`drop trigger if exists runs_notify on runs`.execute(db);
  await sql`drop function if exists agentos_notify_runs()`.execute(db);
  await sql`drop trigger if exists run_events_notify on run_events`.execute(db);
  await sql`drop function if exists agentos_notify_run_events()`.execute(db);
}
