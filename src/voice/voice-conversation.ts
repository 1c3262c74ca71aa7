/**
 * One voice conversation over any duplex transport (the `/audio` WebSocket): PCM in → energy VAD →
 * speech to text → the agent, streamed → sentence-level text to speech → PCM out, with barge-in (speech
 * during a turn cancels its synthesis and its agent run). The messages follow agtOS' protocol
 * (research/agtos-automatos.md §1.3); docs/voice.md lists them.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { newSessionId } from '../runtime/ids.js';
import { EnergyVad, type VadSettings } from './energy-vad.js';
import { BYTES_PER_SAMPLE, pcmDurationMs, SAMPLE_RATE } from './pcm.js';
import { SentenceSplitter } from './sentence-splitter.js';
import type { VoiceService } from './voice-service.js';

/** What the agent did with one user turn. */
export interface AgentReply {
  text: string;
  status: string;
  error?: string | null | undefined;
  /** The agentos run that answered. */
  runId?: string | undefined;
}

/**
 * Runs the agent on one transcribed turn in the conversation's session, calling `onDelta` with each text
 * delta as it streams; an aborted `signal` must cancel the run.
 */
export type AgentPort = (
  text: string,
  sessionId: string,
  onDelta: (delta: string) => void,
  signal: AbortSignal,
) => Promise<AgentReply>;

/** Where the conversation writes. */
export interface VoiceTransport {
  sendJson(message: Record<string, unknown>): void;
  sendAudio(pcm: Buffer): void;
}

/** Options of {@link VoiceConversation}. */
export interface VoiceConversationOptions {
  voice: VoiceService;
  agent: AgentPort;
  transport: VoiceTransport;
  /** The agentos session the turns are stored in (a new id when absent). */
  sessionId?: string | undefined;
  /** Errors that are the server's, not the caller's (logged, then reported to the client as `error`). */
  onError?: (error: unknown) => void;
}

/** Reply audio goes out in 100 ms frames (agtOS: 320–3200 bytes). */
const OUT_FRAME_BYTES = (SAMPLE_RATE / 10) * BYTES_PER_SAMPLE;

function sleep(milliseconds: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, milliseconds);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

function isAbort(error: unknown, signal: AbortSignal): boolean {
  return signal.aborted || (error instanceof Error && error.name === 'AbortError');
}

/** One conversation; see the module note. */
export class VoiceConversation {
  readonly sessionId: string;
  readonly connectionId = randomUUID();
  private readonly voice: VoiceService;
  private readonly agent: AgentPort;
  private readonly transport: VoiceTransport;
  private readonly onError: (error: unknown) => void;
  private readonly vad: EnergyVad;
  private readonly connectedAt = Date.now();
  private bytesReceived = 0;
  private bytesSent = 0;
  private active = true;
  private turn: { controller: AbortController; ttsOpen: boolean; done: Promise<void> } | null = null;
  private closed = false;

  constructor(options: VoiceConversationOptions) {
    this.voice = options.voice;
    this.agent = options.agent;
    this.transport = options.transport;
    this.sessionId = options.sessionId ?? newSessionId();
    this.onError = options.onError ?? (() => {});
    const vad = options.voice.config.vad;
    const settings: VadSettings = {
      energyThreshold: vad.energy_threshold,
      startMs: vad.start_ms,
      minSpeechMs: vad.min_speech_ms,
      silenceMs: vad.silence_ms,
      maxSpeechMs: vad.max_speech_ms,
      preRollMs: vad.pre_roll_ms,
    };
    this.vad = new EnergyVad(
      {
        onSpeechStart: () => {
          this.voice.update(this.connectionId, { isSpeaking: true });
          // Barge-in: the caller talks over the agent, so its reply (audio and run) stops now.
          this.interrupt();
        },
        onUtterance: (pcm) => {
          this.voice.update(this.connectionId, { isSpeaking: false });
          this.startTurn(pcm);
        },
        onDiscard: () => this.voice.update(this.connectionId, { isSpeaking: false }),
      },
      settings,
    );
  }

  /** The session view `GET /api/sessions` lists. */
  view() {
    return {
      id: this.sessionId,
      connectionId: this.connectionId,
      isActive: this.active,
      isSpeaking: this.vad.isSpeaking,
      lastActivity: Date.now(),
    };
  }

  /** Sends `session_ack` (agtOS: first message on connect). */
  acknowledge(): void {
    this.send({
      type: 'session_ack',
      sessionId: this.sessionId,
      details: { sampleRate: SAMPLE_RATE, channels: 1, bitDepth: 16, connectionId: this.connectionId },
    });
  }

  /** A binary frame: PCM s16le 16 kHz mono. */
  receiveAudio(chunk: Buffer): void {
    if (this.closed) return;
    this.bytesReceived += chunk.length;
    this.voice.countChunks('in');
    this.voice.update(this.connectionId, { lastActivity: Date.now() });
    if (!this.active) return;
    this.vad.push(chunk);
  }

  /** A text frame, already parsed as JSON. Unknown types get an `error` (the connection stays open). */
  receiveMessage(message: { type?: unknown; [key: string]: unknown }): void {
    this.voice.update(this.connectionId, { lastActivity: Date.now() });
    switch (message.type) {
      case 'session_start':
        this.active = true;
        this.voice.update(this.connectionId, { isActive: true });
        this.acknowledge();
        return;
      case 'session_end':
        // The socket stays open; audio is ignored until the next session_start.
        this.active = false;
        this.vad.reset();
        this.interrupt();
        this.voice.update(this.connectionId, { isActive: false, isSpeaking: false });
        return;
      case 'end_of_speech':
        // Push-to-talk: the client says the utterance is over without waiting for the silence.
        this.vad.flush();
        return;
      case 'interrupt':
        this.interrupt();
        return;
      case 'status':
        this.send({
          type: 'status',
          sessionId: this.sessionId,
          details: {
            connectedAt: this.connectedAt,
            bytesReceived: this.bytesReceived,
            bytesSent: this.bytesSent,
            uptime: Date.now() - this.connectedAt,
            isSpeaking: this.vad.isSpeaking,
            isActive: this.active,
          },
        });
        return;
      case 'ping':
        this.send({ type: 'pong', sessionId: this.sessionId, timestamp: Date.now() });
        return;
      case 'config':
        // agtOS' per-session settings; only the VAD sensitivity means something here and the server's
        // thresholds are the operator's, so it is acknowledged and ignored.
        this.send({ type: 'config_ack', sessionId: this.sessionId });
        return;
      default:
        this.send({ type: 'error', sessionId: this.sessionId, error: `Unknown message type: ${String(message.type)}` });
    }
  }

  /** The socket closed: the turn in progress stops, nothing more is sent. */
  close(): void {
    this.closed = true;
    this.turn?.controller.abort(new Error('closed'));
    this.turn = null;
  }

  /** Resolves when the turn in progress (if any) has finished or stopped. */
  async settled(): Promise<void> {
    await this.turn?.done;
  }

  private send(message: Record<string, unknown>): void {
    if (!this.closed) this.transport.sendJson(message);
  }

  private interrupt(): void {
    const turn = this.turn;
    if (!turn) return;
    this.turn = null;
    turn.controller.abort(new Error('barge-in'));
    if (turn.ttsOpen) {
      turn.ttsOpen = false;
      this.send({ type: 'tts_end', sessionId: this.sessionId, interrupted: true });
    }
    this.send({ type: 'interrupted', sessionId: this.sessionId });
  }

  private startTurn(pcm: Buffer): void {
    this.interrupt();
    const controller = new AbortController();
    const turn = { controller, ttsOpen: false, done: Promise.resolve() };
    this.turn = turn;
    turn.done = this.runTurn(pcm, turn).catch((error: unknown) => {
      if (isAbort(error, controller.signal)) return;
      this.onError(error);
      this.send({
        type: 'error',
        sessionId: this.sessionId,
        error: error instanceof Error ? error.message : String(error),
      });
    });
    turn.done.finally(() => {
      if (this.turn === turn) this.turn = null;
    });
  }

  private async runTurn(pcm: Buffer, turn: { controller: AbortController; ttsOpen: boolean }): Promise<void> {
    const { signal } = turn.controller;
    const endedAt = performance.now();
    const heard = await this.voice.transcribe(pcm, signal);
    if (signal.aborted) return;
    const text = heard.text.trim();
    if (text === '') {
      this.send({ type: 'error', sessionId: this.sessionId, error: 'No speech was recognised in the utterance' });
      return;
    }
    this.send({
      type: 'transcript',
      sessionId: this.sessionId,
      role: 'user',
      text,
      ...(heard.words ? { words: heard.words } : {}),
      durationMs: pcmDurationMs(pcm),
    });

    // Sentences are synthesised one after another as the model writes them; a second loop sends the
    // audio in order, paced to at most `tts_lead_ms` ahead of real time.
    const splitter = new SentenceSplitter();
    const pending: Promise<Buffer>[] = [];
    let synthesis: Promise<unknown> = Promise.resolve();
    const waiting: { wake: (() => void) | null } = { wake: null };
    let replyDone = false;
    const enqueue = (sentence: string) => {
      const next = synthesis.then(() => this.voice.synthesize(sentence, signal));
      // A failed or aborted synthesis is reported where it is awaited, by the sender.
      next.catch(() => {});
      synthesis = next.catch(() => {});
      pending.push(next);
      waiting.wake?.();
    };
    const sender = (async () => {
      let index = 0;
      let playStart = 0;
      let sentMs = 0;
      for (;;) {
        if (signal.aborted) return;
        const next = pending[index];
        if (next === undefined) {
          if (replyDone) break;
          await new Promise<void>((resolve) => {
            waiting.wake = resolve;
          });
          waiting.wake = null;
          continue;
        }
        index++;
        const audio = await next;
        if (signal.aborted) return;
        if (!turn.ttsOpen) {
          turn.ttsOpen = true;
          this.voice.recordFirstAudio(performance.now() - endedAt);
          this.send({ type: 'tts_start', sessionId: this.sessionId });
          playStart = performance.now();
        }
        for (let offset = 0; offset < audio.length; offset += OUT_FRAME_BYTES) {
          const ahead = sentMs - (performance.now() - playStart);
          if (ahead > this.voice.config.tts_lead_ms) await sleep(ahead - this.voice.config.tts_lead_ms, signal);
          if (signal.aborted || this.closed) return;
          const frame = audio.subarray(offset, offset + OUT_FRAME_BYTES);
          this.transport.sendAudio(frame);
          this.voice.countChunks('out');
          this.bytesSent += frame.length;
          sentMs += pcmDurationMs(frame);
        }
      }
      if (turn.ttsOpen && !signal.aborted) {
        turn.ttsOpen = false;
        this.send({ type: 'tts_end', sessionId: this.sessionId, durationMs: sentMs });
      }
    })();
    // The sender may fail (a synthesis error) while the agent still runs: stop the turn then.
    sender.catch((error: unknown) => {
      if (signal.aborted) return;
      this.onError(error);
      if (turn.ttsOpen) {
        turn.ttsOpen = false;
        this.send({ type: 'tts_end', sessionId: this.sessionId, interrupted: true });
      }
      const reason = error instanceof Error ? error.message : String(error);
      this.send({ type: 'error', sessionId: this.sessionId, error: `Speech synthesis failed: ${reason}` });
      turn.controller.abort(new Error('synthesis failed'));
    });

    let reply: AgentReply;
    try {
      reply = await this.agent(text, this.sessionId, (delta) => splitter.push(delta).forEach(enqueue), signal);
    } finally {
      if (!signal.aborted) splitter.flush().forEach(enqueue);
      replyDone = true;
      waiting.wake?.();
    }
    if (signal.aborted) return;
    if (reply.status === 'error') {
      this.send({ type: 'error', sessionId: this.sessionId, error: `The agent failed: ${reply.error ?? 'unknown'}` });
    } else {
      this.send({ type: 'transcript', sessionId: this.sessionId, role: 'assistant', text: reply.text });
    }
    await sender;
  }
}
