// Voice latency benchmark (issue 15): the offline engines on a 3-second utterance, as the /audio pipeline calls
// them (one process per call, through VoiceService so the same latency windows fill).
//   STT: PocketSphinx on a 3 s utterance (eSpeak NG's `en-us+m3` voice speaking a fixed sentence, padded with the
//        VAD's 500 ms of trailing silence, as an utterance reaches the engine);
//   TTS: eSpeak NG on one reply sentence (what the pipeline synthesises before the first audio goes out).
// Each is run WARMUP times, then RUNS times sequentially; wall p50/p95, the real-time factor (wall p50 ÷ audio) and
// the engine processes' own CPU time (Linux: children's utime + stime from /proc/self/stat, 10 ms ticks) are printed.
// On a shared, loaded machine the wall time is mostly waiting for a core; the CPU time is what the engine costs.
// Usage: npm run bench:voice  (needs npm run setup:voice)
import { readFileSync } from 'node:fs';
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

/** CPU milliseconds used by this process's finished children, or NaN off Linux. */
function childCpuMs(): number {
  try {
    // Fields after the `(comm)`: state is field 3, cutime and cstime are fields 16 and 17.
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[13]) + Number(fields[14])) * 10;
  } catch {
    return Number.NaN;
  }
}

async function measure(action: () => Promise<unknown>): Promise<{ wall: number[]; cpu: number[] }> {
  for (let index = 0; index < WARMUP; index++) await action();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let index = 0; index < RUNS; index++) {
    const cpuBefore = childCpuMs();
    const started = performance.now();
    await action();
    wall.push(performance.now() - started);
    cpu.push(childCpuMs() - cpuBefore);
  }
  return { wall, cpu };
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
const row = (name: string, times: { wall: number[]; cpu: number[] }, audioMs: number) =>
  `${name.padEnd(26)} wall p50 ${percentile(times.wall, 50).toFixed(0).padStart(5)} ms  p95 ${percentile(times.wall, 95)
    .toFixed(0)
    .padStart(5)} ms  real-time factor ${(percentile(times.wall, 50) / audioMs).toFixed(3)}  CPU p50 ${percentile(
    times.cpu,
    50,
  ).toFixed(0)} ms`;
console.log(`voice latency, ${RUNS} runs after ${WARMUP} warm-up, sequential`);
console.log(row(`STT pocketsphinx ${(utteranceMs / 1000).toFixed(1)} s`, stt, utteranceMs));
console.log(row(`TTS espeak-ng ${(replyMs / 1000).toFixed(1)} s out`, tts, replyMs));
console.log(`transcript: "${transcript}"`);
