/**
 * `WS /workflows/ws` with Agno's action protocol (research/agno.md §2.5). The server greets with
 * `{"event":"connected","requires_auth":bool}`; the client authenticates in-band
 * (`{"action":"authenticate","token":…}`; a `?token=` or `Authorization` on the upgrade also counts),
 * then sends `start-workflow`, `reconnect` (replay after `last_event_index`, then live events) or
 * `continue-workflow` (a paused run). Run events travel as text frames holding SSE-formatted strings;
 * control messages are plain JSON. Each action is checked against `workflows:<id>:run`, and a start or
 * continue counts in the `workflow_run` rate-limit class like an HTTP run.
 *
 * Runs started over the socket do not stop when it closes: they go on in the background, so a client
 * that lost its connection can `reconnect` and read what it missed.
 * @module
 */
import type { WebSocket } from '@fastify/websocket';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { callerSubjectOf, configuredKeyOf, hasScope, type Principal } from '../../../auth/index.js';
import { idSchema } from '../../../config/index.js';
import { AgentOsError, isAgentOsError } from '../../../errors/index.js';
import { dropNulls, formatSseFrame, type RunEvent } from '../../../events/index.js';
import { rebindingProblem } from '../../../interfaces/mcp-server/origin-guard.js';
import type { RunHandle } from '../../../runtime/run-manager.js';
import type { Services } from '../../../services.js';
import { WORKSPACE_HEADER } from '../../plugins/access-control.js';
import { rateLimitSubject } from '../../plugins/rate-limit.js';
import { stepRequirements } from './routes.js';

const action = z.discriminatedUnion('action', [
  z.object({ action: z.literal('ping') }),
  z.object({ action: z.literal('authenticate'), token: z.string().min(1).max(8192) }),
  z.object({
    action: z.literal('start-workflow'),
    workflow_id: idSchema,
    message: z.string().trim().min(1).max(200_000),
    session_id: idSchema.optional(),
    user_id: z.string().min(1).max(256).optional(),
  }),
  z.object({
    action: z.literal('reconnect'),
    run_id: idSchema,
    workflow_id: idSchema,
    session_id: idSchema.optional(),
    last_event_index: z.number().int().min(-1).default(-1),
  }),
  z.object({
    action: z.literal('continue-workflow'),
    workflow_id: idSchema,
    run_id: idSchema,
    session_id: idSchema.optional(),
    step_requirements: stepRequirements.optional(),
  }),
]);

/** An unauthenticated socket is closed after this long. */
const AUTH_TIMEOUT_MS = 30_000;
const POLICY_VIOLATION = 1008;

/** Route table of the workflow WebSocket. */
export const workflowWsRoutes: FastifyPluginAsync<{ services: Services }> = async (fastify, { services }) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  app.route({
    method: 'GET',
    url: '/workflows/ws',
    // The upgrade itself is open: Agno clients authenticate in-band, and every action checks its scope.
    config: { access: { public: true } },
    schema: {
      summary: 'Workflow runs over a WebSocket (Agno action protocol)',
      description:
        'Actions: `authenticate {token}`, `ping`, `start-workflow {workflow_id, message, session_id?}`, ' +
        '`reconnect {run_id, workflow_id, last_event_index}`, `continue-workflow {workflow_id, run_id, step_requirements?}`.',
      tags: ['Workflows'],
      operationId: 'workflowWebSocket',
      querystring: z.object({ token: z.string().optional() }),
    },
    handler: async () => {
      throw new AgentOsError('AOS_BAD_REQUEST', 'This endpoint speaks WebSocket: send an Upgrade request');
    },
    wsHandler: (socket: WebSocket, request: FastifyRequest) => {
      // Browsers apply no CORS to WebSockets: without this, any page could drive workflows on a dev server.
      const refused = rebindingProblem(services.config, request.headers);
      if (refused !== undefined) {
        socket.close(POLICY_VIOLATION, refused.slice(0, 120));
        return;
      }
      const session = new WorkflowSocket(services, socket, request);
      session.open().catch((error: unknown) => {
        request.log.warn({ err: error }, 'workflow socket failed to open');
        socket.close(1011, 'server error');
      });
    },
  });
};

class WorkflowSocket {
  private principal: Principal | null = null;
  private readonly unsubscribers: (() => void)[] = [];
  private authTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly services: Services,
    private readonly socket: WebSocket,
    private readonly request: FastifyRequest,
  ) {}

  private send(data: unknown): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(JSON.stringify(dropNulls(data)));
  }

  private sendEvent(event: RunEvent): void {
    if (this.socket.readyState !== this.socket.OPEN) return;
    this.socket.send(formatSseFrame({ id: event.event_index, event: event.event, data: event }));
  }

  private fail(error: unknown): void {
    this.send({
      event: 'error',
      error:
        isAgentOsError(error) && error.status >= 500 ? 'Internal error' : ((error as Error)?.message ?? String(error)),
      ...(isAgentOsError(error) ? { code: error.code } : {}),
    });
  }

  async open(): Promise<void> {
    const { request, socket } = this;
    socket.on('message', (raw: Buffer) => {
      this.handle(raw).catch((error: unknown) => this.fail(error));
    });
    socket.on('close', () => {
      clearTimeout(this.authTimer);
      for (const unsubscribe of this.unsubscribers) unsubscribe();
    });
    const query = request.query as { token?: string };
    const header = request.headers.authorization ?? (query.token ? `Bearer ${query.token}` : undefined);
    if (header !== undefined || (await this.services.authenticator.mode()) === 'none') {
      try {
        await this.authenticate(header);
      } catch {
        // A bad upgrade credential leaves the socket unauthenticated; the client may still authenticate in-band.
      }
    }
    this.send({
      event: 'connected',
      message: 'Connected to workflow events',
      requires_auth: this.principal === null,
    });
    if (this.principal === null) {
      this.authTimer = setTimeout(() => socket.close(POLICY_VIOLATION, 'authentication timeout'), AUTH_TIMEOUT_MS);
      this.authTimer.unref();
    }
  }

  private async authenticate(authorization: string | undefined): Promise<void> {
    const { authenticator } = this.services;
    const header = this.request.headers[WORKSPACE_HEADER];
    const principal = authenticator.selectWorkspace(
      await authenticator.authenticate(authorization),
      Array.isArray(header) ? header.join(', ') : header,
    );
    this.principal = principal;
    clearTimeout(this.authTimer);
  }

  private get workspaceId(): string {
    return this.principal?.workspaceId ?? 'default';
  }

  /** Under user isolation a non-admin user is pinned to its own id (Agno: user_id forced to the subject). */
  private pinnedUser(): string | undefined {
    const principal = this.principal;
    if (!this.services.config.auth.user_isolation || !principal?.userId || principal.scopes.includes('admin')) {
      return undefined;
    }
    return principal.userId;
  }

  private requireRun(workflowId: string): void {
    if (!this.principal || !hasScope(this.principal.scopes, { resource: 'workflows', action: 'run', id: workflowId })) {
      throw new AgentOsError(
        'AOS_AUTH_FORBIDDEN',
        `Insufficient permissions. Required scope: workflows:${workflowId}:run`,
      );
    }
  }

  private async handle(raw: Buffer): Promise<void> {
    let parsed: z.infer<typeof action>;
    let json: unknown;
    try {
      json = JSON.parse(raw.toString('utf8'));
    } catch {
      this.send({ event: 'error', error: 'Invalid JSON' });
      return;
    }
    const result = action.safeParse(json);
    if (!result.success) {
      const name = (json as { action?: unknown })?.action;
      const known = ['ping', 'authenticate', 'start-workflow', 'reconnect', 'continue-workflow'];
      this.send({
        event: 'error',
        error:
          typeof name === 'string' && !known.includes(name)
            ? `Unknown action: ${name}`
            : `Invalid ${String(name ?? 'message')}: ${result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`,
      });
      return;
    }
    parsed = result.data;
    if (parsed.action === 'ping') {
      this.send({ event: 'pong' });
      return;
    }
    if (parsed.action === 'authenticate') {
      try {
        await this.authenticate(`Bearer ${parsed.token}`);
        this.send({ event: 'authenticated', message: 'Authentication successful' });
      } catch (error) {
        const code = isAgentOsError(error) ? error.code : '';
        this.send({
          event: 'auth_error',
          error: (error as Error)?.message ?? 'Authentication failed',
          error_type: /EXPIRED/.test(code) ? 'expired' : isAgentOsError(error) ? 'invalid_token' : 'server_error',
        });
      }
      return;
    }
    if (this.principal === null) {
      this.send({ event: 'auth_required', error: 'Authenticate first: {"action": "authenticate", "token": "…"}' });
      return;
    }
    const { workflows, runs, store } = this.services;
    this.requireRun(parsed.workflow_id);
    if (parsed.action === 'start-workflow') {
      await this.consumeWorkflowRunLimit();
      // The socket authenticated in-band, after the upgrade: the caller's daily budget is checked here.
      await this.services.quotas.checkKey(callerSubjectOf(this.principal));
      const pinned = this.pinnedUser();
      const handle = await workflows.start({
        workspaceId: this.workspaceId,
        workflowId: parsed.workflow_id,
        message: parsed.message,
        sessionId: parsed.session_id,
        userId: pinned ?? parsed.user_id,
        userPinned: pinned !== undefined,
        principal: callerSubjectOf(this.principal),
        // A workflow component calls only what this caller could run alone.
        mayRun: (resource, id) =>
          this.principal !== null && hasScope(this.principal.scopes, { resource, action: 'run', id }),
      });
      this.follow(handle);
      return;
    }
    const run = await store.runs.get(this.workspaceId, parsed.run_id);
    const pinned = this.pinnedUser();
    if (!run) throw new AgentOsError('AOS_NOT_FOUND', 'Run not found');
    if (
      run.componentType !== 'workflow' ||
      run.componentId !== parsed.workflow_id ||
      (parsed.session_id !== undefined && run.sessionId !== parsed.session_id) ||
      (pinned !== undefined && run.userId !== pinned)
    ) {
      throw new AgentOsError('AOS_NOT_FOUND', 'Run not found');
    }
    if (parsed.action === 'reconnect') {
      const live = run.status === 'running' || run.status === 'pending';
      const last = await store.runEvents.lastIndex(run.runId);
      this.send({
        event: live ? 'catch_up' : 'replay',
        run_id: run.runId,
        status: run.status,
        last_event_index_requested: parsed.last_event_index,
        missed_events: Math.max(0, last - parsed.last_event_index),
      });
      const unsubscribe = await runs.replay(this.workspaceId, run.runId, parsed.last_event_index, {
        onEvent: (event) => this.sendEvent(event),
        onEnd: () => {},
      });
      this.unsubscribers.push(unsubscribe);
      if (live) this.send({ event: 'subscribed', run_id: run.runId, current_event_count: last + 1 });
      return;
    }
    await this.consumeWorkflowRunLimit();
    const confirmed = parsed.step_requirements?.[0]?.confirmed ?? true;
    const principal = this.principal;
    this.follow(
      await workflows.continue(
        run,
        confirmed,
        (resource, id) => principal !== null && hasScope(principal.scopes, { resource, action: 'run', id }),
      ),
    );
  }

  private follow(handle: RunHandle): void {
    this.unsubscribers.push(
      handle.channel.subscribe(-1, { onEvent: (event) => this.sendEvent(event), onEnd: () => {} }),
    );
  }

  /** Counts one run against the caller's `workflow_run` bucket; throws 429/503 like the HTTP limiter. */
  private async consumeWorkflowRunLimit(): Promise<void> {
    const rules = this.services.config.rate_limits;
    if (rules === false) return;
    // The caller's own rule (`rate_limits.keys.<id>.workflow_run`) wins, as on the HTTP limiter.
    const key = this.principal ? configuredKeyOf(this.principal) : undefined;
    const own = key === undefined ? undefined : rules.keys?.[key];
    const rule = own?.workflow_run ?? rules.workflow_run;
    if (rule === false) return;
    let decision: Awaited<ReturnType<Services['store']['rateLimits']['consume']>>;
    try {
      const subject =
        this.principal && this.principal.kind !== 'dev'
          ? `${this.principal.kind}:${this.principal.id}`
          : rateLimitSubject(this.request);
      decision = await this.services.store.rateLimits.consume(
        `workflow_run:${subject}`,
        { limit: rule.limit, windowMs: rule.window_ms },
        Date.now(),
      );
    } catch (error) {
      throw new AgentOsError('AOS_RATE_LIMITER_UNAVAILABLE', 'The rate limiter is unavailable; run refused', {
        cause: error,
      });
    }
    if (!decision.allowed) {
      throw new AgentOsError('AOS_RATE_LIMITED', 'Too many requests', {
        details: { retryAfter: Math.max(1, Math.ceil(decision.retryAfterMs / 1000)) },
      });
    }
  }
}
