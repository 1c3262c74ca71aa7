/**
 * The voice pipeline of one process (agtOS' CASCADE mode: VAD → STT → agent → TTS): the configured
 * engines, their availability, the live `/audio` sessions and the latency statistics. Transports
 * (`/audio`, `POST /api/chat/voice`) go through it, so every transcription and synthesis is measured.
 * @module
 */
import type { AgentOsConfig } from '../config/index.js';
import { createEspeakTts } from './espeak-tts.js';
import { type LatencySummary, LatencyWindow, RateCounter } from './latency-stats.js';
import { createPocketsphinxStt } from './pocketsphinx-stt.js';
import type { SpeechToText, TextToSpeech, Transcription } from './types.js';

/** The `voice:` section of the config. */
export type VoiceConfig = AgentOsConfig['voice'];

/** One live voice connection, as agtOS lists it at `GET /api/sessions`. */
export interface VoiceSessionView {
  /** The agentos session the conversation is stored in (history, memory). */
  id: string;
  /** This WebSocket connection. */
  connectionId: string;
  /** Between `session_start` (implicit on connect) and `session_end`. */
  isActive: boolean;
  /** The caller is speaking now (the VAD is inside an utterance). */
  isSpeaking: boolean;
  /** Epoch milliseconds of the last audio or message. */
  lastActivity: number;
}

/** Who holds a voice connection: lists show a caller only its own workspace's (and, pinned, user's) sessions. */
export interface VoiceSessionOwner {
  workspaceId: string;
  /** Set when the caller is pinned to a user (`auth.user_isolation`). */
  userId?: string | undefined;
  /** The caller (principal kind and id, or client address), for the per-caller connection cap. */
  caller: string;
}

/** `GET /api/voice/status`. */
export interface VoiceStatus {
  available: boolean;
  /** `cascade` when available, else `null`. */
  pipeline: 'cascade' | null;
  stt: string;
  tts: string;
  /** Why voice is unavailable (disabled, an engine missing). */
  reason?: string;
}

/** `GET /api/voice/stats` (agtOS' shape, plus the time from the end of an utterance to the first reply audio). */
export interface VoiceStats {
  stt: LatencySummary;
  tts: LatencySummary;
  firstAudio: LatencySummary;
  audioChunksIn: number;
  audioChunksOut: number;
  requestsPerMinute: number;
  activeSessions: number;
  timestamp: number;
}

/** Builds the provider engines (`openai:…`); supplied by the composition, which knows the provider settings. */
export interface ProviderVoiceEngines {
  speechToText(id: string): SpeechToText;
  textToSpeech(id: string, voice: string | undefined): TextToSpeech;
}

/** Options of {@link VoiceService}. */
export interface VoiceServiceOptions {
  config: VoiceConfig;
  /** Provider engines; without them an `openai:` engine reports itself unavailable. */
  providers?: ProviderVoiceEngines | undefined;
  /** Replaces the configured engines (tests). */
  stt?: SpeechToText;
  tts?: TextToSpeech;
}

/** An engine that cannot be built reports why through its probe. */
function unavailableStt(id: string, reason: string): SpeechToText {
  return {
    id,
    probe: async () => reason,
    transcribe: async () => {
      throw new Error(reason);
    },
  };
}

function unavailableTts(id: string, reason: string): TextToSpeech {
  return {
    id,
    probe: async () => reason,
    synthesize: async () => {
      throw new Error(reason);
    },
  };
}

/** The voice pipeline; see the module note. */
export class VoiceService {
  readonly config: VoiceConfig;
  readonly stt: SpeechToText;
  readonly tts: TextToSpeech;
  private readonly sessions = new Map<string, VoiceSessionView>();
  private readonly owners = new Map<string, VoiceSessionOwner>();
  private readonly sttLatency = new LatencyWindow();
  private readonly ttsLatency = new LatencyWindow();
  private readonly firstAudioLatency = new LatencyWindow();
  private readonly requests = new RateCounter();
  private chunksIn = 0;
  private chunksOut = 0;

  constructor(options: VoiceServiceOptions) {
    this.config = options.config;
    const { config, providers } = options;
    this.stt =
      options.stt ??
      (config.stt === 'local:pocketsphinx'
        ? createPocketsphinxStt()
        : providers
          ? providers.speechToText(config.stt)
          : unavailableStt(config.stt, `No provider engines are wired for ${config.stt}`));
    this.tts =
      options.tts ??
      (config.tts === 'local:espeak-ng'
        ? createEspeakTts(config.tts_voice === undefined ? {} : { voice: config.tts_voice })
        : providers
          ? providers.textToSpeech(config.tts, config.tts_voice)
          : unavailableTts(config.tts, `No provider engines are wired for ${config.tts}`));
  }

  /** Whether the pipeline can run: both engines probed (once each, then cached by the engines). */
  async status(): Promise<VoiceStatus> {
    const engines = { stt: this.stt.id, tts: this.tts.id };
    if (!this.config.enabled) {
      return { available: false, pipeline: null, ...engines, reason: 'Voice is disabled (voice.enabled: false)' };
    }
    const [sttProblem, ttsProblem] = await Promise.all([this.stt.probe(), this.tts.probe()]);
    const reason = [sttProblem, ttsProblem].filter((problem) => problem !== null).join('; ');
    return reason === ''
      ? { available: true, pipeline: 'cascade', ...engines }
      : { available: false, pipeline: null, ...engines, reason };
  }

  /** Transcribes one utterance, measuring the engine's latency. */
  async transcribe(pcm: Buffer, signal?: AbortSignal): Promise<Transcription> {
    this.requests.mark();
    const started = performance.now();
    const result = await this.stt.transcribe(pcm, signal === undefined ? {} : { signal });
    this.sttLatency.record(performance.now() - started);
    return result;
  }

  /** Synthesises one sentence, measuring the engine's latency. */
  async synthesize(text: string, signal?: AbortSignal): Promise<Buffer> {
    const started = performance.now();
    const pcm = await this.tts.synthesize(text, signal === undefined ? {} : { signal });
    this.ttsLatency.record(performance.now() - started);
    return pcm;
  }

  /** Records the time from the end of an utterance to the first reply audio of its turn. */
  recordFirstAudio(milliseconds: number): void {
    this.firstAudioLatency.record(milliseconds);
  }

  /** Counts binary frames in and out of `/audio`. */
  countChunks(direction: 'in' | 'out'): void {
    if (direction === 'in') this.chunksIn++;
    else this.chunksOut++;
  }

  /**
   * Claims a session slot; `false` when `max_sessions` are open already, or the caller holds
   * `max_sessions_per_caller` (so one caller cannot take every slot).
   */
  open(session: VoiceSessionView, owner: VoiceSessionOwner): boolean {
    if (this.sessions.size >= this.config.max_sessions) return false;
    let held = 0;
    for (const other of this.owners.values()) if (other.caller === owner.caller) held++;
    if (held >= this.config.max_sessions_per_caller) return false;
    this.sessions.set(session.connectionId, session);
    this.owners.set(session.connectionId, owner);
    return true;
  }

  /** Updates a session's view in place. */
  update(connectionId: string, patch: Partial<Omit<VoiceSessionView, 'connectionId'>>): void {
    const session = this.sessions.get(connectionId);
    if (session) Object.assign(session, patch);
  }

  /** Releases a session slot. */
  close(connectionId: string): void {
    this.sessions.delete(connectionId);
    this.owners.delete(connectionId);
  }

  /** The live sessions (copies) of one workspace, and of one user when the caller is pinned to it. */
  list(scope: { workspaceId: string; userId?: string | undefined }): VoiceSessionView[] {
    return [...this.sessions.values()]
      .filter((session) => {
        const owner = this.owners.get(session.connectionId);
        return (
          owner?.workspaceId === scope.workspaceId && (scope.userId === undefined || owner.userId === scope.userId)
        );
      })
      .map((session) => ({ ...session }));
  }

  /** The statistics of `GET /api/voice/stats`. */
  stats(): VoiceStats {
    return {
      stt: this.sttLatency.summary(),
      tts: this.ttsLatency.summary(),
      firstAudio: this.firstAudioLatency.summary(),
      audioChunksIn: this.chunksIn,
      audioChunksOut: this.chunksOut,
      requestsPerMinute: this.requests.perMinute(),
      activeSessions: this.sessions.size,
      timestamp: Date.now(),
    };
  }
}
