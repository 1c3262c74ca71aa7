/**
 * The voice pipeline of a services instance, created on first use (one per services, like the other
 * per-process registries of the HTTP layer), and the agent port through which `/audio` and
 * `POST /api/chat/voice` run the agent in a normal agentos session.
 * @module
 */
import type { FastifyRequest } from 'fastify';
import { callerSubjectOf, hasScope } from '../../../auth/index.js';
import { AgentOsError, NotFoundError } from '../../../errors/index.js';
import type { Services } from '../../../services.js';
import { type AgentPort, createProviderStt, createProviderTts, VoiceService } from '../../../voice/index.js';
import { workspaceOf } from '../../plugins/access-control.js';
import { effectiveUserId } from '../../user-scope.js';
import { admitSocketRun } from '../ws/routes.js';

const services = new WeakMap<Services, VoiceService>();

/** The voice pipeline of `owner` (created on first use with the configured engines). */
export function voiceOf(owner: Services): VoiceService {
  let voice = services.get(owner);
  if (!voice) {
    voice = new VoiceService({
      config: owner.config.voice,
      providers: {
        speechToText: (id) => createProviderStt(id, () => owner.models.transcriptionModel(id)),
        textToSpeech: (id, voiceName) => createProviderTts(id, () => owner.models.speechModel(id), voiceName),
      },
    });
    services.set(owner, voice);
  }
  return voice;
}

/**
 * The agent a voice request talks to: `requested`, else `default_agent`, else the first configured agent;
 * 403 without `agents:<id>:run`, 404 when no such agent exists in the caller's workspace.
 */
export async function voiceAgent(owner: Services, request: FastifyRequest, requested: string | undefined) {
  const agentId = requested ?? owner.config.default_agent ?? owner.config.agents[0]?.id;
  if (agentId === undefined) {
    throw new NotFoundError('No agent answers voice: set default_agent in the config or pass ?agent=');
  }
  if (!hasScope(request.principal?.scopes ?? [], { resource: 'agents', action: 'run', id: agentId })) {
    throw new AgentOsError('AOS_AUTH_FORBIDDEN', `Insufficient permissions. Required scope: agents:${agentId}:run`, {
      details: { required: `agents:${agentId}:run` },
    });
  }
  // 404 before any audio flows, in the caller's workspace (config agents and those created over the API).
  await owner.runs.resolveAgent(workspaceOf(request), agentId);
  return agentId;
}

/**
 * Runs `agentId` on each transcribed turn through the normal runtime (the run is stored in the session,
 * so the conversation can continue in text; with `userId`, memory agents remember that user), counted against
 * the `message` rate limit like an HTTP run, its credential checked again first (`admitSocketRun`).
 */
export function agentPort(
  owner: Services,
  request: FastifyRequest,
  agentId: string,
  userId?: string | undefined,
): AgentPort {
  const workspaceId = workspaceOf(request);
  const pinned = effectiveUserId(request, owner.config);
  return async (text, sessionId, onDelta, signal) => {
    await admitSocketRun(owner, request);
    const handle = await owner.runs.start({
      workspaceId,
      agentId,
      message: text,
      sessionId,
      // Under user isolation the caller's user replaces any `user_id` the client names.
      userId: pinned ?? userId,
      userPinned: pinned !== undefined,
      // Usage (quotas) is recorded against the caller, as on every run-starting surface.
      principal: callerSubjectOf(request.principal),
    });
    const cancel = () => {
      owner.runs.cancel(workspaceId, handle.runId, 'cancel').catch((error: unknown) => {
        request.log.warn({ err: error, run_id: handle.runId }, 'cancelling an interrupted voice run failed');
      });
    };
    if (signal.aborted) cancel();
    else signal.addEventListener('abort', cancel, { once: true });
    const unsubscribe = handle.channel.subscribe(-1, {
      onEvent: (event) => {
        if (event.event === 'RunContent' && typeof event.content === 'string') onDelta(event.content);
      },
      onEnd: () => {},
    });
    try {
      const run = await handle.done;
      return { text: run.content ?? '', status: run.status, error: run.error, runId: run.runId };
    } finally {
      signal.removeEventListener('abort', cancel);
      unsubscribe();
    }
  };
}
