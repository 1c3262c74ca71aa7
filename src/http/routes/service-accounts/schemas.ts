/**
 * Schemas of `/service-accounts` (research/agno.md §1.11): Agno's request shape (slug names, scopes as
 * `{scope, effect: "allow"}` or plain strings, `expires_in_days`, `never_expires`,
 * `allow_privileged_scopes`) plus this server's `role` and `description`. Times are epoch seconds.
 * @module
 */
import { z } from 'zod';
import { isValidScope, ROLES } from '../../../auth/index.js';
import { idSchema } from '../../../config/index.js';
import { pageMeta, pageQuery } from '../pagination.js';

/** Agno: a slug of at most 63 characters. */
const accountName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'name must be a slug: lower-case letters, digits, - and _, at most 63');

const scopeString = z
  .string()
  .max(300)
  .refine(isValidScope, { error: 'scope must be resource:action, resource:<id>:action, resource:*:action or admin' });

/** Agno sends `{scope, effect: "allow"}`; a plain string means the same. Deny entries do not exist. */
const scopeEntry = z.union([
  scopeString,
  z.object({ scope: scopeString, effect: z.literal('allow').default('allow') }),
]);

const role = z.enum(ROLES).describe('Expands to scopes when a token is used: viewer ⊂ editor ⊂ admin ⊂ owner');

const tokenLifetime = {
  expires_in_days: z
    .number()
    .int()
    .min(1)
    .max(3650)
    .default(90)
    .describe('Token lifetime (ignored with never_expires)'),
  never_expires: z.boolean().default(false),
};

export const serviceAccountParams = z.object({ service_account_id: idSchema });
export const serviceAccountTokenParams = z.object({ service_account_id: idSchema, token_id: idSchema });

export const createServiceAccountBody = z.object({
  name: accountName,
  description: z.string().max(1000).nullish(),
  role: role.nullish(),
  scopes: z.array(scopeEntry).max(200).optional(),
  ...tokenLifetime,
  allow_privileged_scopes: z
    .boolean()
    .default(false)
    .describe('Required for write, delete, admin, keys, service_accounts and workspaces scopes and roles above viewer'),
});

export const updateServiceAccountBody = z
  .object({
    name: accountName.optional(),
    description: z.string().max(1000).nullish(),
    role: role.nullish(),
    scopes: z.array(scopeEntry).max(200).optional(),
    allow_privileged_scopes: z.boolean().default(false),
  })
  .strict();

export const createTokenBody = z.object({ ...tokenLifetime }).strict();

export const serviceAccountsQuery = pageQuery.extend({
  include_revoked: z
    .enum(['true', 'false'])
    .transform((value) => value === 'true')
    .default(false),
  sort_by: z.enum(['created_at', 'name']).default('created_at'),
  sort_order: z.enum(['asc', 'desc']).default('asc'),
});

export const tokenView = z.object({
  id: z.string(),
  prefix: z.string().describe('The first characters of the token, to tell tokens apart'),
  created_at: z.number().int(),
  last_used_at: z.number().int().nullable(),
  expires_at: z.number().int().nullable(),
  revoked_at: z.number().int().nullable(),
});

export const serviceAccountView = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  role: z.string().nullable(),
  scopes: z.array(z.string()),
  workspace_id: z.string(),
  created_by: z.string().nullable(),
  created_at: z.number().int(),
  updated_at: z.number().int(),
  revoked_at: z.number().int().nullable(),
});

/** What creating an account or a token answers: the plaintext token, shown this once only. */
export const createdTokenView = z.object({
  token: z.string().describe('The bearer token; it is shown only once'),
  token_info: tokenView,
});

export const createdServiceAccountView = serviceAccountView.extend(createdTokenView.shape);

export const serviceAccountList = z.object({ data: z.array(serviceAccountView), meta: pageMeta });
export const tokenList = z.object({ data: z.array(tokenView) });
