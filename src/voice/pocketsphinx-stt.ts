/**
 * Offline speech to text with CMU PocketSphinx, as Debian packages it (`pocketsphinx`,
 * `pocketsphinx-en-us`): the 0.8 `pocketsphinx_continuous -infile <wav>` batch mode over one utterance,
 * with `-time yes` for word offsets. `scripts/install-voice.sh` installs it.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cachedProbe } from './cached-probe.js';
import { encodeWav, SAMPLE_RATE } from './pcm.js';
import { runProcess } from './run-process.js';
import type { SpeechToText, TranscribedWord, Transcription } from './types.js';

/** Options of {@link createPocketsphinxStt}. */
export interface PocketsphinxOptions {
  /** The binary (default `pocketsphinx_continuous`, found on PATH). */
  binary?: string;
  /** Acoustic model, language model and dictionary; the binary's built-in en-us model when left out. */
  hmm?: string | undefined;
  lm?: string | undefined;
  dict?: string | undefined;
  /** Where utterances are written for the binary (default the OS temp directory). */
  tmpDir?: string;
}

/** `word start end confidence`, the lines `-time yes` adds after each utterance's text. */
const WORD_LINE = /^(\S+) (\d+(?:\.\d+)?) (\d+(?:\.\d+)?) (-?\d+(?:\.\d+)?)$/;
/** Silence, sentence marks and fillers the decoder reports as words. */
const NON_WORD = /^(<s>|<\/s>|<sil>|\[[A-Z_]+\]|\+\+.*\+\+)$/;

/** Parses the decoder's stdout: text lines, each followed by its word lines. */
export function parsePocketsphinxOutput(stdout: string): Transcription {
  const texts: string[] = [];
  const words: TranscribedWord[] = [];
  for (const line of stdout.split('\n').map((entry) => entry.trim())) {
    if (line === '') continue;
    const word = WORD_LINE.exec(line);
    if (word) {
      const [, spelled = '', start = '0', end = '0'] = word;
      // Alternate pronunciations come as `word(2)`.
      if (!NON_WORD.test(spelled)) {
        words.push({ word: spelled.replace(/\(\d+\)$/, ''), start: Number(start), end: Number(end) });
      }
    } else if (!line.startsWith('INFO:') && !line.startsWith('ERROR:') && !line.startsWith('WARN')) {
      texts.push(line);
    }
  }
  return { text: texts.join(' ').replace(/\s+/g, ' ').trim(), ...(words.length > 0 ? { words } : {}) };
}

/** Creates the PocketSphinx engine; each utterance runs one process (about 0.3 s of model loading). */
export function createPocketsphinxStt(options: PocketsphinxOptions = {}): SpeechToText {
  const binary = options.binary ?? 'pocketsphinx_continuous';
  const directory = options.tmpDir ?? tmpdir();
  const modelArgs = [
    ...(options.hmm ? ['-hmm', options.hmm] : []),
    ...(options.lm ? ['-lm', options.lm] : []),
    ...(options.dict ? ['-dict', options.dict] : []),
  ];

  async function transcribe(pcm: Buffer, signal?: AbortSignal): Promise<Transcription> {
    // The 0.8 decoder reads a file (it seeks over the header), not a pipe.
    const file = join(directory, `agentos-utterance-${randomUUID()}.wav`);
    await writeFile(file, encodeWav(pcm, SAMPLE_RATE));
    try {
      const result = await runProcess(
        binary,
        ['-infile', file, '-time', 'yes', '-samprate', String(SAMPLE_RATE), '-logfn', '/dev/null', ...modelArgs],
        { signal },
      );
      if (result.code !== 0) {
        throw new Error(`${binary} exited with ${result.code}: ${result.stderr.trim().slice(-300) || 'no output'}`);
      }
      return parsePocketsphinxOutput(result.stdout.toString('utf8'));
    } finally {
      await rm(file, { force: true });
    }
  }

  return {
    id: 'local:pocketsphinx',
    probe: cachedProbe(() =>
      // A real decode of a moment of silence: proves the binary and its model load.
      transcribe(Buffer.alloc(SAMPLE_RATE / 5)).then(
        () => null,
        (error: unknown) =>
          (error as NodeJS.ErrnoException).code === 'ENOENT'
            ? `${binary} is not installed (run npm run setup:voice, or apt-get install pocketsphinx pocketsphinx-en-us)`
            : `${binary} does not work: ${error instanceof Error ? error.message : String(error)}`,
      ),
    ),
    transcribe: (pcm, callOptions) => transcribe(pcm, callOptions?.signal),
  };
}
