/**
 * Config keys of the voice pipeline (issue 15): `voice:` picks the speech-to-text and text-to-speech
 * engines (offline by default: PocketSphinx and eSpeak NG), the session limit of `/audio` and the
 * energy VAD's thresholds. Kept apart from `schema.ts` so that file only names it.
 * @module
 */
import { z } from 'zod';

const strictObject = <T extends z.ZodRawShape>(shape: T) => z.strictObject(shape);

/** `local:pocketsphinx`, or an OpenAI(-compatible) transcription model such as `openai:whisper-1`. */
export const sttEngineSchema = z.union([z.literal('local:pocketsphinx'), z.string().regex(/^openai:[\w.-]{1,100}$/)], {
  error: 'expected local:pocketsphinx or openai:<transcription model>',
});
/** `local:espeak-ng`, or an OpenAI(-compatible) speech model such as `openai:tts-1`. */
export const ttsEngineSchema = z.union([z.literal('local:espeak-ng'), z.string().regex(/^openai:[\w.-]{1,100}$/)], {
  error: 'expected local:espeak-ng or openai:<speech model>',
});

/** `voice.vad`: the energy detector's thresholds (see `src/voice/energy-vad.ts` and docs/config.md). */
const vadSchema = strictObject({
  /** RMS of a 20 ms frame (0–32767) at or above which it counts as voiced; 500 ≈ −36 dBFS. */
  energy_threshold: z.number().min(1).max(32_767).default(500),
  /** Voiced audio that starts an utterance (and interrupts the agent: barge-in). */
  start_ms: z.number().int().min(20).max(2000).default(60),
  /** Utterances with less voiced audio than this are dropped as noise. */
  min_speech_ms: z.number().int().min(20).max(10_000).default(250),
  /** Silence that ends an utterance. */
  silence_ms: z.number().int().min(100).max(10_000).default(500),
  /** An utterance is cut (and transcribed) at this length. */
  max_speech_ms: z.number().int().min(1000).max(60_000).default(20_000),
  /** Audio kept from before the start, so the first phoneme is not lost. */
  pre_roll_ms: z.number().int().min(0).max(2000).default(200),
}).prefault({});

/** `voice:` */
export const voiceSchema = strictObject({
  enabled: z.boolean().default(true),
  stt: sttEngineSchema.default('local:pocketsphinx'),
  tts: ttsEngineSchema.default('local:espeak-ng'),
  /** The TTS voice: an eSpeak NG voice (default `en-us`) or an OpenAI voice (default `alloy`). */
  tts_voice: z
    .string()
    .regex(/^[\w.+-]{1,64}$/)
    .optional(),
  /** Open `/audio` connections at most; the next is closed with 1013 (agtOS: 10). */
  max_sessions: z.number().int().min(1).max(10_000).default(10),
  /** Open `/audio` connections one caller (key, token, or client address in dev mode) may hold; 1013 past it. */
  max_sessions_per_caller: z.number().int().min(1).max(10_000).default(3),
  /** A connection with no audio and no message for this long is closed (1000 "Idle timeout"), freeing its slot. */
  idle_timeout_ms: z.number().int().min(1000).max(86_400_000).default(300_000),
  /** How far TTS audio may run ahead of real time on the socket, so barge-in stops what the client would play. */
  tts_lead_ms: z.number().int().min(0).max(600_000).default(1000),
  vad: vadSchema,
}).prefault({});
