/**
 * Provider engines through the AI SDK: `experimental_transcribe` and `experimental_generateSpeech` over
 * the transcription and speech models `models/` builds (`openai:whisper-1`, `openai:tts-1`; they honour
 * `OPENAI_BASE_URL`, so any OpenAI-compatible server works). Audio crosses as WAV.
 * @module
 */
import type { SpeechModelV3, TranscriptionModelV3 } from '@ai-sdk/provider';
import { decodeWav, encodeWav, toPipelinePcm } from './pcm.js';
import type { SpeechToText, TextToSpeech } from './types.js';

/** A provider engine's probe: `null` when its model can be built (a key is set), else the reason. */
function probeModel(model: () => Promise<unknown>): () => Promise<string | null> {
  return () =>
    model().then(
      () => null,
      (error: unknown) => (error instanceof Error ? error.message : String(error)),
    );
}

/** Speech to text by a provider model; the probe only checks that the model can be built (a key is set). */
export function createProviderStt(id: string, model: () => Promise<TranscriptionModelV3>): SpeechToText {
  return {
    id,
    probe: probeModel(model),
    async transcribe(pcm, options) {
      const { experimental_transcribe: transcribe } = await import('ai');
      const result = await transcribe({
        model: await model(),
        audio: new Uint8Array(encodeWav(pcm)),
        maxRetries: 1,
        ...(options?.signal ? { abortSignal: options.signal } : {}),
      });
      const words = result.segments.map((segment) => ({
        word: segment.text.trim(),
        start: segment.startSecond,
        end: segment.endSecond,
      }));
      return { text: result.text.trim(), ...(words.length > 0 ? { words } : {}) };
    },
  };
}

/** Text to speech by a provider model, asked for WAV and resampled to the pipeline's 16 kHz mono. */
export function createProviderTts(
  id: string,
  model: () => Promise<SpeechModelV3>,
  voice: string | undefined,
): TextToSpeech {
  return {
    id,
    probe: probeModel(model),
    async synthesize(text, options) {
      const { experimental_generateSpeech: generateSpeech } = await import('ai');
      const result = await generateSpeech({
        model: await model(),
        text,
        voice: voice ?? 'alloy',
        outputFormat: 'wav',
        maxRetries: 1,
        ...(options?.signal ? { abortSignal: options.signal } : {}),
      });
      const wav = decodeWav(Buffer.from(result.audio.uint8Array));
      if (wav === null) throw new Error(`${id} did not return a 16-bit PCM WAV`);
      return toPipelinePcm(wav);
    },
  };
}
