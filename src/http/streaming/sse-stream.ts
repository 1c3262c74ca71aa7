/**
 * An SSE response over Fastify's raw response: headers (the ones hooks already set, security
 * headers and CORS included), frames, a heartbeat while idle, and close detection. The route
 * hijacks the reply, so Fastify no longer writes anything itself.
 * @module
 */
import type { FastifyReply } from 'fastify';
import { formatSseFrame, type RunEvent, SSE_HEARTBEAT } from '../../events/index.js';

/** An open SSE response. */
export interface SseStream {
  /** Writes one run event as a frame with `id: <event_index>`. */
  sendEvent(event: RunEvent): void;
  /** Writes a control frame (no id), e.g. `catch_up` or `error`. */
  sendControl(event: string, data: unknown): void;
  /** Ends the response. */
  end(): void;
  /** True once the client went away or the response ended. */
  readonly closed: boolean;
  /** Called once if the client disconnects before `end()`. */
  onDisconnect(listener: () => void): void;
}

const HEARTBEAT_MS = 15_000;

/** Hijacks the reply and opens the event stream. */
export function openSseStream(reply: FastifyReply): SseStream {
  reply.hijack();
  const raw = reply.raw;
  const headers: Record<string, string | number | string[]> = {};
  for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) headers[name] = value;
  raw.writeHead(200, {
    ...headers,
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    // Tells nginx-style proxies not to buffer the stream.
    'x-accel-buffering': 'no',
  });
  raw.flushHeaders();
  let ended = false;
  // The client may already be gone (it left while the run was being created): 'close' has fired.
  let disconnected = raw.destroyed || raw.socket?.destroyed === true;
  const listeners: (() => void)[] = [];
  const heartbeat = setInterval(() => {
    if (!ended && !disconnected) raw.write(SSE_HEARTBEAT);
  }, HEARTBEAT_MS);
  heartbeat.unref();
  raw.on('close', () => {
    clearInterval(heartbeat);
    if (ended) return;
    disconnected = true;
    for (const listener of listeners.splice(0)) listener();
  });
  const write = (frame: string) => {
    if (!ended && !disconnected) raw.write(frame);
  };
  return {
    sendEvent: (event) => write(formatSseFrame({ id: event.event_index, event: event.event, data: event })),
    sendControl: (event, data) => write(formatSseFrame({ event, data })),
    end: () => {
      if (ended) return;
      ended = true;
      clearInterval(heartbeat);
      if (!disconnected) raw.end();
    },
    get closed() {
      return ended || disconnected;
    },
    onDisconnect: (listener) => {
      if (disconnected) listener();
      else listeners.push(listener);
    },
  };
}
