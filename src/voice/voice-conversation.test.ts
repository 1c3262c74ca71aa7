import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/index.js';
import { pcmDurationMs, SAMPLE_RATE } from './pcm.js';
import type { SpeechToText, TextToSpeech } from './types.js';
import { type AgentPort, VoiceConversation } from './voice-conversation.js';
import { VoiceService } from './voice-service.js';

function tone(milliseconds: number): Buffer {
  const samples = (SAMPLE_RATE / 1000) * milliseconds;
  const out = Buffer.alloc(samples * 2);
  for (let index = 0; index < samples; index++) {
    out.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * index) / SAMPLE_RATE)), index * 2);
  }
  return out;
}
const silence = (milliseconds: number) => Buffer.alloc((SAMPLE_RATE / 1000) * milliseconds * 2);
const sleep = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds));

/** Scripted engines: STT hears `heard`, TTS gives 200 ms of audio per sentence; both honour abort. */
function engines(heard: string[]): { stt: SpeechToText; tts: TextToSpeech; spoken: string[] } {
  const spoken: string[] = [];
  return {
    spoken,
    stt: {
      id: 'test:stt',
      probe: async () => null,
      transcribe: async () => {
        await sleep(10);
        return { text: heard.shift() ?? '' };
      },
    },
    tts: {
      id: 'test:tts',
      probe: async () => null,
      synthesize: async (text, options) => {
        await sleep(5);
        if (options?.signal?.aborted) throw new Error('aborted');
        spoken.push(text);
        return tone(200);
      },
    },
  };
}

/** An agent that writes `sentences` one delta at a time, `delayMs` apart, and stops when aborted. */
function scriptedAgent(replies: string[][], delayMs = 5): { agent: AgentPort; aborted: number[] } {
  const aborted: number[] = [];
  let turn = 0;
  const agent: AgentPort = async (_text, _sessionId, onDelta, signal) => {
    const index = turn++;
    const sentences = replies[index] ?? [];
    for (const sentence of sentences) {
      if (signal.aborted) {
        aborted.push(index);
        return { text: '', status: 'cancelled' };
      }
      onDelta(`${sentence} `);
      await sleep(delayMs);
    }
    return { text: sentences.join(' '), status: 'completed' };
  };
  return { agent, aborted };
}

function setup(heard: string[], replies: string[][], options: { delayMs?: number; leadMs?: number } = {}) {
  const { stt, tts, spoken } = engines(heard);
  const config = parseConfig({ voice: { tts_lead_ms: options.leadMs ?? 0 } }, { source: 'test' }).voice;
  const voice = new VoiceService({ config, stt, tts });
  const { agent, aborted } = scriptedAgent(replies, options.delayMs);
  const out: ({ json: Record<string, unknown> } | { audio: Buffer })[] = [];
  const conversation = new VoiceConversation({
    voice,
    agent,
    sessionId: 'voice-session',
    transport: { sendJson: (json) => out.push({ json }), sendAudio: (audio) => out.push({ audio }) },
  });
  voice.open(conversation.view(), { workspaceId: 'default', caller: 'test' });
  const types = () => out.map((entry) => ('json' in entry ? String(entry.json.type) : 'audio'));
  const audioMs = () => pcmDurationMs(Buffer.concat(out.flatMap((entry) => ('audio' in entry ? [entry.audio] : []))));
  const waitFor = async (type: string, count = 1) => {
    for (let tries = 0; tries < 500; tries++) {
      if (types().filter((entry) => entry === type).length >= count) return;
      await sleep(10);
    }
    throw new Error(`no ${type} after 5 s: ${types().join(',')}`);
  };
  return { voice, conversation, out, types, audioMs, waitFor, spoken, aborted };
}

describe('VoiceConversation', () => {
  it('turns an utterance into a transcript, a streamed reply and its audio between tts_start and tts_end', async () => {
    const { conversation, out, types, audioMs, waitFor, spoken, voice } = setup(
      ['what is the weather'],
      [['It is sunny.', 'Take a hat.', 'Bye!']],
    );
    conversation.receiveAudio(Buffer.concat([silence(200), tone(500), silence(600)]));
    await waitFor('tts_end');
    await conversation.settled();

    const sequence = types().filter((type, index, all) => type !== 'audio' || all[index - 1] !== 'audio');
    expect(sequence).toEqual(['transcript', 'tts_start', 'audio', 'transcript', 'audio', 'tts_end']);
    expect(out[0]).toEqual({
      json: {
        type: 'transcript',
        sessionId: 'voice-session',
        role: 'user',
        text: 'what is the weather',
        durationMs: 1200,
      },
    });
    expect(spoken).toEqual(['It is sunny.', 'Take a hat.', 'Bye!']);
    expect(audioMs()).toBe(600);
    const assistant = out.find((entry) => 'json' in entry && entry.json.role === 'assistant');
    expect(assistant).toEqual({
      json: {
        type: 'transcript',
        sessionId: 'voice-session',
        role: 'assistant',
        text: 'It is sunny. Take a hat. Bye!',
      },
    });
    expect(voice.stats()).toMatchObject({ stt: { count: 1 }, tts: { count: 3 }, firstAudio: { count: 1 } });
  });

  it('barge-in: speech during the reply ends its audio, aborts the agent, and the new utterance is the next turn', async () => {
    const long = Array.from({ length: 20 }, (_, index) => `Sentence ${index}.`);
    const { conversation, out, types, waitFor, aborted } = setup(
      ['first question', 'second question'],
      [long, ['Short answer.']],
      // Real-time pacing (lead 0) and a slow agent: the reply is still going when the caller talks.
      { delayMs: 50, leadMs: 0 },
    );
    conversation.receiveAudio(Buffer.concat([tone(500), silence(600)]));
    await waitFor('tts_start');
    conversation.receiveAudio(tone(200));
    await waitFor('interrupted');
    const ended = out.find((entry) => 'json' in entry && entry.json.type === 'tts_end');
    expect(ended).toEqual({ json: { type: 'tts_end', sessionId: 'voice-session', interrupted: true } });
    await sleep(100);
    expect(aborted).toEqual([0]);
    // Nothing of the interrupted reply follows the interruption.
    const afterInterrupt = types().slice(types().indexOf('interrupted') + 1);
    expect(afterInterrupt).toEqual([]);

    conversation.receiveAudio(Buffer.concat([tone(300), silence(600)]));
    await waitFor('tts_end', 2);
    await conversation.settled();
    const users = out.filter((entry) => 'json' in entry && entry.json.role === 'user');
    expect(users.map((entry) => ('json' in entry ? entry.json.text : ''))).toEqual([
      'first question',
      'second question',
    ]);
    expect(out.at(-1)).toEqual({ json: { type: 'tts_end', sessionId: 'voice-session', durationMs: 200 } });
  });

  it('reports an utterance with nothing recognised as an error and stays usable', async () => {
    const { conversation, out, waitFor } = setup([''], []);
    conversation.receiveAudio(Buffer.concat([tone(400), silence(600)]));
    await waitFor('error');
    expect(out).toEqual([
      { json: { type: 'error', sessionId: 'voice-session', error: 'No speech was recognised in the utterance' } },
    ]);
  });

  it('ignores audio between session_end and session_start', async () => {
    const { conversation, out, voice } = setup(['hello'], [['Hi.']]);
    conversation.receiveMessage({ type: 'session_end' });
    expect(voice.list({ workspaceId: 'default' })[0]).toMatchObject({ isActive: false });
    conversation.receiveAudio(Buffer.concat([tone(400), silence(600)]));
    await sleep(50);
    expect(out).toEqual([]);
    conversation.receiveMessage({ type: 'session_start' });
    expect(out[0]).toMatchObject({ json: { type: 'session_ack', sessionId: 'voice-session' } });
  });
});
