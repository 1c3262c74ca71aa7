import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/index.js';
import { createModelRegistry } from '../models/registry.js';
import { decodeWav, encodeWav, pcmDurationMs } from './pcm.js';
import { createProviderStt, createProviderTts } from './provider-engines.js';
import { VoiceService } from './voice-service.js';

/** An OpenAI-compatible audio upstream on 127.0.0.1:0: transcriptions and speech, recording what it got. */
async function startFakeAudio() {
  const requests: { path: string; contentType: string; body: Buffer }[] = [];
  const read = async (request: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };
  const server = createServer(async (request, response) => {
    const body = await read(request);
    requests.push({ path: request.url ?? '', contentType: request.headers['content-type'] ?? '', body });
    if (request.url === '/v1/audio/transcriptions') {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ text: ' what is the weather ', segments: [] }));
    } else if (request.url === '/v1/audio/speech') {
      // 24 kHz, like OpenAI's speech: half a second.
      response.setHeader('content-type', 'audio/wav');
      response.end(encodeWav(Buffer.alloc(24_000), 24_000));
    } else {
      response.statusCode = 404;
      response.end('{}');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/v1`, requests, close: () => new Promise((resolve) => server.close(resolve)) };
}

describe('provider voice engines (AI SDK, OPENAI_BASE_URL)', () => {
  let fake: Awaited<ReturnType<typeof startFakeAudio>>;
  beforeAll(async () => {
    fake = await startFakeAudio();
  });
  afterAll(async () => {
    await fake.close();
  });

  it('transcribes through /audio/transcriptions and speaks through /audio/speech, resampled to 16 kHz', async () => {
    const models = createModelRegistry({ env: { OPENAI_API_KEY: 'test-key', OPENAI_BASE_URL: fake.url } });
    const config = parseConfig(
      { voice: { stt: 'openai:whisper-1', tts: 'openai:tts-1', tts_voice: 'nova' } },
      {
        source: 'test',
      },
    ).voice;
    const voice = new VoiceService({
      config,
      providers: {
        speechToText: (id) => createProviderStt(id, () => models.transcriptionModel(id)),
        textToSpeech: (id, name) => createProviderTts(id, () => models.speechModel(id), name),
      },
    });
    expect(await voice.status()).toMatchObject({ available: true, stt: 'openai:whisper-1', tts: 'openai:tts-1' });

    expect(await voice.transcribe(Buffer.alloc(32_000))).toEqual({ text: 'what is the weather' });
    const transcription = fake.requests.find((request) => request.path === '/v1/audio/transcriptions');
    expect(transcription?.contentType).toContain('multipart/form-data');
    expect(transcription?.body.toString('latin1')).toContain('whisper-1');
    // The utterance went up as a 16 kHz WAV.
    expect(transcription?.body.includes(Buffer.from('RIFF'))).toBe(true);

    const audio = await voice.synthesize('It is sunny.');
    expect(pcmDurationMs(audio)).toBe(500);
    const speech = JSON.parse(
      fake.requests.find((request) => request.path === '/v1/audio/speech')?.body.toString('utf8') ?? '{}',
    );
    expect(speech).toMatchObject({ model: 'tts-1', input: 'It is sunny.', voice: 'nova', response_format: 'wav' });
    expect(decodeWav(encodeWav(audio))).toMatchObject({ sampleRate: 16_000, channels: 1 });
  });

  it('is unavailable, with the reason, without OPENAI_API_KEY', async () => {
    const models = createModelRegistry({ env: {} });
    const config = parseConfig({ voice: { stt: 'openai:whisper-1' } }, { source: 'test' }).voice;
    const voice = new VoiceService({
      config,
      providers: {
        speechToText: (id) => createProviderStt(id, () => models.transcriptionModel(id)),
        textToSpeech: (id, name) => createProviderTts(id, () => models.speechModel(id), name),
      },
    });
    const status = await voice.status();
    expect(status.available).toBe(false);
    expect(status.reason).toContain('OPENAI_API_KEY');
  });
});
