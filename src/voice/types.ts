/**
 * The engine seams of the voice pipeline: speech to text and text to speech. Every engine takes and
 * returns PCM s16le 16 kHz mono (`pcm.ts`), so engines and transports never convert for each other.
 * @module
 */

/** One recognised word with its offsets in seconds from the start of the utterance. */
export interface TranscribedWord {
  word: string;
  start: number;
  end: number;
}

/** What an engine heard; `text` is empty when it heard nothing it could recognise. */
export interface Transcription {
  text: string;
  words?: TranscribedWord[];
}

/** Why an engine cannot run here, or `null` when it can. */
export type EngineProbe = Promise<string | null>;

/** Speech to text over one finished utterance. */
export interface SpeechToText {
  /** The configured id, e.g. `local:pocketsphinx` or `openai:whisper-1`. */
  readonly id: string;
  /** Resolves `null` when the engine is usable, else the reason it is not (a missing binary, key or model). */
  probe(): EngineProbe;
  /**
   * Transcribes PCM s16le 16 kHz mono. Rejects when the engine fails; an aborted `signal` rejects too and
   * stops the engine's work (a killed process, a cancelled request).
   */
  transcribe(pcm: Buffer, options?: { signal?: AbortSignal }): Promise<Transcription>;
}

/** Text to speech for one sentence at a time (the pipeline streams sentence by sentence). */
export interface TextToSpeech {
  /** The configured id, e.g. `local:espeak-ng` or `openai:tts-1`. */
  readonly id: string;
  /** Resolves `null` when the engine is usable, else the reason it is not. */
  probe(): EngineProbe;
  /** Synthesises `text` as PCM s16le 16 kHz mono; an aborted `signal` rejects and stops the work. */
  synthesize(text: string, options?: { signal?: AbortSignal }): Promise<Buffer>;
}
