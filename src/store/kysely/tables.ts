/**
 * Row types of the agentos tables as Kysely sees them. Shared by the SQLite and Postgres adapters:
 * JSON columns are text on SQLite and jsonb on Postgres, so they are typed `unknown` and go through
 * `json-codec.ts`. Timestamps are epoch milliseconds.
 * @module
 */
import type { Generated } from 'kysely';
import type { BusDeliveriesTable, BusEventsTable, ScheduleRunsTable, SchedulesTable } from './schedules-store.js';

export interface SessionsTable {
  session_id: string;
  workspace_id: string;
  session_type: string;
  component_id: string;
  user_id: string | null;
  session_name: string | null;
  session_state: unknown;
  metadata: unknown;
  created_at: number;
  updated_at: number;
}

export interface RunsTable {
  run_id: string;
  session_id: string;
  workspace_id: string;
  component_type: string;
  component_id: string;
  parent_run_id: string | null;
  user_id: string | null;
  status: string;
  input: unknown;
  content: string | null;
  metrics: unknown;
  error: string | null;
  owner: string | null;
  heartbeat_at: number | null;
  messages: unknown;
  output: unknown;
  cancel_requested_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface RunEventsTable {
  run_id: string;
  event_index: number;
  event: string;
  payload: unknown;
  created_at: number;
}

export interface ApiKeysTable {
  id: string;
  name: string;
  key_hash: string;
  key_prefix: string;
  scopes: unknown;
  workspace_id: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
  /** Migration 013. */
  role: string | null;
  service_account_id: string | null;
  expires_at: number | null;
}

/** GCRA state of one limiter key; `tat` is the theoretical arrival time (epoch ms). */
export interface RateLimitsTable {
  key: string;
  tat: number;
}

/** One entry of the hash-chained audit log. */
export interface AuditLogTable {
  seq: Generated<number>;
  at: number;
  kind: string;
  principal: string | null;
  workspace_id: string | null;
  details: unknown;
  prev_hash: string;
  hash: string;
}

/** The whole schema, for `Kysely<Database>`. */
export interface Database {
  sessions: SessionsTable;
  runs: RunsTable;
  run_events: RunEventsTable;
  api_keys: ApiKeysTable;
  rate_limits: RateLimitsTable;
  audit_log: AuditLogTable;
  schedules: SchedulesTable;
  schedule_runs: ScheduleRunsTable;
  bus_events: BusEventsTable;
  bus_deliveries: BusDeliveriesTable;
}
