/**
 * The request/response side of voice under `/api` (agtOS `GET /api/voice/stats`, Automatos
 * `POST /chat/voice`): statistics of the engines, and one spoken turn as a plain HTTP request — a WAV in
 * (raw `audio/wav` body, or a multipart `file`), `{transcript, text, audio}` out with the reply as base64 WAV.
 * `GET /api/sessions` and `GET /api/voice/status` live with the other agtOS routes (`agtos/routes.ts`).
 * @module
 */
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { idSchema } from '../../../config/index.js';
import { AgentOsError } from '../../../errors/index.js';
import { newSessionId } from '../../../runtime/ids.js';
import type { Services } from '../../../services.js';
import { decodeWav, encodeWav, pcmDurationMs, SentenceSplitter, toPipelinePcm } from '../../../voice/index.js';
import { agentPort, voiceAgent, voiceOf } from './voice-of.js';

/** Raw audio bodies this route reads (a WAV file). */
const AUDIO_TYPES = ['audio/wav', 'audio/x-wav', 'audio/wave', 'audio/vnd.wave'];
/** A spoken turn is short; 25 MB of 16 kHz WAV is over 13 minutes. */
const MAX_AUDIO_BYTES = 25 * 1024 * 1024;

const latency = z.object({ p50: z.number(), p95: z.number(), p99: z.number(), count: z.number().int() });

const chatVoiceQuery = z.object({
  agentId: idSchema.optional(),
  sessionId: idSchema.optional(),
  userId: z.string().min(1).max(256).optional(),
});

/** Route table of the voice routes under `/api`. */
export const voiceApiRoutes: FastifyPluginAsync<{ services: Services }> = async (fastify, { services }) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  app.addContentTypeParser(AUDIO_TYPES, { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  const bodyLimit = Math.min(services.config.server.upload_limit, MAX_AUDIO_BYTES);

  app.get('/voice/stats', {
    config: { access: { scope: 'sessions:read', anyId: true } },
    schema: {
      summary: 'Voice latency and traffic (agtOS)',
      description:
        'STT and TTS latency percentiles (ms) over the last 1000 calls, `firstAudio` (end of an utterance to ' +
        'the first reply audio), binary frames in and out of `/audio`, transcriptions in the last minute and ' +
        'open sessions. Zeros before any data.',
      tags: ['API'],
      operationId: 'agtosVoiceStats',
      response: {
        200: z.object({
          stt: latency,
          tts: latency,
          firstAudio: latency,
          audioChunksIn: z.number().int(),
          audioChunksOut: z.number().int(),
          requestsPerMinute: z.number().int(),
          activeSessions: z.number().int(),
          timestamp: z.number().int(),
        }),
      },
    },
    handler: async () => voiceOf(services).stats(),
  });

  app.post('/chat/voice', {
    config: { access: { scope: 'agents:run', anyId: true }, rateLimitClass: 'message', uploads: true, keepFiles: true },
    bodyLimit,
    schema: {
      summary: 'One spoken turn (request/response voice)',
      description:
        'Send a 16-bit PCM WAV (any rate, mono or stereo) as the raw body (`Content-Type: audio/wav`) or as ' +
        'the multipart field `file`. The audio is transcribed, the agent (`?agentId`, else `default_agent`, else ' +
        'the first) answers in `?sessionId` (a new session when absent) for `?userId`, and the reply is spoken: ' +
        '`{transcript, text, audio}` with `audio` a base64 WAV (16 kHz mono). 503 when voice is not available.',
      tags: ['API'],
      operationId: 'agtosChatVoice',
      querystring: chatVoiceQuery,
      response: {
        200: z.object({
          transcript: z.string(),
          text: z.string(),
          audio: z.string().describe('Base64 WAV, PCM s16le 16 kHz mono'),
          sessionId: z.string(),
          runId: z.string().nullable(),
          metadata: z.object({
            inputDurationMs: z.number().int(),
            outputDurationMs: z.number().int(),
            sttMs: z.number().int(),
            agentMs: z.number().int(),
            ttsMs: z.number().int(),
          }),
        }),
      },
    },
    handler: async (request, reply) => {
      const agentId = await voiceAgent(services, request, request.query.agentId);
      const voice = voiceOf(services);
      const status = await voice.status();
      if (!status.available) {
        throw new AgentOsError('AOS_VOICE_UNAVAILABLE', `Voice is not available: ${status.reason ?? 'unknown'}`);
      }
      const wav = decodeWav(audioOf(request.body));
      if (wav === null) throw new AgentOsError('AOS_BAD_REQUEST', 'The audio must be a 16-bit PCM WAV file');
      const pcm = toPipelinePcm(wav);
      if (pcm.length === 0) throw new AgentOsError('AOS_BAD_REQUEST', 'The audio is empty');

      const controller = new AbortController();
      // A caller that hangs up stops the engines and the run.
      reply.raw.on('close', () => {
        if (!reply.raw.writableFinished) controller.abort(new Error('client closed'));
      });
      const sttStarted = performance.now();
      const heard = await voice.transcribe(pcm, controller.signal);
      const sttMs = performance.now() - sttStarted;
      const transcript = heard.text.trim();
      if (transcript === '') throw new AgentOsError('AOS_BAD_REQUEST', 'No speech was recognised in the audio');

      const sessionId = request.query.sessionId ?? newSessionId();
      const agentStarted = performance.now();
      const answer = await agentPort(services, request, agentId, request.query.userId)(
        transcript,
        sessionId,
        () => {},
        controller.signal,
      );
      const agentMs = performance.now() - agentStarted;
      if (answer.status === 'error') {
        throw new AgentOsError('AOS_MODEL_PROVIDER_ERROR', `The agent failed: ${answer.error ?? 'unknown error'}`);
      }
      const ttsStarted = performance.now();
      const splitter = new SentenceSplitter();
      const sentences = [...splitter.push(answer.text), ...splitter.flush()];
      const audio: Buffer[] = [];
      for (const sentence of sentences) audio.push(await voice.synthesize(sentence, controller.signal));
      const out = Buffer.concat(audio);
      return {
        transcript,
        text: answer.text,
        audio: encodeWav(out).toString('base64'),
        sessionId,
        runId: answer.runId ?? null,
        metadata: {
          inputDurationMs: pcmDurationMs(pcm),
          outputDurationMs: pcmDurationMs(out),
          sttMs: Math.round(sttMs),
          agentMs: Math.round(agentMs),
          ttsMs: Math.round(performance.now() - ttsStarted),
        },
      };
    },
  });
};

/** The WAV bytes of a raw body or of the multipart `file` (or first file) field. */
function audioOf(body: unknown): Buffer {
  if (Buffer.isBuffer(body)) return body;
  const files = (body as { files?: { field: string; data?: Buffer }[] } | null)?.files;
  const file = files?.find((entry) => entry.field === 'file') ?? files?.[0];
  // Multipart bodies are capped by the server's upload limit, which may be larger than this route's.
  if (file?.data && file.data.length > MAX_AUDIO_BYTES) {
    throw new AgentOsError('AOS_PAYLOAD_TOO_LARGE', `The audio file exceeds ${MAX_AUDIO_BYTES} bytes`);
  }
  if (file?.data) return file.data;
  throw new AgentOsError(
    'AOS_BAD_REQUEST',
    'Send the audio as a WAV body (Content-Type: audio/wav) or as the multipart field "file"',
  );
}
