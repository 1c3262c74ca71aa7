/**
 * `WS /audio?agent=<id>&token=…` (agtOS' voice protocol, research/agtos-automatos.md §1.3): binary frames
 * carry PCM s16le 16 kHz mono both ways, text frames carry JSON `{type…}`. The server sends `session_ack`
 * on connect, `transcript {role, text}` for each turn, `tts_start` / binary PCM / `tts_end` for the reply,
 * pings every 30 s, and closes with 1013 when `voice.max_sessions` connections are open. Each turn runs the
 * agent in one agentos session (`session_ack.sessionId`, or `?session_id=` to continue one), so history
 * and memory work as for text. docs/voice.md has the whole protocol.
 * @module
 */
import type { WebSocket } from '@fastify/websocket';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { idSchema } from '../../../config/index.js';
import { AgentOsError } from '../../../errors/index.js';
import { rebindingProblem } from '../../../interfaces/mcp-server/origin-guard.js';
import type { Services } from '../../../services.js';
import { VoiceConversation } from '../../../voice/index.js';
import { workspaceOf } from '../../plugins/access-control.js';
import { effectiveUserId } from '../../user-scope.js';
import { agentPort, voiceAgent, voiceOf } from './voice-of.js';

/** Close codes: 1011 server error, 1013 try again later (agtOS: "Max clients reached"). */
const NORMAL_CLOSURE = 1000;
const SERVER_ERROR = 1011;
const TRY_AGAIN_LATER = 1013;
/** agtOS pings every 30 s and drops a client that missed the pong. */
const PING_INTERVAL_MS = 30_000;
/** Audio kept while the socket opens (engines probed, agent resolved): 30 s of 16 kHz PCM. */
const MAX_EARLY_BYTES = 30 * 16_000 * 2;

const audioQuery = z.object({
  agent: idSchema.optional(),
  session_id: idSchema.optional(),
  user_id: z.string().min(1).max(256).optional(),
  token: z.string().optional(),
});

/** Route table of the voice WebSocket. */
export const audioWsRoutes: FastifyPluginAsync<{ services: Services }> = async (fastify, { services }) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  app.route({
    method: 'GET',
    url: '/audio',
    // Browsers cannot set headers on a WebSocket, so the token may come as `?token=`. The agent comes in
    // the query, so its own run scope is checked below, before the upgrade.
    config: { access: { scope: 'agents:run', anyId: true, tokenQuery: true } },
    schema: {
      summary: 'Voice conversation over a WebSocket (agtOS)',
      description:
        'PCM s16le 16 kHz mono in binary frames; JSON control messages (`session_start`, `session_end`, ' +
        '`end_of_speech`, `interrupt`, `status`, `ping`, `config`); server messages `session_ack`, ' +
        '`transcript {role, text, words?}`, `tts_start`, binary reply audio, `tts_end`, `interrupted`, ' +
        '`status`, `pong`, `error`. Closes 1013 when `voice.max_sessions` are open. See docs/voice.md.',
      tags: ['API'],
      operationId: 'voiceWebSocket',
      querystring: audioQuery,
    },
    preHandler: async (request) => {
      const refused = rebindingProblem(services.config, request.headers);
      if (refused !== undefined) throw new AgentOsError('AOS_AUTH_FORBIDDEN', refused);
      await voiceAgent(services, request, request.query.agent);
    },
    handler: async () => {
      throw new AgentOsError('AOS_BAD_REQUEST', 'This endpoint speaks WebSocket: send an Upgrade request');
    },
    wsHandler: (socket: WebSocket, request: FastifyRequest<{ Querystring: z.infer<typeof audioQuery> }>) => {
      // Listening starts now, before the engines are probed: a client may stream as soon as the socket opens,
      // and what arrives meanwhile is kept (bounded) for the conversation.
      const early: { data: Buffer; isBinary: boolean }[] = [];
      let earlyBytes = 0;
      let deliver: ((data: Buffer, isBinary: boolean) => void) | null = null;
      socket.on('message', (data: Buffer, isBinary: boolean) => {
        if (deliver) deliver(data, isBinary);
        else if (earlyBytes + data.length <= MAX_EARLY_BYTES) {
          earlyBytes += data.length;
          early.push({ data, isBinary });
        }
      });
      openConversation(services, socket, request)
        .then((handler) => {
          if (!handler) return;
          deliver = handler;
          for (const { data, isBinary } of early.splice(0)) handler(data, isBinary);
        })
        .catch((error: unknown) => {
          request.log.warn({ err: error }, 'voice socket failed to open');
          if (socket.readyState === socket.OPEN) socket.close(SERVER_ERROR, 'server error');
        });
    },
  });
};

/** Opens the conversation; resolves with the frame handler, or `null` when the socket was refused or closed. */
async function openConversation(
  services: Services,
  socket: WebSocket,
  request: FastifyRequest<{ Querystring: z.infer<typeof audioQuery> }>,
): Promise<((data: Buffer, isBinary: boolean) => void) | null> {
  // Refusals go out as JSON `error` then a close, since the upgrade has already happened.
  const voice = voiceOf(services);
  const status = await voice.status();
  if (!status.available) {
    socket.send(JSON.stringify({ type: 'error', error: `Voice is not available: ${status.reason ?? 'unknown'}` }));
    socket.close(TRY_AGAIN_LATER, 'Voice not available');
    return null;
  }
  const agentId = await voiceAgent(services, request, request.query.agent);
  const conversation = new VoiceConversation({
    voice,
    agent: agentPort(services, request, agentId, request.query.user_id),
    sessionId: request.query.session_id,
    transport: {
      sendJson: (message) => {
        if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
      },
      sendAudio: (pcm) => {
        if (socket.readyState === socket.OPEN) socket.send(pcm, { binary: true });
      },
    },
    onError: (error) => request.log.warn({ err: error }, 'voice turn failed'),
  });
  if (socket.readyState !== socket.OPEN) return null;
  const principal = request.principal;
  const owner = {
    workspaceId: workspaceOf(request),
    userId: effectiveUserId(request, services.config),
    caller: principal ? `${principal.kind}:${principal.id}` : `ip:${request.ip}`,
  };
  if (!voice.open(conversation.view(), owner)) {
    socket.close(TRY_AGAIN_LATER, 'Max clients reached');
    return null;
  }
  let alive = true;
  let lastActivity = Date.now();
  const idleTimeout = services.config.voice.idle_timeout_ms;
  // Pings keep a dead peer from holding a slot; the idle timeout does the same for a live but silent one.
  const pinger = setInterval(
    () => {
      if (Date.now() - lastActivity >= idleTimeout) {
        socket.close(NORMAL_CLOSURE, 'Idle timeout');
        return;
      }
      if (!alive) {
        socket.terminate();
        return;
      }
      alive = false;
      socket.ping();
    },
    Math.min(PING_INTERVAL_MS, idleTimeout),
  );
  pinger.unref();
  socket.on('pong', () => {
    alive = true;
  });
  socket.on('close', () => {
    clearInterval(pinger);
    conversation.close();
    voice.close(conversation.connectionId);
  });
  conversation.acknowledge();
  return (data, isBinary) => {
    alive = true;
    lastActivity = Date.now();
    if (isBinary) {
      conversation.receiveAudio(data);
      return;
    }
    let message: unknown;
    try {
      message = JSON.parse(data.toString('utf8'));
    } catch {
      message = undefined;
    }
    if (typeof message !== 'object' || message === null || Array.isArray(message)) {
      socket.send(
        JSON.stringify({ type: 'error', sessionId: conversation.sessionId, error: 'Expected a JSON object' }),
      );
      return;
    }
    conversation.receiveMessage(message as Record<string, unknown>);
  };
}
