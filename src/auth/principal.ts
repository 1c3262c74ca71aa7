/**
 * Who is calling. Every authenticated request carries one principal; JWT subjects, API keys and the
 * dev-mode caller all become this shape, so permission checks never branch on how a caller signed in.
 * @module
 */

/** How the principal authenticated. */
export type PrincipalKind = 'env_key' | 'config_key' | 'api_key' | 'service_account' | 'jwt' | 'dev';

/** The authenticated caller. */
export interface Principal {
  /** Stable subject: the key id, `sa:<id>` for a service account's token, the JWT `sub`, or `dev` in dev mode. */
  id: string;
  kind: PrincipalKind;
  /** Granted scopes in the grammar of `scopes.ts`; `admin` grants everything. */
  scopes: readonly string[];
  /** The workspace the principal acts in when no `X-Workspace-ID` header names one. */
  workspaceId: string;
  /** End user the principal is bound to (JWT `sub` with user isolation), when any. */
  userId?: string;
}

/** The admin scope: every resource, every action, every workspace. */
export const ADMIN_SCOPE = 'admin';
