/**
 * The service-accounts domain on Kysely, dialect-neutral (SQLite and Postgres run the same queries).
 * @module
 */
import type { Kysely, Selectable } from 'kysely';
import { ConflictError } from '../../errors/index.js';
import type {
  ServiceAccountCreate,
  ServiceAccountFilter,
  ServiceAccountRecord,
  ServiceAccountStore,
  ServiceAccountUpdate,
} from '../service-accounts-types.js';
import type { Page } from '../types.js';
import { isUniqueViolation } from './constraint-errors.js';
import { decodeJson, encodeJson } from './json-codec.js';
import { pageBounds } from './paging.js';
import type { ApiKeysTable } from './tables.js';

/** One row of `service_accounts` (migration 013). */
export interface ServiceAccountsTable {
  id: string;
  workspace_id: string;
  name: string;
  description: string | null;
  role: string | null;
  scopes: unknown;
  created_by: string | null;
  created_at: number;
  updated_at: number;
  revoked_at: number | null;
}

/** The tables this store writes: its own, and `api_keys` to revoke an account's tokens with it. */
interface ServiceAccountsDatabase {
  service_accounts: ServiceAccountsTable;
  api_keys: ApiKeysTable;
}

function toServiceAccount(row: Selectable<ServiceAccountsTable>): ServiceAccountRecord {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    name: row.name,
    description: row.description,
    role: row.role,
    scopes: decodeJson(row.scopes, []),
    createdBy: row.created_by,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    revokedAt: row.revoked_at === null ? null : Number(row.revoked_at),
  };
}

/** Service accounts over Kysely. */
export class KyselyServiceAccountStore implements ServiceAccountStore {
  private readonly db: Kysely<ServiceAccountsDatabase>;

  constructor(
    db: Kysely<unknown>,
    private readonly now: () => number,
  ) {
    this.db = db as Kysely<ServiceAccountsDatabase>;
  }

  async create(input: ServiceAccountCreate): Promise<ServiceAccountRecord> {
    const at = this.now();
    const row: ServiceAccountsTable = {
      id: input.id,
      workspace_id: input.workspaceId,
      name: input.name,
      description: input.description ?? null,
      role: input.role ?? null,
      scopes: encodeJson(input.scopes),
      created_by: input.createdBy ?? null,
      created_at: at,
      updated_at: at,
      revoked_at: null,
    };
    try {
      await this.db.insertInto('service_accounts').values(row).execute();
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictError('A service account with this id already exists');
      throw error;
    }
    return toServiceAccount(row);
  }

  async get(workspaceId: string, id: string): Promise<ServiceAccountRecord | null> {
    const row = await this.db
      .selectFrom('service_accounts')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? toServiceAccount(row) : null;
  }

  async list(workspaceId: string, filter: ServiceAccountFilter = {}): Promise<Page<ServiceAccountRecord>> {
    let query = this.db.selectFrom('service_accounts').where('workspace_id', '=', workspaceId);
    if (!filter.includeRevoked) query = query.where('revoked_at', 'is', null);
    const { limit, offset } = pageBounds(filter);
    const direction = filter.sortOrder ?? 'asc';
    const [rows, count] = await Promise.all([
      query
        .selectAll()
        .orderBy(filter.sortBy ?? 'created_at', direction)
        .orderBy('id', direction)
        .limit(limit)
        .offset(offset)
        .execute(),
      query.select((builder) => builder.fn.countAll().as('total')).executeTakeFirst(),
    ]);
    return { items: rows.map(toServiceAccount), total: Number(count?.total ?? 0) };
  }

  async update(workspaceId: string, id: string, patch: ServiceAccountUpdate): Promise<ServiceAccountRecord | null> {
    const values: Partial<ServiceAccountsTable> = { updated_at: this.now() };
    if (patch.name !== undefined) values.name = patch.name;
    if (patch.description !== undefined) values.description = patch.description;
    if (patch.role !== undefined) values.role = patch.role;
    if (patch.scopes !== undefined) values.scopes = encodeJson(patch.scopes);
    const result = await this.db
      .updateTable('service_accounts')
      .set(values)
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) return null;
    return this.get(workspaceId, id);
  }

  async revoke(workspaceId: string, id: string): Promise<boolean> {
    const at = this.now();
    return this.db.transaction().execute(async (transaction) => {
      const result = await transaction
        .updateTable('service_accounts')
        .set({ revoked_at: at, updated_at: at })
        .where('workspace_id', '=', workspaceId)
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) return false;
      await transaction
        .updateTable('api_keys')
        .set({ revoked_at: at })
        .where('service_account_id', '=', id)
        .where('revoked_at', 'is', null)
        .execute();
      return true;
    });
  }
}
