/**
 * Storage: the `Store` interface and its adapters. Only `services.ts` picks an adapter.
 * @module
 */
export { AUDIT_GENESIS_HASH, DEFAULT_WORKSPACE, KyselyStore } from './kysely/kysely-store.js';
export { createSqliteStore, type SqliteStoreOptions, sqlitePathFromUrl } from './sqlite/sqlite-store.js';
export { traceFileSpans } from './sqlite/trace-client.js';
export type * from './types.js';
