// Voice latency benchmark (issue 15): the offline engines on a 3-second utterance, as the /audio pipeline calls
// them (one process per call, through VoiceService so the same latency windows fill).
//   STT: PocketSphinx on a 3 s utterance (eSpeak NG's `en-us+m3` voice speaking a fixed sentence, padded with the
//        VAD's 500 ms of trailing silence, as an utterance reaches the engine);
//   TTS: eSpeak NG on one reply sentence (what the pipeline synthesises before the first audio goes out).
// Each is run WARMUP times, then RUNS times sequentially; p50/p95 and the real-time factor are printed.
// Usage: npm run bench:voice  (needs npm run setup:voice)
import { parseConfig } from '../../src/config/index.js';
import { createEspeakTts, pcmDurationMs, SAMPLE_RATE, VoiceService } from '../../src/voice/index.js';

const RUNS = 20;
const WARMUP = 3;
const SENTENCE = 'good morning, what is the weather like';
const REPLY = 'It is sunny and warm today, with a light breeze from the west.';

const voice = new VoiceService({ config: parseConfig({}, { source: 'bench' }).voice });
const status = await voice.status();
if (!status.available) {
  console.error(`voice is not available: ${status.reason}`);
  process.exit(1);
}
const spoken = await createEspeakTts({ voice: 'en-us+m3' }).synthesize(SENTENCE);
const utterance = Buffer.concat([spoken, Buffer.alloc((SAMPLE_RATE / 1000) * 500 * 2)]);

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

async function measure(action: () => Promise<unknown>): Promise<number[]> {
  for (let index = 0; index < WARMUP; index++) await action();
  const times: number[] = [];
  for (let index = 0; index < RUNS; index++) {
    const started = performance.now();
    await action();
    times.push(performance.now() - started);
  }
  return times;
}

let transcript = '';
const stt = await measure(async () => {
  transcript = (await voice.transcribe(utterance)).text;
});
let replyAudio = Buffer.alloc(0);
const tts = await measure(async () => {
  replyAudio = await voice.synthesize(REPLY);
});
const utteranceMs = pcmDurationMs(utterance);
const replyMs = pcmDurationMs(replyAudio);
const row = (name: string, times: number[], audioMs: number) =>
  `${name.padEnd(26)} p50 ${percentile(times, 50).toFixed(0).padStart(5)} ms  p95 ${percentile(times, 95)
    .toFixed(0)
    .padStart(5)} ms  real-time factor ${(percentile(times, 50) / audioMs).toFixed(3)}`;
console.log(`voice latency, ${RUNS} runs after ${WARMUP} warm-up, sequential`);
console.log(row(`STT pocketsphinx ${(utteranceMs / 1000).toFixed(1)} s`, stt, utteranceMs));
console.log(row(`TTS espeak-ng ${(replyMs / 1000).toFixed(1)} s out`, tts, replyMs));
console.log(`transcript: "${transcript}"`);
