/**
 * `WS /ws/agents/{agent_id}?token=…` (seed 001): the client sends `{message, session_id?, user_id?}`
 * messages; each starts a run whose events come back as JSON text frames (the same payloads as the
 * SSE `data:` lines). Closing the socket cancels the runs it started, as a plain SSE stream does.
 * @module
 */
import type { WebSocket } from '@fastify/websocket';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { callerSubjectOf } from '../../../auth/index.js';
import { idSchema } from '../../../config/index.js';
import { AgentOsError, isAgentOsError } from '../../../errors/index.js';
import { dropNulls } from '../../../events/index.js';
import type { Services } from '../../../services.js';
import { reauthenticate, workspaceOf } from '../../plugins/access-control.js';
import { classRuleFor, rateLimitSubject } from '../../plugins/rate-limit.js';
import { effectiveUserId } from '../../user-scope.js';
import { agentParams } from '../runs/schemas.js';

const clientMessage = z.object({
  message: z.string().trim().min(1).max(200_000),
  session_id: idSchema.optional(),
  user_id: z.string().min(1).max(256).optional(),
});

/** WebSocket close code for a message the server cannot accept. */
const POLICY_VIOLATION = 1008;

/** Route table of the agent WebSocket. */
export const wsRoutes: FastifyPluginAsync<{ services: Services }> = async (fastify, { services }) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  app.route({
    method: 'GET',
    url: '/ws/agents/:agent_id',
    // Browsers cannot set headers on a WebSocket, so the token may come as `?token=`.
    // The upgrade counts as a read; each run a message starts counts in the `message` class below.
    config: { access: { scope: 'agents:run', scopeParam: 'agent_id', tokenQuery: true } },
    schema: {
      summary: 'Stream agent runs over a WebSocket',
      description: 'Send `{"message": "...", "session_id": "..."}`; receive every run event as a JSON frame.',
      tags: ['Agents'],
      operationId: 'agentWebSocket',
      params: agentParams,
      querystring: z.object({ token: z.string().optional() }),
    },
    // A plain GET (no upgrade) gets a clear 400 in the root error shape rather than an empty 404.
    handler: async () => {
      throw new AgentOsError('AOS_BAD_REQUEST', 'This endpoint speaks WebSocket: send an Upgrade request');
    },
    wsHandler: (socket: WebSocket, request: FastifyRequest<{ Params: { agent_id: string } }>) => {
      const workspaceId = workspaceOf(request);
      const { agent_id: agentId } = request.params;
      // Under user isolation the caller's user replaces any `user_id` a message names.
      const pinned = effectiveUserId(request, services.config);
      const running = new Set<string>();
      let starting = false;
      const send = (data: unknown) => {
        if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(dropNulls(data)));
      };
      socket.on('message', (raw: Buffer) => {
        let parsed: z.infer<typeof clientMessage>;
        try {
          parsed = clientMessage.parse(JSON.parse(raw.toString('utf8')));
        } catch (error) {
          send({ event: 'error', error: 'Invalid message: expected {"message": string, "session_id"?: string}' });
          if (!(error instanceof z.ZodError)) socket.close(POLICY_VIOLATION, 'invalid JSON');
          return;
        }
        // One run at a time per socket, each counted against the `message` rate limit like an HTTP run:
        // an open socket must not become a way around either.
        if (starting || running.size > 0) {
          send({ event: 'error', error: 'A run is already in progress on this socket' });
          return;
        }
        starting = true;
        admitSocketRun(services, request)
          .then(() =>
            services.runs.start({
              workspaceId,
              agentId,
              message: parsed.message,
              sessionId: parsed.session_id,
              userId: pinned ?? parsed.user_id,
              userPinned: pinned !== undefined,
              principal: callerSubjectOf(request.principal),
            }),
          )
          .then((handle) => {
            running.add(handle.runId);
            // The socket may have closed while the run was starting.
            if (socket.readyState !== socket.OPEN) cancel(handle.runId);
            handle.channel.subscribe(-1, { onEvent: send, onEnd: () => running.delete(handle.runId) });
          })
          .catch((error: unknown) => {
            send({
              event: 'error',
              error: error instanceof Error ? error.message : String(error),
              ...(isAgentOsError(error) ? { code: error.code } : {}),
            });
            // Credentials that stopped being valid end the socket, as they would refuse a new one.
            if (isAgentOsError(error) && error.status === 401)
              socket.close(POLICY_VIOLATION, 'credentials no longer valid');
          })
          .finally(() => {
            starting = false;
          });
      });
      const cancel = (runId: string) => {
        services.runs.cancel(workspaceId, runId, 'disconnect').catch((error: unknown) => {
          request.log.warn({ err: error, run_id: runId }, 'cancelling a run after its socket closed failed');
        });
      };
      socket.on('close', () => {
        for (const runId of running) cancel(runId);
      });
    },
  });
};

/**
 * What the HTTP hooks check before a run, checked again for each run a socket starts (they see only its
 * upgrade): the credential is still good (401), the caller's daily budget (503), and one run counted against
 * its `message` bucket (its own rule when `rate_limits.keys` sets one; 429).
 */
export async function admitSocketRun(services: Services, request: FastifyRequest): Promise<void> {
  // The socket outlives the check of its upgrade: a key revoked since must not start another run.
  await reauthenticate(request, services.authenticator);
  if (request.principal) await services.quotas.checkKey(callerSubjectOf(request.principal));
  const rule = classRuleFor(services.config.rate_limits, request, 'message');
  if (rule === false) return;
  let decision: Awaited<ReturnType<Services['store']['rateLimits']['consume']>>;
  try {
    decision = await services.store.rateLimits.consume(
      `message:${rateLimitSubject(request)}`,
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
