import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/index.js';
import { cachedProbe, RETRY_FAILED_PROBE_MS } from './cached-probe.js';
import { EnergyVad } from './energy-vad.js';
import { createEspeakTts } from './espeak-tts.js';
import { LatencyWindow } from './latency-stats.js';
import { decodeWav, encodeWav, pcmDurationMs, rms, SAMPLE_RATE, toPipelinePcm } from './pcm.js';
import { createPocketsphinxStt, parsePocketsphinxOutput } from './pocketsphinx-stt.js';
import { SentenceSplitter } from './sentence-splitter.js';
import { VoiceService } from './voice-service.js';

/** `milliseconds` of a 440 Hz tone at `amplitude`, 16 kHz mono s16le. */
function tone(milliseconds: number, amplitude = 8000): Buffer {
  const samples = (SAMPLE_RATE / 1000) * milliseconds;
  const out = Buffer.alloc(samples * 2);
  for (let index = 0; index < samples; index++) {
    out.writeInt16LE(Math.round(amplitude * Math.sin((2 * Math.PI * 440 * index) / SAMPLE_RATE)), index * 2);
  }
  return out;
}
const silence = (milliseconds: number) => Buffer.alloc((SAMPLE_RATE / 1000) * milliseconds * 2);

describe('EnergyVad', () => {
  function run(audio: Buffer, chunk = 333) {
    const events: string[] = [];
    const utterances: Buffer[] = [];
    const vad = new EnergyVad({
      onSpeechStart: () => events.push('start'),
      onUtterance: (pcm) => {
        events.push('utterance');
        utterances.push(pcm);
      },
      onDiscard: () => events.push('discard'),
    });
    // Odd chunk sizes: frames are assembled across pushes.
    for (let offset = 0; offset < audio.length; offset += chunk) vad.push(audio.subarray(offset, offset + chunk));
    return { events, utterances, vad };
  }

  it('finds one utterance between silences, with the pre-roll kept and the trailing silence ending it', () => {
    const { events, utterances } = run(Buffer.concat([silence(500), tone(1000), silence(700)]));
    expect(events).toEqual(['start', 'utterance']);
    const duration = pcmDurationMs(utterances[0] ?? Buffer.alloc(0));
    // 1000 ms of speech + up to 200 ms pre-roll + 500 ms of silence that ended it.
    expect(duration).toBeGreaterThanOrEqual(1500);
    expect(duration).toBeLessThanOrEqual(1800);
  });

  it('keeps a pause shorter than the silence threshold inside one utterance', () => {
    const { events } = run(Buffer.concat([tone(400), silence(300), tone(400), silence(600)]));
    expect(events).toEqual(['start', 'utterance']);
  });

  it('drops a click shorter than min_speech_ms and ignores quiet noise', () => {
    expect(run(Buffer.concat([tone(100), silence(600)])).events).toEqual(['start', 'discard']);
    expect(run(Buffer.concat([tone(1000, 200), silence(600)])).events).toEqual([]);
  });

  it('cuts an utterance at max_speech_ms; flush ends one early', () => {
    const events: string[] = [];
    const vad = new EnergyVad(
      { onSpeechStart: () => events.push('start'), onUtterance: () => events.push('utterance') },
      { maxSpeechMs: 1000 },
    );
    vad.push(tone(2500));
    // Cut at 1 s and 2 s; the third piece is still open.
    expect(events).toEqual(['start', 'utterance', 'start', 'utterance', 'start']);
    vad.flush();
    expect(events.at(-1)).toBe('utterance');
    expect(vad.isSpeaking).toBe(false);
  });
});

describe('SentenceSplitter', () => {
  it('emits each sentence as soon as the next delta starts, and the rest on flush', () => {
    const splitter = new SentenceSplitter();
    expect(splitter.push('Hello there')).toEqual([]);
    expect(splitter.push('. How are')).toEqual(['Hello there.']);
    expect(splitter.push(' you? I am "fine." Ok')).toEqual(['How are you?', 'I am "fine."']);
    expect(splitter.flush()).toEqual(['Ok']);
    expect(splitter.push('... ')).toEqual([]);
    expect(splitter.flush()).toEqual([]);
  });

  it('cuts a run-on clause at a comma so speech starts sooner', () => {
    const splitter = new SentenceSplitter();
    const sentences = splitter.push(`${'word '.repeat(30)}, ${'more '.repeat(20)}`);
    expect(sentences).toHaveLength(1);
    expect(sentences[0]?.endsWith(',')).toBe(true);
  });
});

describe('pcm', () => {
  it('round-trips WAV and converts 22050 Hz stereo to 16 kHz mono', () => {
    const mono = tone(500);
    expect(decodeWav(encodeWav(mono))).toEqual({ pcm: mono, sampleRate: SAMPLE_RATE, channels: 1 });
    const stereo = Buffer.alloc(22_050 * 4);
    for (let frame = 0; frame < 22_050; frame++) {
      stereo.writeInt16LE(1000, frame * 4);
      stereo.writeInt16LE(3000, frame * 4 + 2);
    }
    const converted = toPipelinePcm({ pcm: stereo, sampleRate: 22_050, channels: 2 });
    expect(pcmDurationMs(converted)).toBe(1000);
    expect(Math.round(rms(converted))).toBe(2000);
  });

  it('refuses what is not 16-bit PCM WAV', () => {
    expect(decodeWav(Buffer.from('not a wav file at all'))).toBeNull();
    const float = encodeWav(tone(10));
    float.writeUInt16LE(3, 20);
    expect(decodeWav(float)).toBeNull();
  });

  it('refuses rates and channel counts that would blow up on resampling', () => {
    // A header claiming 4 Hz would make 16000/4 = 4000 samples of every input sample.
    expect(decodeWav(encodeWav(tone(10), 4))).toBeNull();
    expect(decodeWav(encodeWav(tone(10), 96_000))).toBeNull();
    expect(decodeWav(encodeWav(tone(10), 16_000, 6))).toBeNull();
    expect(decodeWav(encodeWav(tone(10), 8_000))?.sampleRate).toBe(8_000);
  });
});

describe('parsePocketsphinxOutput', () => {
  it('keeps the text and the words with their offsets, without silences and fillers', () => {
    const stdout = [
      'what is the weather like',
      '<s> 0.000 0.020 0.999800',
      'what 0.030 0.180 0.103223',
      'is(2) 1.080 1.210 0.204644',
      '<sil> 1.330 1.370 0.949038',
      '[NOISE] 1.370 1.380 1.0',
      'weather 1.380 1.670 0.813569',
      '</s> 2.080 2.390 1.000000',
      '',
    ].join('\n');
    expect(parsePocketsphinxOutput(stdout)).toEqual({
      text: 'what is the weather like',
      words: [
        { word: 'what', start: 0.03, end: 0.18 },
        { word: 'is', start: 1.08, end: 1.21 },
        { word: 'weather', start: 1.38, end: 1.67 },
      ],
    });
    expect(parsePocketsphinxOutput('')).toEqual({ text: '' });
  });
});

describe('LatencyWindow', () => {
  it('reports nearest-rank percentiles, zeros before any sample', () => {
    const window = new LatencyWindow(100);
    expect(window.summary()).toEqual({ p50: 0, p95: 0, p99: 0, count: 0 });
    for (let value = 1; value <= 100; value++) window.record(value);
    expect(window.summary()).toEqual({ p50: 50, p95: 95, p99: 99, count: 100 });
  });
});

describe('missing engines', () => {
  it('say why, with the install command, instead of failing', async () => {
    const stt = createPocketsphinxStt({ binary: 'agentos-no-such-pocketsphinx' });
    const tts = createEspeakTts({ binary: 'agentos-no-such-espeak' });
    expect(await stt.probe()).toContain('is not installed (run npm run setup:voice');
    expect(await tts.probe()).toContain('is not installed (run npm run setup:voice');
    const voice = new VoiceService({ config: parseConfig({}, { source: 'test' }).voice, stt, tts });
    const status = await voice.status();
    expect(status).toMatchObject({ available: false, pipeline: null });
    expect(status.reason).toContain('agentos-no-such-pocketsphinx');
    expect(status.reason).toContain('agentos-no-such-espeak');
    await expect(stt.transcribe(Buffer.alloc(320))).rejects.toThrow();
  });

  it('voice.enabled: false is reported as the reason', async () => {
    const voice = new VoiceService({ config: parseConfig({ voice: { enabled: false } }, { source: 'test' }).voice });
    expect(await voice.status()).toMatchObject({ available: false, reason: expect.stringContaining('disabled') });
  });
});

describe('cachedProbe', () => {
  it('keeps a success for good and asks again after a failure once the retry time has passed', async () => {
    let clock = 0;
    const answers: (string | null)[] = ['missing', null, 'never asked'];
    let calls = 0;
    const probe = cachedProbe(
      async () => {
        calls++;
        return answers.shift() ?? null;
      },
      () => clock,
    );
    expect(await probe()).toBe('missing');
    expect(await probe()).toBe('missing');
    expect(calls).toBe(1);
    clock += RETRY_FAILED_PROBE_MS;
    expect(await probe()).toBeNull();
    clock += RETRY_FAILED_PROBE_MS * 10;
    expect(await probe()).toBeNull();
    expect(calls).toBe(2);
  });
});
