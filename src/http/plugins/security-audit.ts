/**
 * Writes refused requests to the audit log: authentication failures (401), permission denials (403),
 * rate-limit and quota refusals (429). An `onError` hook runs before the error handler answers, so the
 * entry is stored before the client sees the refusal. A failing audit write is logged, never turned into
 * a different response.
 *
 * It also records every successful config change (`config.changed`): a write or delete on a route whose
 * declared scope is one of {@link CONFIG_RESOURCES} (components, API agents, personas, schedules, workflow
 * definitions), or any non-GET route declaring the `admin` scope (plugins, migrations). The rule reads the scope each route declares next to its schema, so a new route
 * of these resources is audited without a list to keep in sync. An `onSend` hook stores the entry before
 * the response leaves, with actor, action and target.
 * @module
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ADMIN_SCOPE, type Principal } from '../../auth/index.js';
import { isAgentOsError } from '../../errors/index.js';
import { AUDIT_KINDS, type AuditLog } from '../../security/index.js';
import type { RouteAccess } from '../route-config.js';

const MAX_PATH = 256;

function auditKind(status: number, code: string | undefined): string | undefined {
  if (status === 401) return AUDIT_KINDS.authFailed;
  if (status === 403) return AUDIT_KINDS.permissionDenied;
  if (status === 429) return code === 'AOS_QUOTA_EXCEEDED' ? AUDIT_KINDS.quotaExceeded : AUDIT_KINDS.rateLimited;
  return undefined;
}

/**
 * Scope resources whose writes and deletes are configuration. Approvals, service accounts and keys are
 * audited where they change, with their own kinds.
 */
const CONFIG_RESOURCES = new Set(['components', 'agents', 'schedules', 'workflows']);

/** Route actions that change configuration; `run` and `read` never do. */
const CONFIG_ACTIONS = new Set(['write', 'delete']);

/** Response fields that name a created object, in the order they are tried. */
const ID_FIELDS = ['id', 'component_id', 'agent_id', 'schedule_id', 'workflow_id'] as const;

/** Bodies larger than this are not parsed for the created id (the path still names the target). */
const MAX_ID_PARSE = 256 * 1024;

/** Route segments whose singular is not the plural without its `s`. */
const TARGET_TYPES: Readonly<Record<string, string>> = { scheduler: 'schedule' };

/**
 * True when the route's declared scope is a write or delete on a config resource, or `admin` (the
 * hook only asks for non-GET requests): an admin-only write (`POST /api/plugins`, migrations) changes
 * server-wide configuration, whatever resource it names.
 */
function isConfigChange(access: RouteAccess | undefined): boolean {
  if (access?.scope === ADMIN_SCOPE) return true;
  const [resource, action] = (access?.scope ?? '').split(':');
  return resource !== undefined && action !== undefined && CONFIG_RESOURCES.has(resource) && CONFIG_ACTIONS.has(action);
}

/**
 * What changed: the type is the route's first static segment (after `/api`), singular; the id is the
 * path param right after it or, for a create, the id the response names. `/components/:component_id/configs`
 * is a change of component `:component_id` (the `route` detail says which part).
 */
function targetOf(request: FastifyRequest, payload: unknown): { type: string; id: string | null } {
  const segments = (request.routeOptions.url ?? '').split('/').filter((segment) => segment !== '');
  if (segments[0] === 'api') segments.shift();
  const head = segments[0] ?? 'config';
  const type = TARGET_TYPES[head] ?? head.replace(/s$/, '');
  const params = (request.params ?? {}) as Record<string, unknown>;
  const next = segments[1];
  if (next?.startsWith(':')) {
    const value = params[next.slice(1)];
    if (typeof value === 'string') return { type, id: value };
  }
  if (typeof payload !== 'string' || payload.length > MAX_ID_PARSE || !payload.startsWith('{'))
    return { type, id: null };
  try {
    const body = JSON.parse(payload) as Record<string, unknown>;
    for (const field of ID_FIELDS) {
      const value = body[field];
      if (typeof value === 'string' || typeof value === 'number') return { type, id: String(value) };
    }
  } catch {
    // A body that is not JSON names no target; the path and route still say what changed.
  }
  return { type, id: null };
}

/** `created` for a POST to a collection, `deleted` for a DELETE, otherwise `updated`. */
function verbOf(request: FastifyRequest): string {
  if (request.method === 'DELETE') return 'deleted';
  if (request.method === 'POST' && !(request.routeOptions.url ?? '').includes(':')) return 'created';
  return 'updated';
}

/** Records one successful config change; failures are logged, the response stands. */
async function recordConfigChange(
  audit: AuditLog,
  request: FastifyRequest,
  reply: FastifyReply,
  payload: unknown,
): Promise<void> {
  if (reply.statusCode < 200 || reply.statusCode >= 300) return;
  if (!isConfigChange(request.routeOptions.config?.access)) return;
  const target = targetOf(request, payload);
  const principal = request.principal ?? null;
  const path = request.url.split('?')[0] ?? '';
  try {
    await audit.record(AUDIT_KINDS.configChanged, {
      principal: principal?.id ?? null,
      workspaceId: principal?.workspaceId ?? null,
      details: {
        action: `${target.type}.${verbOf(request)}`,
        target,
        method: request.method,
        path: path.length > MAX_PATH ? `${path.slice(0, MAX_PATH)}…` : path,
        route: request.routeOptions.url ?? null,
        status: reply.statusCode,
        requestId: request.id,
        ...(principal ? { principalKind: principal.kind } : {}),
      },
    });
  } catch (auditError) {
    request.log.error({ err: auditError, kind: AUDIT_KINDS.configChanged }, 'audit log append failed');
  }
}

/** Installs the audit hooks on the root instance (they apply to every surface). */
export function registerSecurityAudit(app: FastifyInstance, audit: AuditLog): void {
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.method !== 'GET' && request.method !== 'HEAD' && request.method !== 'OPTIONS') {
      await recordConfigChange(audit, request, reply, payload);
    }
    return payload;
  });
  app.addHook('onError', async (request, _reply, error) => {
    const status = isAgentOsError(error) ? error.status : (error as FastifyError).statusCode;
    const code = isAgentOsError(error) ? error.code : (error as FastifyError).code;
    const kind = typeof status === 'number' ? auditKind(status, code) : undefined;
    if (kind === undefined) return;
    const principal = (request as FastifyRequest & { principal?: Principal | null }).principal ?? null;
    const extra = isAgentOsError(error) ? (error.details as Record<string, unknown> | undefined) : undefined;
    // Only the path: a query string may carry a credential (`?token=` on WebSocket routes).
    const path = request.url.split('?')[0] ?? '';
    try {
      await audit.record(kind, {
        principal: principal?.id ?? null,
        workspaceId: principal?.workspaceId ?? null,
        details: {
          method: request.method,
          path: path.length > MAX_PATH ? `${path.slice(0, MAX_PATH)}…` : path,
          route: request.routeOptions.url ?? null,
          status,
          code: code ?? null,
          message: error.message.slice(0, MAX_PATH),
          ip: request.ip,
          requestId: request.id,
          ...(principal ? { principalKind: principal.kind } : {}),
          ...(typeof extra?.retryAfter === 'number' ? { retryAfter: extra.retryAfter } : {}),
          ...(typeof extra?.rateLimitClass === 'string' ? { rateLimitClass: extra.rateLimitClass } : {}),
          ...(typeof extra?.required === 'string' ? { required: extra.required } : {}),
        },
      });
    } catch (auditError) {
      request.log.error({ err: auditError, kind }, 'audit log append failed');
    }
  });
}
