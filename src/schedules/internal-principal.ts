/**
 * The principal scheduled firings and bus subscribers act as when they call this server's own routes
 * in-process (`app.inject`). Its token is random per process and never leaves it; it is checked before
 * any other credential and does not count as a configured key, so it never ends dev mode.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { digestsEqual, hashApiKey } from '../auth/api-keys.js';
import type { Authenticator, Principal } from '../auth/index.js';
import { ADMIN_SCOPE, bearerToken, coversScopes } from '../auth/index.js';

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

/**
 * What both {@link INTERNAL_SCOPES} and `author` grant: each internal scope the author holds, plus each
 * narrower author scope (`agents:<id>:run`) the internal ones cover. An `admin` author keeps all of
 * {@link INTERNAL_SCOPES} and nothing more.
 */
export function internalScopesOf(author: readonly string[]): string[] {
  const kept = new Set<string>();
  for (const scope of INTERNAL_SCOPES) if (coversScopes(author, [scope])) kept.add(scope);
  for (const scope of author) {
    if (scope !== ADMIN_SCOPE && coversScopes(INTERNAL_SCOPES, [scope])) kept.add(scope);
  }
  return [...kept].sort();
}

/** Issues the per-workspace internal credentials and recognises them. */
export class InternalPrincipals {
  private readonly tokens = new Map<
    string,
    { token: string; hash: string; workspaceId: string; scopes: readonly string[] }
  >();

  /**
   * The `Authorization` header value acting in `workspaceId`, with {@link INTERNAL_SCOPES} or, given
   * `authorScopes`, only what they share with those ({@link internalScopesOf}): a schedule's firing
   * passes its author's scopes, so a component's members are judged by the author's rights.
   */
  authorization(workspaceId: string, authorScopes?: readonly string[]): string {
    const scopes = authorScopes === undefined ? INTERNAL_SCOPES : Object.freeze(internalScopesOf(authorScopes));
    const key = `${workspaceId}\n${scopes.join(' ')}`;
    let entry = this.tokens.get(key);
    if (!entry) {
      const token = `aosi_${randomBytes(32).toString('base64url')}`;
      entry = { token, hash: hashApiKey(token), workspaceId, scopes };
      this.tokens.set(key, entry);
    }
    return `Bearer ${entry.token}`;
  }

  /** The internal principal a header stands for, else undefined. */
  principalOf(authorization: string | undefined): Principal | undefined {
    const token = bearerToken(authorization);
    if (token === undefined || !token.startsWith('aosi_')) return undefined;
    const hash = hashApiKey(token);
    for (const entry of this.tokens.values()) {
      if (digestsEqual(entry.hash, hash)) {
        return { id: INTERNAL_PRINCIPAL_ID, kind: 'config_key', scopes: entry.scopes, workspaceId: entry.workspaceId };
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
