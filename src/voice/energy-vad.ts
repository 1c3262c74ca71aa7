/**
 * Energy-based voice activity detection over PCM s16le 16 kHz mono, in 20 ms frames. A frame is voiced
 * when its RMS reaches `energyThreshold`; speech starts after `startMs` of voiced frames (with `preRollMs`
 * of audio before it kept, so the first phoneme is not cut), and the utterance ends after `silenceMs` of
 * unvoiced frames, or is cut at `maxSpeechMs`. Utterances with less than `minSpeechMs` of voiced audio are
 * dropped as noise. The defaults follow agtOS (research §1.3: minimum speech 0.25 s, minimum silence
 * 0.5 s, maximum speech 20 s, 200 ms pre-roll); `voice.vad` in the config changes them.
 * @module
 */
import { BYTES_PER_SAMPLE, rms, SAMPLE_RATE } from './pcm.js';

/** Thresholds of {@link EnergyVad}; see the module note. */
export interface VadSettings {
  /** RMS (0–32768) at or above which a 20 ms frame counts as voiced; 500 ≈ −36 dBFS. */
  energyThreshold: number;
  startMs: number;
  minSpeechMs: number;
  silenceMs: number;
  maxSpeechMs: number;
  preRollMs: number;
}

/** The documented defaults (docs/config.md, `voice.vad`). */
export const DEFAULT_VAD: VadSettings = {
  energyThreshold: 500,
  startMs: 60,
  minSpeechMs: 250,
  silenceMs: 500,
  maxSpeechMs: 20_000,
  preRollMs: 200,
};

/** Frame length the detector decides on. */
export const FRAME_MS = 20;
const FRAME_BYTES = (SAMPLE_RATE / 1000) * FRAME_MS * BYTES_PER_SAMPLE;

/** What the detector reports while audio is pushed. */
export interface VadListener {
  /** Speech began (barge-in point). */
  onSpeechStart(): void;
  /** An utterance ended: its PCM, pre-roll included. */
  onUtterance(pcm: Buffer): void;
  /** Speech that began was too short to keep (a click, a cough). */
  onDiscard?(): void;
}

/** A streaming detector for one audio source; push frames of any size. */
export class EnergyVad {
  private readonly settings: VadSettings;
  private pending: Buffer = Buffer.alloc(0);
  private preRoll: Buffer[] = [];
  private utterance: Buffer[] = [];
  private speaking = false;
  private voicedRun = 0;
  private voicedTotal = 0;
  private silenceRun = 0;
  private speechLength = 0;

  constructor(
    private readonly listener: VadListener,
    settings: Partial<VadSettings> = {},
  ) {
    this.settings = { ...DEFAULT_VAD, ...settings };
  }

  /** Whether an utterance is in progress. */
  get isSpeaking(): boolean {
    return this.speaking;
  }

  /** Feeds PCM; complete 20 ms frames are decided at once, a partial frame waits for the next push. */
  push(chunk: Buffer): void {
    let buffer = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    while (buffer.length >= FRAME_BYTES) {
      this.frame(Buffer.from(buffer.subarray(0, FRAME_BYTES)));
      buffer = buffer.subarray(FRAME_BYTES);
    }
    this.pending = Buffer.from(buffer);
  }

  /** Ends the utterance in progress now (the client said the turn is over, or the stream ended). */
  flush(): void {
    if (this.speaking) this.finish();
    this.pending = Buffer.alloc(0);
  }

  /** Forgets everything buffered. */
  reset(): void {
    this.pending = Buffer.alloc(0);
    this.preRoll = [];
    this.utterance = [];
    this.speaking = false;
    this.voicedRun = 0;
    this.voicedTotal = 0;
    this.silenceRun = 0;
    this.speechLength = 0;
  }

  private frame(frame: Buffer): void {
    const voiced = rms(frame) >= this.settings.energyThreshold;
    const { startMs, silenceMs, maxSpeechMs, preRollMs } = this.settings;
    if (!this.speaking) {
      this.preRoll.push(frame);
      this.voicedRun = voiced ? this.voicedRun + FRAME_MS : 0;
      // The pre-roll keeps the frames that confirmed the start plus `preRollMs` before them.
      const keep = Math.ceil((preRollMs + startMs) / FRAME_MS);
      if (this.preRoll.length > keep) this.preRoll.splice(0, this.preRoll.length - keep);
      if (this.voicedRun >= startMs) {
        this.speaking = true;
        this.utterance = this.preRoll;
        this.preRoll = [];
        this.voicedTotal = this.voicedRun;
        this.silenceRun = 0;
        this.speechLength = this.utterance.length * FRAME_MS;
        this.listener.onSpeechStart();
      }
      return;
    }
    this.utterance.push(frame);
    this.speechLength += FRAME_MS;
    if (voiced) {
      this.voicedTotal += FRAME_MS;
      this.silenceRun = 0;
    } else {
      this.silenceRun += FRAME_MS;
    }
    if (this.silenceRun >= silenceMs || this.speechLength >= maxSpeechMs) this.finish();
  }

  private finish(): void {
    const audio = Buffer.concat(this.utterance);
    const kept = this.voicedTotal >= this.settings.minSpeechMs;
    this.utterance = [];
    this.speaking = false;
    this.voicedRun = 0;
    this.voicedTotal = 0;
    this.silenceRun = 0;
    this.speechLength = 0;
    if (kept) this.listener.onUtterance(audio);
    else this.listener.onDiscard?.();
  }
}
