/**
 * Sessions on the root surface (research/agno.md §1.4, CONTRACT.md §5): list, create, read with the
 * chat history, the session's runs, rename, update and delete (cancelling what still executes).
 * Every store call names the caller's workspace, so another tenant's session is simply not found.
 * @module
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AgentOsError, NotFoundError } from '../../../errors/index.js';
import { newSessionId } from '../../../runtime/ids.js';
import type { Services } from '../../../services.js';
import type {
  ComponentType,
  Page,
  RunRecord,
  SessionFilter,
  SessionRecord,
  SessionUpdate,
  Store,
} from '../../../store/types.js';
import { workspaceOf } from '../../plugins/access-control.js';
import { assertOwnedBy, effectiveUserId, isOwnedBy } from '../../user-scope.js';
import { pageMeta, pageMetaOf } from '../pagination.js';
import { toRunView } from '../runs/run-view.js';
import { runView } from '../runs/schemas.js';
import {
  createSessionBody,
  deleteSessionsBody,
  noContent,
  renameSessionBody,
  sessionDetail,
  sessionParams,
  sessionQuery,
  sessionRunParams,
  sessionRunsQuery,
  sessionsListQuery,
  sessionView,
  sessionWithMemory,
  updateSessionBody,
} from './schemas.js';

/** How many of the newest runs feed a session's `chat_history`. */
const CHAT_HISTORY_RUNS = 100;
/** How long a delete waits for this process's cancelled runs to record their end. */
const CANCEL_SETTLE_MS = 2000;

const COMPONENT_KEY = { agent: 'agent_id', team: 'team_id', workflow: 'workflow_id' } as const;

function toSessionView(session: SessionRecord): z.infer<typeof sessionView> {
  return {
    session_id: session.sessionId,
    session_name: session.sessionName,
    session_type: session.sessionType,
    [COMPONENT_KEY[session.sessionType]]: session.componentId,
    user_id: session.userId,
    session_state: session.sessionState,
    metadata: session.metadata,
    created_at: new Date(session.createdAt).toISOString(),
    updated_at: new Date(session.updatedAt).toISOString(),
  };
}

/** The one component a create body names (the schema guarantees exactly one). */
function componentOf(body: z.infer<typeof createSessionBody>): { sessionType: ComponentType; componentId: string } {
  if (body.agent_id !== undefined) return { sessionType: 'agent', componentId: body.agent_id };
  if (body.team_id !== undefined) return { sessionType: 'team', componentId: body.team_id };
  return { sessionType: 'workflow', componentId: body.workflow_id ?? '' };
}

function sessionNotFound(): AgentOsError {
  return new AgentOsError('AOS_SESSION_NOT_FOUND', 'Session not found');
}

/**
 * The session of the caller's workspace and of its user, else 404: the pinned user under user isolation,
 * otherwise `requestedUserId` when one is named.
 */
async function findSession(
  services: Services,
  request: FastifyRequest,
  sessionId: string,
  requestedUserId?: string,
): Promise<SessionRecord> {
  const session = await services.store.sessions.get(workspaceOf(request), sessionId);
  return assertOwnedBy(session, effectiveUserId(request, services.config) ?? requestedUserId, sessionNotFound);
}

function runViewOf(services: Services, run: RunRecord) {
  const agent =
    run.componentType === 'agent' ? services.config.agents.find((entry) => entry.id === run.componentId) : undefined;
  return toRunView(run, agent ? (agent.name ?? agent.id) : undefined);
}

async function detailOf(services: Services, session: SessionRecord): Promise<z.infer<typeof sessionDetail>> {
  const newest = await services.store.runs.list({
    workspaceId: session.workspaceId,
    sessionId: session.sessionId,
    order: 'desc',
    limit: CHAT_HISTORY_RUNS,
  });
  return {
    ...toSessionView(session),
    runs_count: newest.total,
    chat_history: newest.items.reverse().flatMap((run) => runViewOf(services, run).messages),
  };
}

/**
 * A page of sessions. The store lists newest-updated first; an ascending page is the mirror of the
 * descending positions, read as at most two descending pages of the same size after a count, so it
 * never loads more than twice the page. Sessions written between those reads may shift it by a row.
 */
async function listSessions(
  store: Store,
  filter: SessionFilter & { page: number; limit: number },
  order: 'asc' | 'desc',
): Promise<Page<SessionRecord>> {
  if (order === 'desc') return store.sessions.list(filter);
  const { page, limit } = filter;
  const { total } = await store.sessions.list({ ...filter, page: 1, limit: 1 });
  const end = total - (page - 1) * limit;
  if (end <= 0) return { items: [], total };
  const start = Math.max(0, end - limit);
  const firstPage = Math.floor(start / limit) + 1;
  const lastPage = Math.floor((end - 1) / limit) + 1;
  const rows: SessionRecord[] = [];
  for (let current = firstPage; current <= lastPage; current += 1) {
    rows.push(...(await store.sessions.list({ ...filter, page: current, limit })).items);
  }
  const offset = (firstPage - 1) * limit;
  return { items: rows.slice(start - offset, end - offset).reverse(), total };
}

/**
 * Cancels the session's pending and running runs, then deletes it with its runs and events. False when
 * there is no such session, or (with `userId`, a pinned caller) it belongs to another user.
 */
async function deleteSession(
  services: Services,
  workspaceId: string,
  sessionId: string,
  userId: string | undefined,
): Promise<boolean> {
  const { store, runs } = services;
  if (userId !== undefined && !isOwnedBy(await store.sessions.get(workspaceId, sessionId), userId)) return false;
  const unfinished = (
    await Promise.all(
      (['running', 'pending'] as const).map((status) =>
        store.runs.list({ workspaceId, sessionId, status, limit: 1000 }),
      ),
    )
  ).flatMap((page) => page.items);
  for (const run of unfinished) await runs.cancel(workspaceId, run.runId);
  // A run of this process ends promptly once aborted; letting it record its end first spares its
  // caller a vanished run. Runs of other processes find their session gone and stop on their own.
  const own = unfinished.filter((run) => run.owner === runs.instanceId).map((run) => run.runId);
  const deadline = Date.now() + CANCEL_SETTLE_MS;
  while (own.length > 0 && Date.now() < deadline) {
    const current = await store.runs.get(workspaceId, own[0] as string);
    if (!current || (current.status !== 'running' && current.status !== 'pending')) own.shift();
    else await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return store.sessions.delete(workspaceId, sessionId);
}

/** Route table of `/sessions`. */
export const sessionRoutes: FastifyPluginAsync<{ services: Services }> = async (fastify, { services }) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const { store, config } = services;
  const known: Record<ComponentType, ReadonlySet<string>> = {
    agent: new Set(config.agents.map((agent) => agent.id)),
    team: new Set(config.teams.map((team) => team.id)),
    workflow: new Set(config.workflows.map((workflow) => workflow.id)),
  };

  /** Rename and PATCH: a pinned caller may only change its own session; anyone else's is missing. */
  async function updateSession(request: FastifyRequest, sessionId: string, patch: SessionUpdate) {
    if (effectiveUserId(request, config) !== undefined) await findSession(services, request, sessionId);
    const session = await store.sessions.update(workspaceOf(request), sessionId, patch);
    if (!session) throw sessionNotFound();
    return detailOf(services, session);
  }

  app.get('/sessions', {
    config: { access: { scope: 'sessions:read' } },
    schema: {
      summary: 'List sessions',
      tags: ['Sessions'],
      operationId: 'listSessions',
      querystring: sessionsListQuery,
      response: { 200: z.object({ sessions: z.array(sessionView), meta: pageMeta }) },
    },
    handler: async (request) => {
      const { type, component_id, agent_id, user_id, page, limit, sort_order } = request.query;
      const sessionType = type ?? (agent_id === undefined ? undefined : 'agent');
      const componentId = component_id ?? agent_id;
      const userId = effectiveUserId(request, config) ?? user_id;
      const result = await listSessions(
        store,
        {
          workspaceId: workspaceOf(request),
          ...(sessionType === undefined ? {} : { sessionType }),
          ...(componentId === undefined ? {} : { componentId }),
          ...(userId === undefined ? {} : { userId }),
          page,
          limit,
        },
        sort_order,
      );
      return { sessions: result.items.map(toSessionView), meta: pageMetaOf(result.total, { page, limit }) };
    },
  });

  app.post('/sessions', {
    config: { access: { scope: 'sessions:write' } },
    schema: {
      summary: 'Create an empty session',
      description: 'Exactly one of `agent_id`, `team_id`, `workflow_id`, naming a configured component.',
      tags: ['Sessions'],
      operationId: 'createSession',
      body: createSessionBody,
      response: { 201: sessionDetail },
    },
    handler: async (request, reply) => {
      const body = request.body;
      const { sessionType, componentId } = componentOf(body);
      if (!known[sessionType].has(componentId)) {
        throw new AgentOsError('AOS_BAD_REQUEST', `Unknown ${sessionType} "${componentId}"`);
      }
      const session = await store.sessions.create({
        sessionId: body.session_id ?? newSessionId(),
        workspaceId: workspaceOf(request),
        sessionType,
        componentId,
        userId: effectiveUserId(request, config) ?? body.user_id ?? null,
        sessionName: body.session_name ?? null,
        sessionState: body.session_state ?? {},
        metadata: body.metadata ?? {},
      });
      return reply.code(201).send(await detailOf(services, session));
    },
  });

  app.get('/sessions/:session_id', {
    config: { access: { scope: 'sessions:read' } },
    schema: {
      summary: 'Get a session with its chat history',
      description: `\`chat_history\` holds the display messages of the newest ${CHAT_HISTORY_RUNS} runs, oldest first.`,
      tags: ['Sessions'],
      operationId: 'getSession',
      params: sessionParams,
      querystring: sessionQuery,
      response: { 200: sessionWithMemory },
    },
    handler: async (request) => {
      const session = await findSession(services, request, request.params.session_id, request.query.user_id);
      const [detail, summary] = await Promise.all([
        detailOf(services, session),
        store.memory.getSessionSummary(session.workspaceId, session.sessionId),
      ]);
      // Seed 001: the summary written after runs of `memory: true` agents; empty until one ran.
      return { ...detail, memory: { topics: summary?.topics ?? [], summary: summary?.summary ?? null } };
    },
  });

  app.get('/sessions/:session_id/runs', {
    config: { access: { scope: 'sessions:read' } },
    schema: {
      summary: "List a session's runs",
      description: 'Oldest first.',
      tags: ['Sessions'],
      operationId: 'listSessionRuns',
      params: sessionParams,
      querystring: sessionRunsQuery,
      response: { 200: z.object({ runs: z.array(runView), meta: pageMeta }) },
    },
    handler: async (request) => {
      const { user_id, page, limit } = request.query;
      const session = await findSession(services, request, request.params.session_id, user_id);
      const result = await store.runs.list({
        workspaceId: session.workspaceId,
        sessionId: session.sessionId,
        order: 'asc',
        page,
        limit,
      });
      return {
        runs: result.items.map((run) => runViewOf(services, run)),
        meta: pageMetaOf(result.total, { page, limit }),
      };
    },
  });

  app.get('/sessions/:session_id/runs/:run_id', {
    config: { access: { scope: 'sessions:read' } },
    schema: {
      summary: 'Get one run of a session',
      tags: ['Sessions'],
      operationId: 'getSessionRun',
      params: sessionRunParams,
      querystring: sessionQuery,
      response: { 200: runView },
    },
    handler: async (request) => {
      const session = await findSession(services, request, request.params.session_id, request.query.user_id);
      const run = await store.runs.get(session.workspaceId, request.params.run_id);
      if (!run || run.sessionId !== session.sessionId) throw new NotFoundError('Run not found');
      return runViewOf(services, run);
    },
  });

  app.post('/sessions/:session_id/rename', {
    config: { access: { scope: 'sessions:write' } },
    schema: {
      summary: 'Rename a session',
      tags: ['Sessions'],
      operationId: 'renameSession',
      params: sessionParams,
      body: renameSessionBody,
      response: { 200: sessionDetail },
    },
    handler: async (request) =>
      updateSession(request, request.params.session_id, { sessionName: request.body.session_name }),
  });

  app.patch('/sessions/:session_id', {
    config: { access: { scope: 'sessions:write' } },
    schema: {
      summary: 'Update a session',
      description: 'Each field given replaces the stored one; `session_state` and `metadata` are not merged.',
      tags: ['Sessions'],
      operationId: 'updateSession',
      params: sessionParams,
      body: updateSessionBody,
      response: { 200: sessionDetail },
    },
    handler: async (request) => {
      const { session_name, session_state, metadata } = request.body;
      return updateSession(request, request.params.session_id, {
        ...(session_name === undefined ? {} : { sessionName: session_name }),
        ...(session_state === undefined ? {} : { sessionState: session_state }),
        ...(metadata === undefined ? {} : { metadata }),
      });
    },
  });

  app.delete('/sessions/:session_id', {
    config: { access: { scope: 'sessions:delete' } },
    schema: {
      summary: 'Delete a session',
      description: 'Cancels its executing runs, then deletes it with its runs and their events.',
      tags: ['Sessions'],
      operationId: 'deleteSession',
      params: sessionParams,
      response: { 204: noContent },
    },
    handler: async (request, reply) => {
      const userId = effectiveUserId(request, config);
      if (!(await deleteSession(services, workspaceOf(request), request.params.session_id, userId))) {
        throw sessionNotFound();
      }
      return reply.code(204).send(null);
    },
  });

  app.delete('/sessions', {
    config: { access: { scope: 'sessions:delete' } },
    schema: {
      summary: 'Delete several sessions',
      description: 'Ids that name no session of the workspace are skipped. `session_types` is accepted and ignored.',
      tags: ['Sessions'],
      operationId: 'deleteSessions',
      body: deleteSessionsBody,
      response: { 204: noContent },
    },
    handler: async (request, reply) => {
      const workspaceId = workspaceOf(request);
      const userId = effectiveUserId(request, config);
      for (const sessionId of new Set(request.body.session_ids)) {
        await deleteSession(services, workspaceId, sessionId, userId);
      }
      return reply.code(204).send(null);
    },
  });
};
