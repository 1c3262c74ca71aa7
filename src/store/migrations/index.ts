import type { Migration } from 'kysely';
import * as initial from './001-initial.js';
import * as runOutput from './002-run-output.js';
import * as rateLimits from './003-rate-limits.js';
import * as auditLog from './004-audit-log.js';
import * as approvals from './005-approvals.js';
import * as schedules from './006-schedules.js';
import * as knowledge from './007-knowledge.js';
import * as memory from './008-memory.js';
import * as observability from './009-observability.js';
import * as workflows from './010-workflows.js';
import * as postgresNotify from './011-postgres-notify.js';
import * as agents from './012-agents.js';
import * as components from './012-components.js';
import * as serviceAccounts from './013-service-accounts.js';
import * as usage from './014-usage.js';
import * as sessionWorkspaceKeys from './015-session-workspace-keys.js';
import * as scheduleAuthorScopes from './016-schedule-author-scopes.js';
import * as traceSpanKeys from './017-trace-span-keys.js';

/**
 * The migrations of both dialects, in order (one source of truth; `column-types.ts` holds what differs). Names sort lexically, which is the order Kysely applies them in;
 * a new file gets the next number and an entry here, and an applied migration is never edited.
 */
export const migrations: Record<string, Migration> = {
  '001-initial': initial,
  '002-run-output': runOutput,
  '003-rate-limits': rateLimits,
  '004-audit-log': auditLog,
  '005-approvals': approvals,
  '006-schedules': schedules,
  '007-knowledge': knowledge,
  '008-memory': memory,
  '009-observability': observability,
  '010-workflows': workflows,
  '011-postgres-notify': postgresNotify,
  '012-agents': agents,
  '012-components': components,
  '013-service-accounts': serviceAccounts,
  '014-usage': usage,
  '015-session-workspace-keys': sessionWorkspaceKeys,
  '016-schedule-author-scopes': scheduleAuthorScopes,
  '017-trace-span-keys': traceSpanKeys,
};
