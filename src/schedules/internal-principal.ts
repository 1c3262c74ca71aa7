/**
 * The principal scheduled firings and bus subscribers act as when they call this server's own routes
 * in-process (`app.inject`). Its token is random per process and never leaves it; it is checked before
 * any other credential and does not count as a configured key, so it never ends dev mode.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { digestsEqual, hashApiKey } from '../auth/api-keys.js';
import type { Authenticator, Principal } from '../auth/index.js';
import { bearerToken } from '../auth/index.js';

/** The subject of internal calls (Agno reserves the same name for its scheduler). */
export const INTERNAL_PRINCIPAL_ID = '__scheduler__';

/**
 * Only what a scheduled run needs: read and run agents, teams and workflows (research/agno.md §4).
 * No schedules, sessions or admin scopes, so a schedule cannot be used to widen its creator's rights.
 */
export const INTERNAL_SCOPES: readonly string[] = Object.freeze([
  'agents:read',
  'agents:run',
  'teams:read',
  'teams:run',
  'workflows:read',
  'workflows:run',
]);

/** Issues the per-workspace internal credentials and recognises them. */
export class InternalPrincipals {
  private readonly tokens = new Map<string, { token: string; hash: string }>();

  /** The `Authorization` header value acting in `workspaceId`. */
  authorization(workspaceId: string): string {
    let entry = this.tokens.get(workspaceId);
    if (!entry) {
      const token = `aosi_${randomBytes(32).toString('base64url')}`;
      entry = { token, hash: hashApiKey(token) };
      this.tokens.set(workspaceId, entry);
    }
    return `Bearer ${entry.token}`;
  }

  /** The internal principal a header stands for, else undefined. */
  principalOf(authorization: string | undefined): Principal | undefined {
    const token = bearerToken(authorization);
    if (token === undefined || !token.startsWith('aosi_')) return undefined;
    const hash = hashApiKey(token);
    for (const [workspaceId, entry] of this.tokens) {
      if (digestsEqual(entry.hash, hash)) {
        return { id: INTERNAL_PRINCIPAL_ID, kind: 'config_key', scopes: INTERNAL_SCOPES, workspaceId };
      }
    }
    return undefined;
  }

  /** Wraps an authenticator so internal tokens authenticate first; everything else is unchanged. */
  wrap(authenticator: Authenticator): Authenticator {
    return {
      mode: () => authenticator.mode(),
      selectWorkspace: (principal, requested) => authenticator.selectWorkspace(principal, requested),
      authenticate: async (authorization) =>
        this.principalOf(authorization) ?? authenticator.authenticate(authorization),
    };
  }
}
