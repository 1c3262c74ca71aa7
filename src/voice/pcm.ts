/**
 * The one audio format of the voice pipeline, PCM s16le 16 kHz mono (agtOS' `/audio` frames), and
 * the conversions to and from WAV that engines and `POST /api/chat/voice` need.
 * @module
 */

/** Sample rate of every PCM buffer inside the pipeline and on the `/audio` socket. */
export const SAMPLE_RATE = 16_000;
/** Bytes per sample (s16le). */
export const BYTES_PER_SAMPLE = 2;
/** WAV input rates accepted (telephone to studio); resampling to 16 kHz at most doubles the size. */
const MIN_SAMPLE_RATE = 8_000;
const MAX_SAMPLE_RATE = 48_000;
const MAX_CHANNELS = 2;

/** Decoded WAV: interleaved s16le samples, their rate and channel count. */
export interface WavAudio {
  pcm: Buffer;
  sampleRate: number;
  channels: number;
}

/** Duration in milliseconds of 16 kHz mono PCM. */
export function pcmDurationMs(pcm: Buffer, sampleRate = SAMPLE_RATE): number {
  return Math.round((pcm.length / BYTES_PER_SAMPLE / sampleRate) * 1000);
}

/** Wraps 16-bit PCM in a canonical 44-byte WAV header. */
export function encodeWav(pcm: Buffer, sampleRate = SAMPLE_RATE, channels = 1): Buffer {
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + pcm.length, 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(channels, 22);
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * channels * BYTES_PER_SAMPLE, 28);
  header.writeUInt16LE(channels * BYTES_PER_SAMPLE, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(pcm.length, 40);
  return Buffer.concat([header, pcm]);
}

/**
 * Reads a 16-bit PCM WAV, walking its chunks (espeak-ng and OpenAI write extra ones, and a streamed WAV
 * may declare a data size of 0 or 0xFFFFFFFF: the data then runs to the end). Returns `null` for
 * anything that is not 16-bit PCM WAV.
 */
export function decodeWav(file: Buffer): WavAudio | null {
  if (file.length < 12 || file.toString('ascii', 0, 4) !== 'RIFF' || file.toString('ascii', 8, 12) !== 'WAVE') {
    return null;
  }
  let offset = 12;
  let format: { sampleRate: number; channels: number } | null = null;
  while (offset + 8 <= file.length) {
    const id = file.toString('ascii', offset, offset + 4);
    const size = file.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (body + 16 > file.length) return null;
      const encoding = file.readUInt16LE(body);
      const bits = file.readUInt16LE(body + 14);
      // 1 = PCM; 0xFFFE = WAVE_FORMAT_EXTENSIBLE, which carries PCM too at 16 bits.
      if ((encoding !== 1 && encoding !== 0xfffe) || bits !== 16) return null;
      format = { channels: file.readUInt16LE(body + 2), sampleRate: file.readUInt32LE(body + 4) };
    } else if (id === 'data') {
      // Rates outside telephone..studio range are refused: resampling to 16 kHz multiplies a tiny file by
      // 16000 / rate, so a header claiming 1 Hz would turn kilobytes into gigabytes.
      if (format === null || format.channels < 1 || format.channels > MAX_CHANNELS) return null;
      if (format.sampleRate < MIN_SAMPLE_RATE || format.sampleRate > MAX_SAMPLE_RATE) return null;
      const end = size === 0 || size === 0xffffffff ? file.length : Math.min(file.length, body + size);
      const length = (end - body) & ~1;
      return { pcm: file.subarray(body, body + length), ...format };
    }
    offset = body + size + (size & 1);
  }
  return null;
}

/** Converts 16-bit PCM to 16 kHz mono: channels averaged, then resampled by linear interpolation. */
export function toPipelinePcm(audio: WavAudio): Buffer {
  const { pcm, sampleRate, channels } = audio;
  const frames = Math.floor(pcm.length / (BYTES_PER_SAMPLE * channels));
  const mono = new Float64Array(frames);
  for (let frame = 0; frame < frames; frame++) {
    let sum = 0;
    for (let channel = 0; channel < channels; channel++) {
      sum += pcm.readInt16LE((frame * channels + channel) * BYTES_PER_SAMPLE);
    }
    mono[frame] = sum / channels;
  }
  if (sampleRate === SAMPLE_RATE) return floatToPcm(mono);
  const outFrames = Math.floor((frames * SAMPLE_RATE) / sampleRate);
  const out = new Float64Array(outFrames);
  const step = sampleRate / SAMPLE_RATE;
  for (let index = 0; index < outFrames; index++) {
    const position = index * step;
    const left = Math.floor(position);
    const right = Math.min(left + 1, frames - 1);
    const fraction = position - left;
    out[index] = (mono[left] ?? 0) * (1 - fraction) + (mono[right] ?? 0) * fraction;
  }
  return floatToPcm(out);
}

function floatToPcm(samples: Float64Array): Buffer {
  const out = Buffer.alloc(samples.length * BYTES_PER_SAMPLE);
  for (let index = 0; index < samples.length; index++) {
    out.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(samples[index] ?? 0))), index * BYTES_PER_SAMPLE);
  }
  return out;
}

/** Root mean square of s16le samples (0–32768), what the energy VAD compares. */
export function rms(pcm: Buffer): number {
  const samples = Math.floor(pcm.length / BYTES_PER_SAMPLE);
  if (samples === 0) return 0;
  let sum = 0;
  for (let index = 0; index < samples; index++) {
    const value = pcm.readInt16LE(index * BYTES_PER_SAMPLE);
    sum += value * value;
  }
  return Math.sqrt(sum / samples);
}
