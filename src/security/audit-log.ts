/**
 * The security audit log: every auth failure, permission denial, rate-limit hit and key change (and,
 * through {@link AuditLog.record}, approvals and config changes) appended to a hash chain in the store.
 * Each entry's hash is an HMAC-SHA256, keyed by the server secret, over the entry and the previous
 * entry's hash, so editing, removing or reordering a row breaks the chain and `verify` names the row.
 * Removing the newest entries leaves a shorter valid chain; anchor `hash` of the last entry elsewhere
 * if that matters.
 * @module
 */
import { createHmac } from 'node:crypto';
import type { AuditEntry, AuditRecord, AuditSeal, AuditStore, AuditVerification, Page } from '../store/index.js';

/** The kinds the server writes itself; `record` accepts any other dotted name. */
export const AUDIT_KINDS = {
  authFailed: 'auth.failed',
  permissionDenied: 'auth.denied',
  rateLimited: 'rate_limit.exceeded',
  quotaExceeded: 'quota.exceeded',
  apiKeyCreated: 'api_key.created',
  apiKeyRevoked: 'api_key.revoked',
  configChanged: 'config.changed',
  serviceAccountCreated: 'service_account.created',
  serviceAccountUpdated: 'service_account.updated',
  serviceAccountRevoked: 'service_account.revoked',
  serviceAccountTokenCreated: 'service_account.token_created',
  serviceAccountTokenRevoked: 'service_account.token_revoked',
} as const;

/** JSON with object keys sorted at every level, so a value hashes the same after a round trip (jsonb reorders keys). */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item ?? null)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, item]) => item !== undefined)
    .sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0));
  return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
}

/** The seal of the chain: HMAC-SHA256 (hex) of the entry's fields, the previous hash included. */
export function createAuditSeal(secret: Buffer): AuditSeal {
  return (record) =>
    createHmac('sha256', secret)
      .update(
        canonicalJson({
          v: 1,
          seq: record.seq,
          at: record.at,
          kind: record.kind,
          principal: record.principal,
          workspaceId: record.workspaceId,
          details: record.details,
          prevHash: record.prevHash,
        }),
      )
      .digest('hex');
}

/** What {@link AuditLog.record} takes besides the kind. */
export type AuditInput = Omit<AuditEntry, 'kind'>;

/** The audit log as the rest of the server uses it. */
export class AuditLog {
  private sealWith: AuditSeal | undefined;

  /**
   * `secret` may be a function, called once on first use, so commands that never write the log (a dry-run
   * migration) do not create the secret file.
   */
  constructor(
    private readonly store: AuditStore,
    private readonly secret: Buffer | (() => Buffer),
  ) {}

  /** Resolves the secret now (start-up calls this to fail early rather than on the first refusal). */
  ready(): void {
    this.seal();
  }

  private seal(): AuditSeal {
    this.sealWith ??= createAuditSeal(typeof this.secret === 'function' ? this.secret() : this.secret);
    return this.sealWith;
  }

  /** Appends one entry (serialized with every other append) and returns it. */
  record(kind: string, input: AuditInput = {}): Promise<AuditRecord> {
    try {
      return this.store.append({ ...input, kind }, this.seal());
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Newest first unless `order: 'asc'`. */
  list(
    options: { page?: number; limit?: number; kind?: string; order?: 'asc' | 'desc' } = {},
  ): Promise<Page<AuditRecord>> {
    return this.store.list(options);
  }

  /** Recomputes the whole chain with the server secret. */
  verify(): Promise<AuditVerification> {
    try {
      return this.store.verify(this.seal());
    } catch (error) {
      return Promise.reject(error);
    }
  }
}
