/**
 * Offline text to speech with eSpeak NG (Debian `espeak-ng`): `--stdout` writes a WAV at the voice's
 * own rate (22050 Hz), which is decoded and resampled to the pipeline's 16 kHz mono. The text goes in
 * on stdin, never as an argument, so it cannot be read as an option.
 * @module
 */

import { cachedProbe } from './cached-probe.js';
import { decodeWav, toPipelinePcm } from './pcm.js';
import { runProcess } from './run-process.js';
import type { TextToSpeech } from './types.js';

/** Options of {@link createEspeakTts}. */
export interface EspeakOptions {
  /** The binary (default `espeak-ng`, found on PATH). */
  binary?: string;
  /** eSpeak voice name (default `en-us`). */
  voice?: string;
  /** Words per minute (default 160). */
  wordsPerMinute?: number;
}

/** Creates the eSpeak NG engine; each sentence runs one process (tens of milliseconds). */
export function createEspeakTts(options: EspeakOptions = {}): TextToSpeech {
  const binary = options.binary ?? 'espeak-ng';
  const args = ['--stdout', '-v', options.voice ?? 'en-us', '-s', String(options.wordsPerMinute ?? 160)];

  async function synthesize(text: string, signal?: AbortSignal): Promise<Buffer> {
    const result = await runProcess(binary, args, { stdin: text, signal });
    if (result.code !== 0) {
      throw new Error(`${binary} exited with ${result.code}: ${result.stderr.trim().slice(-300) || 'no output'}`);
    }
    const wav = decodeWav(result.stdout);
    if (wav === null) throw new Error(`${binary} did not write a 16-bit PCM WAV`);
    return toPipelinePcm(wav);
  }

  return {
    id: 'local:espeak-ng',
    probe: cachedProbe(() =>
      // A real synthesis: proves the binary and its voice data load.
      synthesize('ok').then(
        () => null,
        (error: unknown) =>
          (error as NodeJS.ErrnoException).code === 'ENOENT'
            ? `${binary} is not installed (run npm run setup:voice, or apt-get install espeak-ng)`
            : `${binary} does not work: ${error instanceof Error ? error.message : String(error)}`,
      ),
    ),
    synthesize: (text, callOptions) => synthesize(text, callOptions?.signal),
  };
}
