/**
 * Storage: the `Store` interface and its adapters. Only `services.ts` picks an adapter.
 * @module
 */
export { DEFAULT_WORKSPACE, KyselyStore } from './kysely/kysely-store.js';
export { createSqliteStore, type SqliteStoreOptions, sqlitePathFromUrl } from './sqlite/sqlite-store.js';
export type * from './types.js';
