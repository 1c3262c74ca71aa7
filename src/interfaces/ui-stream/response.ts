/**
 * Writes a run's channel to a hijacked Fastify reply as a UI message stream: headers, chunks, `[DONE]`.
 * @module
 */
import type { FastifyReply } from 'fastify';
import type { RunSubscriber } from '../../runtime/run-channel.js';
import { formatUiChunk, UI_STREAM_DONE, UI_STREAM_HEADERS, UiStreamTranslator } from './translate.js';

/** An open UI stream: the subscriber to hand to a channel, and a hook for the client leaving. */
export interface UiStreamResponse {
  subscriber: RunSubscriber;
  onDisconnect(listener: () => void): void;
  /** Ends the stream with an error chunk (the 200 is already out). */
  fail(message: string): void;
}

/** Hijacks the reply and opens the stream. */
export function openUiStream(reply: FastifyReply): UiStreamResponse {
  reply.hijack();
  const raw = reply.raw;
  const headers: Record<string, string | number | string[]> = {};
  // Hooks already set the security, CORS and request-id headers on the reply.
  for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) headers[name] = value;
  raw.writeHead(200, { ...headers, ...UI_STREAM_HEADERS });
  raw.flushHeaders();
  const translator = new UiStreamTranslator();
  let ended = false;
  const listeners: (() => void)[] = [];
  raw.on('close', () => {
    if (ended) return;
    ended = true;
    for (const listener of listeners.splice(0)) listener();
  });
  const write = (frame: string) => {
    if (!ended && !raw.destroyed) raw.write(frame);
  };
  const finish = () => {
    for (const chunk of translator.end()) write(formatUiChunk(chunk));
    write(UI_STREAM_DONE);
    ended = true;
    raw.end();
  };
  return {
    subscriber: {
      onEvent: (event) => {
        for (const chunk of translator.translate(event)) write(formatUiChunk(chunk));
      },
      onEnd: finish,
    },
    onDisconnect: (listener) => {
      if (ended) return;
      listeners.push(listener);
    },
    fail: (message) => {
      write(formatUiChunk({ type: 'error', errorText: message }));
      finish();
    },
  };
}
