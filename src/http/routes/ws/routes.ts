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
import { idSchema } from '../../../config/index.js';
import { dropNulls } from '../../../events/index.js';
import type { Services } from '../../../services.js';
import { assertSessionUsable, effectiveUserId } from '../../user-scope.js';
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
  app.get(
    '/ws/agents/:agent_id',
    {
      websocket: true,
      // Browsers cannot set headers on a WebSocket, so the token may come as `?token=`.
      config: { access: { scope: 'agents:run', scopeParam: 'agent_id', tokenQuery: true }, rateLimitClass: 'message' },
      schema: {
        summary: 'Stream agent runs over a WebSocket',
        description: 'Send `{"message": "...", "session_id": "..."}`; receive every run event as a JSON frame.',
        tags: ['Agents'],
        operationId: 'agentWebSocket',
        params: agentParams,
        querystring: z.object({ token: z.string().optional() }),
      },
    },
    (socket: WebSocket, request: FastifyRequest<{ Params: { agent_id: string } }>) => {
      const workspaceId = request.principal?.workspaceId ?? 'default';
      const { agent_id: agentId } = request.params;
      // Under user isolation the caller's user replaces any `user_id` a message names.
      const pinned = effectiveUserId(request, services.config);
      const running = new Set<string>();
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
        assertSessionUsable(services.store, workspaceId, parsed.session_id, pinned)
          .then(() =>
            services.runs.start({
              workspaceId,
              agentId,
              message: parsed.message,
              sessionId: parsed.session_id,
              userId: pinned ?? parsed.user_id,
            }),
          )
          .then((handle) => {
            running.add(handle.runId);
            handle.channel.subscribe(-1, { onEvent: send, onEnd: () => running.delete(handle.runId) });
          })
          .catch((error: unknown) =>
            send({ event: 'error', error: error instanceof Error ? error.message : String(error) }),
          );
      });
      socket.on('close', () => {
        for (const runId of running) void services.runs.cancel(workspaceId, runId, 'disconnect');
      });
    },
  );
};
