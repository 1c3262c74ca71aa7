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

/**
 * The open streams, for one heartbeat timer shared by all (a timer per stream was a few hundred bytes of
 * heap per open run, issue 4). A stream leaves the set when it ends or its client goes away.
 */
const open = new Set<SseResponse>();
let heartbeat: NodeJS.Timeout | undefined;

function startHeartbeat(stream: SseResponse): void {
  open.add(stream);
  if (heartbeat) return;
  heartbeat = setInterval(() => {
    for (const each of open) each.beat();
  }, HEARTBEAT_MS);
  heartbeat.unref();
}

function stopHeartbeat(stream: SseResponse): void {
  open.delete(stream);
  if (open.size > 0 || !heartbeat) return;
  clearInterval(heartbeat);
  heartbeat = undefined;
}

/** One open stream: a class rather than closures over the response, the smallest heap per open run. */
class SseResponse implements SseStream {
  private ended = false;
  private disconnected: boolean;
  /** Usually one (the run's cancellation); an array only for more. */
  private listeners: (() => void) | (() => void)[] | undefined;

  constructor(private readonly raw: FastifyReply['raw']) {
    // The client may already be gone (it left while the run was being created): 'close' has fired.
    this.disconnected = raw.destroyed || raw.socket?.destroyed === true;
    raw.on('close', () => this.onClose());
    if (!this.disconnected) startHeartbeat(this);
  }

  get closed(): boolean {
    return this.ended || this.disconnected;
  }

  sendEvent(event: RunEvent): void {
    this.write(formatSseFrame({ id: event.event_index, event: event.event, data: event }));
  }

  sendControl(event: string, data: unknown): void {
    this.write(formatSseFrame({ event, data }));
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    stopHeartbeat(this);
    if (!this.disconnected) this.raw.end();
  }

  onDisconnect(listener: () => void): void {
    if (this.disconnected) listener();
    else if (this.listeners === undefined) this.listeners = listener;
    else if (Array.isArray(this.listeners)) this.listeners.push(listener);
    else this.listeners = [this.listeners, listener];
  }

  /** A comment line, so proxies and clients see the idle stream is alive. */
  beat(): void {
    this.write(SSE_HEARTBEAT);
  }

  private write(frame: string): void {
    if (!this.ended && !this.disconnected) this.raw.write(frame);
  }

  private onClose(): void {
    stopHeartbeat(this);
    if (this.ended) return;
    this.disconnected = true;
    const listeners = this.listeners;
    this.listeners = undefined;
    if (typeof listeners === 'function') listeners();
    else for (const listener of listeners ?? []) listener();
  }
}

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
  return new SseResponse(raw);
}
