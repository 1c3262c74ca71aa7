/**
 * `/api/security/…`: the audit log (admin only). `GET /api/security/audit/verify` recomputes the HMAC
 * chain and names every entry that no longer matches; `GET /api/security/audit` pages through entries.
 * Timestamps are epoch milliseconds, as everywhere on `/api` (CONTRACT.md §5).
 * @module
 */
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Services } from '../../../services.js';
import '../../route-config.js';

const verifyResponse = z.object({
  valid: z.boolean(),
  entries: z.number().int().describe('Entries checked'),
  violations: z.array(z.object({ seq: z.number().int(), reason: z.string() })),
});

const auditEntry = z.object({
  seq: z.number().int(),
  at: z.number().int().describe('Epoch milliseconds'),
  kind: z.string(),
  principal: z.string().nullable(),
  workspaceId: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
  prevHash: z.string(),
  hash: z.string(),
});

const auditQuery = z.object({
  page: z.coerce.number().int().min(1).default(1),
  limit: z.coerce.number().int().min(1).max(1000).default(50),
  kind: z
    .string()
    .regex(/^[a-z_.]{1,64}$/)
    .optional(),
  order: z.enum(['asc', 'desc']).default('desc'),
});

/** Route table of `/api/security`. */
export const securityRoutes: FastifyPluginAsync<{ services: Services }> = async (fastify, { services }) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();

  app.get('/security/audit/verify', {
    config: { access: { scope: 'admin' } },
    schema: {
      summary: 'Verify the audit log hash chain',
      description: 'Recomputes every entry’s HMAC with the server secret; `violations` names each altered entry.',
      tags: ['Security'],
      operationId: 'verifyAuditLog',
      response: { 200: verifyResponse },
    },
    handler: async () => services.audit.verify(),
  });

  app.get('/security/audit', {
    config: { access: { scope: 'admin' } },
    schema: {
      summary: 'List audit log entries',
      description: 'Newest first unless `order=asc`; `kind` filters (e.g. auth.failed, rate_limit.exceeded).',
      tags: ['Security'],
      operationId: 'listAuditLog',
      querystring: auditQuery,
      response: {
        200: z.object({
          entries: z.array(auditEntry),
          count: z.number().int().describe('Entries on this page'),
          total: z.number().int(),
          page: z.number().int(),
          limit: z.number().int(),
        }),
      },
    },
    handler: async (request) => {
      const { page, limit, kind, order } = request.query;
      const result = await services.audit.list({ page, limit, order, ...(kind === undefined ? {} : { kind }) });
      return { entries: result.items, count: result.items.length, total: result.total, page, limit };
    },
  });
};
