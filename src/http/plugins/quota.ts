/**
 * Budgets at the door (issue 5): a request that would start runs (the `message` and `workflow_run`
 * rate-limit classes: agent, team and workflow runs, chat, `/v1/chat/completions`) is refused with 429
 * `AOS_QUOTA_EXCEEDED` while the caller's daily budget is used up, whatever surface it came through.
 * Agent budgets are checked where runs start (`RunManager.start`), which also covers schedules and the bus.
 * @module
 */
import type { FastifyInstance } from 'fastify';
import { callerSubjectOf } from '../../auth/index.js';
import type { QuotaService } from '../../quotas/index.js';
import { rateLimitClassOf } from './rate-limit.js';
import '../route-config.js';

/** Options of {@link registerQuota}. */
export interface QuotaOptions {
  quotas: Pick<QuotaService, 'checkKey'>;
}

/** Installs the budget check on the root instance; call after authentication and rate limits. */
export function registerQuota(app: FastifyInstance, { quotas }: QuotaOptions): void {
  app.addHook('onRequest', async (request) => {
    if (request.method === 'OPTIONS' || request.routeOptions.config?.access?.public) return;
    const rateLimitClass = rateLimitClassOf(request);
    if (rateLimitClass !== 'message' && rateLimitClass !== 'workflow_run') return;
    const principal = request.principal;
    if (!principal) return;
    await quotas.checkKey(callerSubjectOf(principal));
  });
}
