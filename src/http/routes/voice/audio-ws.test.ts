/**
 * End to end over a real server on 127.0.0.1:0: eSpeak NG speaks a fixed sentence, the test streams it as
 * PCM over `WS /audio`, PocketSphinx transcribes it, the agent (scripted fake upstream) answers, and eSpeak NG's
 * reply audio comes back between `tts_start` and `tts_end`. Skips, saying why, when the engines are missing
 * (`npm run setup:voice` installs them).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type FakeOpenAI, startFakeOpenAI } from '../../../../test/fake-openai.js';
import { startTestServer } from '../../../../test/helpers.js';
import type { RunningServer } from '../../../main.js';
import { createEspeakTts, createPocketsphinxStt, pcmDurationMs, SAMPLE_RATE } from '../../../voice/index.js';
import { decodeWav } from '../../../voice/pcm.js';

const KEY = 'aos_voice_test_key_abcdefghijklmnop';
const NARROW_KEY = 'aos_voice_narrow_key_abcdefghijklmnop';
// biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field
const json = async (response: Response): Promise<any> => response.json();
/** A sentence PocketSphinx's en-us model hears well from eSpeak NG's `en-us+m3` voice (about 2.5 s). */
const SENTENCE = 'good morning, what is the weather like';
const REPLY = 'It is sunny and warm today. Take a hat with you.';

const problems = (await Promise.all([createPocketsphinxStt().probe(), createEspeakTts().probe()])).filter(
  (problem) => problem !== null,
);
const skip = problems.length > 0 ? problems.join('; ') : null;
if (skip !== null) console.warn(`[voice e2e] skipped: ${skip}`);

/** The fixed sentence as 16 kHz PCM, spoken by eSpeak NG (the engine the server uses, another voice). */
async function spokenSentence(): Promise<Buffer> {
  const tts = createEspeakTts({ voice: 'en-us+m3', wordsPerMinute: 160 });
  return tts.synthesize(SENTENCE);
}

/** Every client a test opened, closed after each test so a failed one cannot hold a session slot. */
const opened: VoiceClient[] = [];

/** A socket that records JSON messages and binary audio in arrival order. */
class VoiceClient {
  readonly messages: Record<string, unknown>[] = [];
  readonly audio: Buffer[] = [];
  /** Binary bytes received between each `tts_start` and its `tts_end`. */
  private waiters: {
    test: (message: Record<string, unknown>) => boolean;
    resolve: (m: Record<string, unknown>) => void;
  }[] = [];
  closed: { code: number; reason: string } | null = null;

  constructor(readonly socket: WebSocket) {
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) {
        this.audio.push(Buffer.from(data));
        return;
      }
      const message = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
      this.messages.push(message);
      for (const waiter of [...this.waiters]) {
        if (waiter.test(message)) {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          waiter.resolve(message);
        }
      }
    });
    socket.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
    });
  }

  static async open(url: string): Promise<VoiceClient> {
    const socket = new WebSocket(url);
    const client = new VoiceClient(socket);
    opened.push(client);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return client;
  }

  /** Resolves with the first message (already received or still to come) that passes `test`. */
  next(test: (message: Record<string, unknown>) => boolean, after = 0): Promise<Record<string, unknown>> {
    const seen = this.messages.slice(after).find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ test, resolve }));
  }

  /** Streams PCM in 20 ms frames, `speed` times faster than real time, then `silenceMs` of silence. */
  async speak(pcm: Buffer, { silenceMs = 1000, speed = 4 } = {}): Promise<void> {
    const frame = (SAMPLE_RATE / 50) * 2;
    const audio = Buffer.concat([pcm, Buffer.alloc((SAMPLE_RATE / 1000) * silenceMs * 2)]);
    for (let offset = 0; offset < audio.length; offset += frame * 10) {
      for (let index = 0; index < 10; index++) {
        const start = offset + index * frame;
        if (start < audio.length) this.socket.send(audio.subarray(start, start + frame), { binary: true });
      }
      await new Promise((resolve) => setTimeout(resolve, 200 / speed));
    }
  }

  async close(): Promise<void> {
    if (this.closed || this.socket.readyState === WebSocket.CLOSED) return;
    const closed = new Promise((resolve) => this.socket.once('close', resolve));
    this.socket.close();
    await closed;
  }
}

// Real engine processes on a shared CI machine: a turn takes seconds, more under load.
describe.skipIf(skip !== null)('WS /audio (PocketSphinx + eSpeak NG, fake upstream)', { timeout: 60_000 }, () => {
  let fake: FakeOpenAI;
  let server: RunningServer;
  let sentence: Buffer;
  const url = (query = '') => `${server.url.replace('http', 'ws')}/audio?token=${KEY}${query}`;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    server = await startTestServer({
      env: { OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'test-key', AGENTOS_API_KEY: KEY },
      config: {
        agents: [{ id: 'assistant', name: 'Assistant', model: 'openai:gpt-4o-mini' }],
        voice: { max_sessions: 2, tts_lead_ms: 500 },
      },
    });
    sentence = await spokenSentence();
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((client) => client.close()));
  });
  afterAll(async () => {
    await server?.close();
    await fake?.close();
  });

  it('hears a spoken sentence, runs the agent and speaks the reply sentence by sentence', async () => {
    fake.script({ text: REPLY });
    const client = await VoiceClient.open(url('&agent=assistant&user_id=ada'));
    const ack = await client.next((message) => message.type === 'session_ack');
    expect(ack).toMatchObject({ details: { sampleRate: 16_000, channels: 1, bitDepth: 16 } });
    const sessionId = String(ack.sessionId);

    const sent = performance.now();
    await client.speak(sentence);
    const heard = await client.next((message) => message.type === 'transcript' && message.role === 'user');
    expect(String(heard.text)).toContain('weather');
    expect(heard.sessionId).toBe(sessionId);
    const end = await client.next((message) => message.type === 'tts_end');
    const elapsed = performance.now() - sent;

    const assistant = await client.next((message) => message.type === 'transcript' && message.role === 'assistant');
    expect(assistant.text).toBe(REPLY);
    const types = client.messages.map((message) => message.type);
    expect(types.indexOf('tts_start')).toBeGreaterThan(types.indexOf('transcript'));
    // Two sentences, about 3 s of speech at 160 words per minute: the PCM must be that long, not a click.
    const replyMs = pcmDurationMs(Buffer.concat(client.audio));
    expect(replyMs).toBeGreaterThan(1500);
    expect(replyMs).toBeLessThan(10_000);
    expect(end.durationMs).toBe(replyMs);
    expect(client.audio.every((frame) => frame.length > 0 && frame.length % 2 === 0)).toBe(true);

    // The model saw the transcript as the user's message.
    expect(JSON.stringify(fake.modelRequests.at(-1)?.body.messages)).toContain('weather');
    const headers = { authorization: `Bearer ${KEY}` };
    const live = await json(await fetch(`${server.url}/api/sessions`, { headers }));
    expect(live).toMatchObject({ count: 1, sessions: [{ id: sessionId, isActive: true, isSpeaking: false }] });
    // A voice session is a normal session: its run is stored and the conversation can go on in text.
    const runs = await json(await fetch(`${server.url}/sessions/${sessionId}/runs`, { headers }));
    expect(JSON.stringify(runs)).toContain(REPLY);
    // The session belongs to the user the client named (memory agents remember them).
    const session = await json(await fetch(`${server.url}/sessions/${sessionId}`, { headers }));
    expect(session.user_id).toBe('ada');

    const stats = await json(await fetch(`${server.url}/api/voice/stats`, { headers }));
    expect(stats.stt.count).toBeGreaterThanOrEqual(1);
    expect(stats.tts.count).toBeGreaterThanOrEqual(2);
    expect(stats.audioChunksIn).toBeGreaterThan(0);
    expect(stats.audioChunksOut).toBe(client.audio.length);
    console.info(
      `[voice e2e] utterance ${heard.durationMs} ms; STT p50 ${stats.stt.p50} ms; TTS p50 ${stats.tts.p50} ms ` +
        `per sentence; end of utterance → first reply audio ${stats.firstAudio.p50} ms; whole turn ${Math.round(elapsed)} ms`,
    );
    await client.close();
  });

  it('barge-in: speech during the reply stops its audio and cancels its run', async () => {
    const long = Array.from({ length: 12 }, (_, index) => `This is sentence number ${index + 1} of a long answer.`);
    // Streamed slowly (about 7 s), so the run is still going when the caller talks over it.
    fake.script({ text: long.join(' '), chunkDelayMs: 100 }, { text: 'Stopped.' });
    const disconnects = fake.disconnects;
    const client = await VoiceClient.open(url());
    const ack = await client.next((message) => message.type === 'session_ack');
    await client.speak(sentence);
    await client.next((message) => message.type === 'tts_start');
    const mark = client.messages.length;
    await client.speak(sentence);
    const ended = await client.next((message) => message.type === 'tts_end', mark);
    expect(ended.interrupted).toBe(true);
    await client.next((message) => message.type === 'interrupted', mark);
    // The second utterance becomes the next turn.
    const second = await client.next((message) => message.type === 'transcript' && message.role === 'user', mark);
    expect(String(second.text)).toContain('weather');
    await client.next((message) => message.type === 'transcript' && message.role === 'assistant', mark);

    const headers = { authorization: `Bearer ${KEY}` };
    const { runs } = (await json(await fetch(`${server.url}/sessions/${ack.sessionId}/runs`, { headers }))) as {
      runs: { status: string }[];
    };
    expect(runs.map((run) => run.status).sort()).toEqual(['cancelled', 'completed']);
    // The interrupted run's model stream was abandoned, not left to finish.
    expect(fake.disconnects).toBeGreaterThan(disconnects);
    await client.close();
  });

  it('closes the connection past voice.max_sessions with 1013', async () => {
    const first = await VoiceClient.open(url());
    const second = await VoiceClient.open(url());
    await first.next((message) => message.type === 'session_ack');
    await second.next((message) => message.type === 'session_ack');
    const third = await VoiceClient.open(url());
    await new Promise((resolve) => third.socket.once('close', resolve));
    expect(third.closed).toEqual({ code: 1013, reason: 'Max clients reached' });
    await first.close();
    // A freed slot is taken again.
    const fourth = await VoiceClient.open(url());
    await fourth.next((message) => message.type === 'session_ack');
    await Promise.all([second.close(), fourth.close()]);
  });

  it('answers ping, status and unknown messages without closing', async () => {
    const client = await VoiceClient.open(url());
    // Sent before session_ack (the server is still probing the engines): kept and answered, not lost.
    client.socket.send(JSON.stringify({ type: 'ping' }));
    await client.next((message) => message.type === 'session_ack');
    await client.next((message) => message.type === 'pong');
    client.socket.send(JSON.stringify({ type: 'status' }));
    const status = await client.next((message) => message.type === 'status');
    expect(status.details).toMatchObject({ bytesReceived: 0, bytesSent: 0 });
    client.socket.send('not json');
    await client.next((message) => message.type === 'error');
    client.socket.send(JSON.stringify({ type: 'dance' }));
    expect(String((await client.next((message) => String(message.error).includes('dance'))).error)).toContain(
      'Unknown message type',
    );
    expect(client.closed).toBeNull();
    await client.close();
  });

  it('POST /api/chat/voice: a WAV in, {transcript, text, audio} out', async () => {
    fake.script({ text: 'Sunny all day.' });
    const { encodeWav } = await import('../../../voice/index.js');
    const response = await fetch(`${server.url}/api/chat/voice?agentId=assistant`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'audio/wav' },
      body: new Uint8Array(encodeWav(sentence)),
    });
    expect(response.status).toBe(200);
    const body = await json(response);
    expect(body.transcript).toContain('weather');
    expect(body.text).toBe('Sunny all day.');
    const wav = decodeWav(Buffer.from(body.audio, 'base64'));
    expect(wav).toMatchObject({ sampleRate: 16_000, channels: 1 });
    expect(pcmDurationMs(wav?.pcm ?? Buffer.alloc(0))).toBeGreaterThan(500);
    expect(body.metadata.outputDurationMs).toBeGreaterThan(500);

    // Multipart works too, and the same session carries the conversation on (history reaches the model).
    fake.script({ text: 'Still sunny.' });
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(encodeWav(sentence))], { type: 'audio/wav' }), 'turn.wav');
    const again = await fetch(`${server.url}/api/chat/voice?sessionId=${body.sessionId}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}` },
      body: form,
    });
    expect(again.status).toBe(200);
    expect(await json(again)).toMatchObject({ text: 'Still sunny.', sessionId: body.sessionId });
    expect(JSON.stringify(fake.modelRequests.at(-1)?.body.messages)).toContain('Sunny all day.');

    const bad = await fetch(`${server.url}/api/chat/voice`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'audio/wav' },
      body: 'not a wav',
    });
    expect(bad.status).toBe(400);
    expect(await json(bad)).toMatchObject({ error: expect.stringContaining('WAV') });
  });
});

describe('WS /audio access and availability (no engines needed)', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer({
      env: { AGENTOS_API_KEY: KEY },
      // An OpenAI engine without OPENAI_API_KEY: voice must say why it is unavailable, not crash.
      config: {
        agents: [{ id: 'assistant' }, { id: 'other' }],
        auth: { api_keys: [{ name: 'narrow', key: NARROW_KEY, scopes: ['agents:other:run'] }] },
        voice: { stt: 'openai:whisper-1' },
      },
    });
  });
  afterAll(async () => {
    await server?.close();
  });
  const upgrade = (query: string) =>
    new Promise<{ status?: number; close?: number; messages: string[] }>((resolve) => {
      const socket = new WebSocket(`${server.url.replace('http', 'ws')}/audio${query}`);
      const messages: string[] = [];
      socket.on('error', () => {});
      socket.on('message', (data) => messages.push(String(data)));
      socket.on('unexpected-response', (_request, response) => {
        resolve({ status: response.statusCode, messages });
        socket.terminate();
      });
      socket.on('close', (code) => resolve({ close: code, messages }));
    });

  it('refuses a missing token (401), another agent (403) and an unknown agent (404) before the upgrade', async () => {
    expect((await upgrade('')).status).toBe(401);
    expect((await upgrade(`?token=${NARROW_KEY}&agent=assistant`)).status).toBe(403);
    expect((await upgrade(`?token=${KEY}&agent=nobody`)).status).toBe(404);
  });

  it('reports available:false with the reason; /audio closes 1013 and /api/chat/voice answers 503', async () => {
    const headers = { authorization: `Bearer ${KEY}` };
    const status = await json(await fetch(`${server.url}/api/voice/status`, { headers }));
    expect(status).toMatchObject({ available: false, pipeline: null, stt: 'openai:whisper-1' });
    expect(status.reason).toContain('OPENAI_API_KEY');
    const refused = await upgrade(`?token=${KEY}`);
    expect(refused.close).toBe(1013);
    expect(refused.messages.join('')).toContain('not available');
    const chat = await fetch(`${server.url}/api/chat/voice`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'audio/wav' },
      body: new Uint8Array(44),
    });
    expect(chat.status).toBe(503);
    expect(await json(chat)).toMatchObject({ code: 'AOS_VOICE_UNAVAILABLE' });
  });
});

describe.skipIf(skip !== null)('WS /audio limits per caller and tenant', { timeout: 60_000 }, () => {
  let server: RunningServer;
  const url = () => `${server.url.replace('http', 'ws')}/audio?token=${KEY}`;
  const sessions = async (workspace: string) => {
    const response = await fetch(`${server.url}/api/sessions`, {
      headers: { authorization: `Bearer ${KEY}`, 'x-workspace-id': workspace },
    });
    return (await response.json()) as { count: number };
  };

  beforeAll(async () => {
    server = await startTestServer({
      env: { AGENTOS_API_KEY: KEY },
      config: {
        agents: [{ id: 'assistant', name: 'Assistant', model: 'local:default' }],
        voice: { max_sessions: 10, max_sessions_per_caller: 1, idle_timeout_ms: 1500 },
      },
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('lists a session only in its own workspace, caps one caller, and closes an idle connection', async () => {
    const first = await VoiceClient.open(url());
    await first.next((message) => message.type === 'session_ack');
    expect((await sessions('default')).count).toBe(1);
    expect((await sessions('other-team')).count).toBe(0);

    // One caller may not take every slot: its second connection is refused though nine are free.
    const second = await VoiceClient.open(url());
    await new Promise((resolve) => second.socket.once('close', resolve));
    expect(second.closed).toEqual({ code: 1013, reason: 'Max clients reached' });

    // Silence past idle_timeout_ms frees the slot.
    await new Promise((resolve) => first.socket.once('close', resolve));
    expect(first.closed).toEqual({ code: 1000, reason: 'Idle timeout' });
    expect((await sessions('default')).count).toBe(0);
  });
});
