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

/** Kinds whose id is a key's (a config key's name, a stored key's id): the only ones per-key config names. */
const KEY_KINDS: ReadonlySet<string> = new Set<PrincipalKind>(['env_key', 'config_key', 'api_key']);

/**
 * Whom usage, budgets and rate-limit buckets count against: `<kind>:<id>`, so a JWT whose `sub` equals a
 * key's name never shares that key's usage. Undefined without a principal.
 */
export function callerSubjectOf(principal: Pick<Principal, 'id' | 'kind'>): string;
export function callerSubjectOf(principal: Pick<Principal, 'id' | 'kind'> | null | undefined): string | undefined;
export function callerSubjectOf(principal: Pick<Principal, 'id' | 'kind'> | null | undefined): string | undefined {
  return principal ? `${principal.kind}:${principal.id}` : undefined;
}

/**
 * The name `rate_limits.keys` and `quotas.keys` know a caller by: its id when it is a key (env, config or
 * stored), else undefined, so a JWT subject or a service account never gets a key's overrides. Takes a
 * principal or a subject from {@link callerSubjectOf}.
 */
export function configuredKeyOf(caller: Pick<Principal, 'id' | 'kind'> | string): string | undefined {
  if (typeof caller !== 'string') return KEY_KINDS.has(caller.kind) ? caller.id : undefined;
  const colon = caller.indexOf(':');
  return colon > 0 && KEY_KINDS.has(caller.slice(0, colon)) ? caller.slice(colon + 1) : undefined;
}
