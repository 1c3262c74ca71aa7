/**
 * The service-accounts domain of the store (research/agno.md §1.11): non-human principals of one
 * workspace with a role and scopes. Their tokens are rows of `api_keys` naming the account, so they
 * authenticate like API keys and take the account's current role and scopes.
 * @module
 */
import type { Page, PageRequest } from './types.js';

/** One service account. Timestamps are epoch milliseconds. */
export interface ServiceAccountRecord {
  id: string;
  workspaceId: string;
  name: string;
  description: string | null;
  /** A role of `auth/scopes.ts` (`viewer` … `owner`), or null for scopes only. */
  role: string | null;
  scopes: string[];
  /** Principal id of whoever created it. */
  createdBy: string | null;
  createdAt: number;
  updatedAt: number;
  /** Set when the account is revoked (deleted); its tokens are revoked with it. */
  revokedAt: number | null;
}

export type ServiceAccountCreate = Pick<ServiceAccountRecord, 'id' | 'workspaceId' | 'name' | 'scopes'> &
  Partial<Pick<ServiceAccountRecord, 'description' | 'role' | 'createdBy'>>;

export type ServiceAccountUpdate = Partial<Pick<ServiceAccountRecord, 'name' | 'description' | 'role' | 'scopes'>>;

/** Filter and order of {@link ServiceAccountStore.list}. */
export interface ServiceAccountFilter extends PageRequest {
  includeRevoked?: boolean;
  sortBy?: 'created_at' | 'name';
  sortOrder?: 'asc' | 'desc';
}

/** Service accounts, always within one workspace: another workspace's account is never visible. */
export interface ServiceAccountStore {
  /** `ConflictError` on a duplicate id. */
  create(input: ServiceAccountCreate): Promise<ServiceAccountRecord>;
  /** The account (revoked ones included), or null when missing or in another workspace. */
  get(workspaceId: string, id: string): Promise<ServiceAccountRecord | null>;
  /** Default order: oldest first. Revoked accounts only with `includeRevoked`. */
  list(workspaceId: string, filter?: ServiceAccountFilter): Promise<Page<ServiceAccountRecord>>;
  /** Updates an active account; null when missing, revoked or in another workspace. */
  update(workspaceId: string, id: string, patch: ServiceAccountUpdate): Promise<ServiceAccountRecord | null>;
  /**
   * Revokes an active account and every token of it in one transaction; `false` when missing, already
   * revoked or in another workspace.
   */
  revoke(workspaceId: string, id: string): Promise<boolean>;
}
