/**
 * `/service-accounts` (research/agno.md §1.11): non-human principals of the caller's workspace with a
 * role and scopes, and their bearer tokens (stored as hashed API keys naming the account, so they
 * authenticate like keys and always carry the account's current grant). Management needs the
 * `service_accounts:*` scopes, which only the admin and owner roles (or `admin`) hold. Nobody can
 * grant more than they hold, and write, delete and management scopes need `allow_privileged_scopes`,
 * as in Agno. Every change goes to the audit log.
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ADMIN_SCOPE, coversScopes, expandRoles, generateApiKey } from '../../../auth/index.js';
import { AgentOsError } from '../../../errors/index.js';
import { AUDIT_KINDS } from '../../../security/index.js';
import type { Services } from '../../../services.js';
import type { ApiKeyRecord, ServiceAccountRecord } from '../../../store/types.js';
import { workspaceOf } from '../../plugins/access-control.js';
import { effectiveUserId } from '../../user-scope.js';
import { pageMetaOf } from '../pagination.js';
import {
  createdServiceAccountView,
  createdTokenView,
  createServiceAccountBody,
  createTokenBody,
  serviceAccountList,
  serviceAccountParams,
  serviceAccountsQuery,
  serviceAccountTokenParams,
  serviceAccountView,
  tokenList,
  type tokenView,
  updateServiceAccountBody,
} from './schemas.js';

/** Agno's defaults when a request names neither scopes nor a role: run things, read sessions and config. */
const DEFAULT_SCOPES = ['agents:run', 'teams:run', 'workflows:run', 'sessions:read', 'config:read'];

/** Resources whose every scope is privileged: they hand out or take away access. */
const PRIVILEGED_RESOURCES = new Set(['keys', 'service_accounts', 'workspaces']);

const DAY_MS = 86_400_000;
const seconds = (ms: number) => Math.floor(ms / 1000);
const secondsOrNull = (ms: number | null) => (ms === null ? null : seconds(ms));

function notFound(): AgentOsError {
  return new AgentOsError('AOS_SERVICE_ACCOUNT_NOT_FOUND', 'Service account not found');
}

function isPrivileged(scope: string): boolean {
  if (scope === ADMIN_SCOPE) return true;
  const resource = scope.slice(0, scope.indexOf(':'));
  const action = scope.slice(scope.lastIndexOf(':') + 1);
  return action === 'write' || action === 'delete' || PRIVILEGED_RESOURCES.has(resource);
}

function scopeStrings(entries: readonly (string | { scope: string })[]): string[] {
  return [...new Set(entries.map((entry) => (typeof entry === 'string' ? entry : entry.scope)))];
}

/**
 * Refuses a grant the caller could not use itself (privilege escalation), and a privileged grant
 * without `allow_privileged_scopes`.
 */
function assertGrantable(request: FastifyRequest, role: string | null, scopes: string[], allowPrivileged: boolean) {
  const granted = expandRoles(role === null ? [] : [role], scopes);
  const held = request.principal?.scopes ?? [];
  if (!coversScopes(held, granted)) {
    throw new AgentOsError('AOS_SCOPE_ESCALATION', 'A service account cannot get a role or scope its creator lacks', {
      details: { role, scopes },
    });
  }
  const privileged = granted.filter(isPrivileged);
  if (privileged.length > 0 && !allowPrivileged) {
    throw new AgentOsError(
      'AOS_SCOPE_ESCALATION',
      'Privileged scopes (write, delete, admin, keys, service_accounts, workspaces) need allow_privileged_scopes',
      { details: { privileged: privileged.slice(0, 20) } },
    );
  }
}

/**
 * Refuses to act on an account whose grant the caller does not hold itself: minting its tokens,
 * revoking them, renaming or revoking it. Otherwise an admin-role caller could mint a token for an
 * account with the global `admin` scope, or take away a more privileged account's access.
 */
function assertHoldsGrant(request: FastifyRequest, account: ServiceAccountRecord) {
  const granted = expandRoles(account.role === null ? [] : [account.role], account.scopes);
  if (!coversScopes(request.principal?.scopes ?? [], granted)) {
    throw new AgentOsError('AOS_SCOPE_ESCALATION', 'The caller lacks a role or scope this service account holds', {
      details: { role: account.role, scopes: account.scopes },
    });
  }
}

function toView(account: ServiceAccountRecord): z.infer<typeof serviceAccountView> {
  return {
    id: account.id,
    name: account.name,
    description: account.description,
    role: account.role,
    scopes: account.scopes,
    workspace_id: account.workspaceId,
    created_by: account.createdBy,
    created_at: seconds(account.createdAt),
    updated_at: seconds(account.updatedAt),
    revoked_at: secondsOrNull(account.revokedAt),
  };
}

function toTokenView(key: ApiKeyRecord): z.infer<typeof tokenView> {
  return {
    id: key.id,
    prefix: key.keyPrefix,
    created_at: seconds(key.createdAt),
    last_used_at: secondsOrNull(key.lastUsedAt),
    expires_at: secondsOrNull(key.expiresAt),
    revoked_at: secondsOrNull(key.revokedAt),
  };
}

/** Route table of `/service-accounts`. */
export const serviceAccountRoutes: FastifyPluginAsync<{ services: Services }> = async (fastify, { services }) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const { store, audit } = services;

  async function activeAccount(workspaceId: string, id: string): Promise<ServiceAccountRecord> {
    const account = await store.serviceAccounts.get(workspaceId, id);
    if (!account || account.revokedAt !== null) throw notFound();
    return account;
  }

  /**
   * Refuses a caller pinned to its user (`auth.user_isolation`): service-account tokens carry no user, so
   * one minted by a pinned caller would read every user's sessions and memories. Admins are never pinned.
   */
  function assertNotPinned(request: FastifyRequest) {
    if (effectiveUserId(request, services.config) !== undefined) {
      throw new AgentOsError(
        'AOS_SCOPE_ESCALATION',
        'Under user isolation a caller pinned to its user cannot create service accounts or mint their tokens',
        { details: { reason: 'user_isolation' } },
      );
    }
  }

  async function mintToken(
    account: ServiceAccountRecord,
    lifetime: { expires_in_days: number; never_expires: boolean },
  ): Promise<z.infer<typeof createdTokenView>> {
    const key = generateApiKey();
    const created = await store.apiKeys.create({
      id: key.id,
      name: `sa:${account.name}`,
      keyHash: key.keyHash,
      keyPrefix: key.keyPrefix,
      scopes: [],
      workspaceId: account.workspaceId,
      serviceAccountId: account.id,
      expiresAt: lifetime.never_expires ? null : Date.now() + lifetime.expires_in_days * DAY_MS,
    });
    return { token: key.plaintext, token_info: toTokenView(created) };
  }

  function record(
    request: FastifyRequest,
    kind: string,
    account: ServiceAccountRecord,
    extra: Record<string, unknown> = {},
  ) {
    return audit.record(kind, {
      principal: request.principal?.id ?? null,
      workspaceId: account.workspaceId,
      details: {
        action: kind,
        target: { type: 'service_account', id: account.id },
        name: account.name,
        role: account.role,
        scopes: account.scopes,
        requestId: request.id,
        ...extra,
      },
    });
  }

  app.post('/service-accounts', {
    config: { access: { scope: 'service_accounts:write' } },
    schema: {
      summary: 'Create a service account and its first token',
      description:
        'The token is returned once. Without `role` and `scopes` the account gets Agno’s defaults (agents, teams ' +
        'and workflows run; sessions and config read). Write, delete and management scopes, and roles above ' +
        'viewer, need `allow_privileged_scopes`; nobody can grant what they do not hold (403).',
      tags: ['Service accounts'],
      operationId: 'createServiceAccount',
      body: createServiceAccountBody,
      response: { 201: createdServiceAccountView },
    },
    handler: async (request, reply) => {
      assertNotPinned(request);
      const body = request.body;
      const role = body.role ?? null;
      const scopes = body.scopes ? scopeStrings(body.scopes) : role === null ? DEFAULT_SCOPES : [];
      assertGrantable(request, role, scopes, body.allow_privileged_scopes);
      const account = await store.serviceAccounts.create({
        id: `sa_${randomUUID().replaceAll('-', '').slice(0, 16)}`,
        workspaceId: workspaceOf(request),
        name: body.name,
        description: body.description ?? null,
        role,
        scopes,
        createdBy: request.principal?.id ?? null,
      });
      const token = await mintToken(account, body);
      await record(request, AUDIT_KINDS.serviceAccountCreated, account, { tokenId: token.token_info.id });
      return reply.code(201).send({ ...toView(account), ...token });
    },
  });

  app.get('/service-accounts', {
    config: { access: { scope: 'service_accounts:read' } },
    schema: {
      summary: 'List the service accounts of the workspace',
      tags: ['Service accounts'],
      operationId: 'listServiceAccounts',
      querystring: serviceAccountsQuery,
      response: { 200: serviceAccountList },
    },
    handler: async (request) => {
      const { page, limit, include_revoked, sort_by, sort_order } = request.query;
      const result = await store.serviceAccounts.list(workspaceOf(request), {
        page,
        limit,
        includeRevoked: include_revoked,
        sortBy: sort_by,
        sortOrder: sort_order,
      });
      return { data: result.items.map(toView), meta: pageMetaOf(result.total, { page, limit }) };
    },
  });

  app.get('/service-accounts/:service_account_id', {
    config: { access: { scope: 'service_accounts:read' } },
    schema: {
      summary: 'Get a service account',
      tags: ['Service accounts'],
      operationId: 'getServiceAccount',
      params: serviceAccountParams,
      response: { 200: serviceAccountView },
    },
    handler: async (request) => {
      const account = await store.serviceAccounts.get(workspaceOf(request), request.params.service_account_id);
      if (!account) throw notFound();
      return toView(account);
    },
  });

  app.patch('/service-accounts/:service_account_id', {
    config: { access: { scope: 'service_accounts:write' } },
    schema: {
      summary: 'Update a service account’s name, description, role or scopes',
      description: 'A new role or scope set applies to every token of the account at once.',
      tags: ['Service accounts'],
      operationId: 'updateServiceAccount',
      params: serviceAccountParams,
      body: updateServiceAccountBody,
      response: { 200: serviceAccountView },
    },
    handler: async (request) => {
      const workspaceId = workspaceOf(request);
      const current = await activeAccount(workspaceId, request.params.service_account_id);
      assertHoldsGrant(request, current);
      const body = request.body;
      const role = body.role === undefined ? current.role : body.role;
      const scopes = body.scopes === undefined ? current.scopes : scopeStrings(body.scopes);
      if (body.role !== undefined || body.scopes !== undefined) {
        assertGrantable(request, role, scopes, body.allow_privileged_scopes);
      }
      const updated = await store.serviceAccounts.update(workspaceId, current.id, {
        ...(body.name === undefined ? {} : { name: body.name }),
        ...(body.description === undefined ? {} : { description: body.description }),
        ...(body.role === undefined ? {} : { role }),
        ...(body.scopes === undefined ? {} : { scopes }),
      });
      if (!updated) throw notFound();
      await record(request, AUDIT_KINDS.serviceAccountUpdated, updated, {
        before: { name: current.name, role: current.role, scopes: current.scopes },
      });
      return toView(updated);
    },
  });

  app.delete('/service-accounts/:service_account_id', {
    config: { access: { scope: 'service_accounts:delete' } },
    schema: {
      summary: 'Revoke a service account and all its tokens',
      tags: ['Service accounts'],
      operationId: 'deleteServiceAccount',
      params: serviceAccountParams,
      response: { 204: z.null().describe('No content') },
    },
    handler: async (request, reply) => {
      const workspaceId = workspaceOf(request);
      const account = await activeAccount(workspaceId, request.params.service_account_id);
      assertHoldsGrant(request, account);
      if (!(await store.serviceAccounts.revoke(workspaceId, account.id))) throw notFound();
      await record(request, AUDIT_KINDS.serviceAccountRevoked, account);
      return reply.code(204).send(null);
    },
  });

  app.get('/service-accounts/:service_account_id/tokens', {
    config: { access: { scope: 'service_accounts:read' } },
    schema: {
      summary: 'List the tokens of a service account (never their values)',
      tags: ['Service accounts'],
      operationId: 'listServiceAccountTokens',
      params: serviceAccountParams,
      response: { 200: tokenList },
    },
    handler: async (request) => {
      const account = await store.serviceAccounts.get(workspaceOf(request), request.params.service_account_id);
      if (!account) throw notFound();
      const tokens = await store.apiKeys.list({ serviceAccountId: account.id, includeRevoked: true, limit: 1000 });
      return { data: tokens.items.map(toTokenView) };
    },
  });

  app.post('/service-accounts/:service_account_id/tokens', {
    config: { access: { scope: 'service_accounts:write' } },
    schema: {
      summary: 'Mint another token for a service account (rotation)',
      description: 'The token is returned once; older tokens stay valid until revoked or expired.',
      tags: ['Service accounts'],
      operationId: 'createServiceAccountToken',
      params: serviceAccountParams,
      body: createTokenBody,
      response: { 201: createdTokenView },
    },
    handler: async (request, reply) => {
      const account = await activeAccount(workspaceOf(request), request.params.service_account_id);
      assertNotPinned(request);
      assertHoldsGrant(request, account);
      const token = await mintToken(account, request.body);
      await record(request, AUDIT_KINDS.serviceAccountTokenCreated, account, { tokenId: token.token_info.id });
      return reply.code(201).send(token);
    },
  });

  app.delete('/service-accounts/:service_account_id/tokens/:token_id', {
    config: { access: { scope: 'service_accounts:delete' } },
    schema: {
      summary: 'Revoke one token of a service account',
      tags: ['Service accounts'],
      operationId: 'deleteServiceAccountToken',
      params: serviceAccountTokenParams,
      response: { 204: z.null().describe('No content') },
    },
    handler: async (request, reply) => {
      const account = await activeAccount(workspaceOf(request), request.params.service_account_id);
      assertHoldsGrant(request, account);
      const key = await store.apiKeys.get(request.params.token_id);
      if (!key || key.serviceAccountId !== account.id || !(await store.apiKeys.revoke(key.id))) throw notFound();
      await record(request, AUDIT_KINDS.serviceAccountTokenRevoked, account, { tokenId: key.id });
      return reply.code(204).send(null);
    },
  });
};
