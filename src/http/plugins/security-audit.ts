/**
 * Writes refused requests to the audit log: authentication failures (401), permission denials (403),
 * rate-limit and quota refusals (429). An `onError` hook runs before the error handler answers, so the
 * entry is stored before the client sees the refusal. A failing audit write is logged, never turned into
 * a different response.
 * @module
 */
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import type { Principal } from '../../auth/index.js';
import { isAgentOsError } from '../../errors/index.js';
import { AUDIT_KINDS, type AuditLog } from '../../security/index.js';

const MAX_PATH = 256;

function auditKind(status: number, code: string | undefined): string | undefined {
  if (status === 401) return AUDIT_KINDS.authFailed;
  if (status === 403) return AUDIT_KINDS.permissionDenied;
  if (status === 429) return code === 'AOS_QUOTA_EXCEEDED' ? AUDIT_KINDS.quotaExceeded : AUDIT_KINDS.rateLimited;
  return undefined;
}

/** Installs the audit hook on the root instance (it applies to every surface). */
export function registerSecurityAudit(app: FastifyInstance, audit: AuditLog): void {
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
