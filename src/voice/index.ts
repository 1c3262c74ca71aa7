/**
 * The voice room (issue 15): speech-to-text and text-to-speech engines behind one seam (offline
 * PocketSphinx and eSpeak NG by default, OpenAI-compatible models through the AI SDK), the energy VAD,
 * sentence-level TTS pipelining and the per-connection conversation that `/audio` drives.
 * @module
 */
export { DEFAULT_VAD, EnergyVad, type VadSettings } from './energy-vad.js';
export { createEspeakTts, type EspeakOptions } from './espeak-tts.js';
export { type LatencySummary, LatencyWindow } from './latency-stats.js';
export { decodeWav, encodeWav, pcmDurationMs, rms, SAMPLE_RATE, toPipelinePcm, type WavAudio } from './pcm.js';
export { createPocketsphinxStt, type PocketsphinxOptions, parsePocketsphinxOutput } from './pocketsphinx-stt.js';
export { createProviderStt, createProviderTts } from './provider-engines.js';
export { SentenceSplitter } from './sentence-splitter.js';
export type { SpeechToText, TextToSpeech, TranscribedWord, Transcription } from './types.js';
export {
  type AgentPort,
  type AgentReply,
  VoiceConversation,
  type VoiceConversationOptions,
  type VoiceTransport,
} from './voice-conversation.js';
export {
  type ProviderVoiceEngines,
  type VoiceConfig,
  VoiceService,
  type VoiceServiceOptions,
  type VoiceSessionOwner,
  type VoiceSessionView,
  type VoiceStats,
  type VoiceStatus,
} from './voice-service.js';
