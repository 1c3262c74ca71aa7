/**
 * Quotas (issue 5): daily token and cost budgets per caller and per agent, over `store.usage`.
 * @module
 */
export { type QuotaKind, QuotaService, type QuotaServiceOptions, type RunUsage } from './quota-service.js';
export { secondsUntilNextUtcDay, utcDay } from './utc-day.js';
