import { EventEmitter } from 'node:events';
import type { FastifyReply } from 'fastify';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SSE_HEARTBEAT } from '../../events/index.js';
import { openSseStream } from './sse-stream.js';

/** A raw response that records what is written to it (the routes' tests cover the real one over HTTP). */
class RawResponse extends EventEmitter {
  readonly written: string[] = [];
  ended = false;
  destroyed = false;
  socket = { destroyed: false };
  writeHead(): void {}
  flushHeaders(): void {}
  write(frame: string): void {
    this.written.push(frame);
  }
  end(): void {
    this.ended = true;
  }
}

function open(raw = new RawResponse()) {
  const reply = { hijack() {}, raw, getHeaders: () => ({}) } as unknown as FastifyReply;
  return { raw, stream: openSseStream(reply) };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('openSseStream', () => {
  it('beats every 15 s on one shared timer, which stops once no stream is open', () => {
    vi.useFakeTimers();
    const first = open();
    const second = open();
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(15_000);
    expect(first.raw.written).toEqual([SSE_HEARTBEAT]);
    expect(second.raw.written).toEqual([SSE_HEARTBEAT]);

    first.stream.end();
    expect(first.raw.ended).toBe(true);
    vi.advanceTimersByTime(15_000);
    expect(first.raw.written).toHaveLength(1);
    expect(second.raw.written).toHaveLength(2);

    second.raw.emit('close');
    expect(second.stream.closed).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('tells every disconnect listener once, and one added after the client left at once', () => {
    const { raw, stream } = open();
    const heard: string[] = [];
    stream.onDisconnect(() => heard.push('a'));
    stream.onDisconnect(() => heard.push('b'));
    raw.emit('close');
    raw.emit('close');
    stream.onDisconnect(() => heard.push('late'));
    expect(heard).toEqual(['a', 'b', 'late']);
    stream.sendControl('error', { message: 'gone' });
    expect(raw.written).toEqual([]);
  });

  it('does not call disconnect listeners for a stream it ended itself', () => {
    const { raw, stream } = open();
    let heard = 0;
    stream.onDisconnect(() => heard++);
    stream.sendControl('catch_up', { events: 0 });
    stream.end();
    raw.emit('close');
    expect(heard).toBe(0);
    expect(raw.written).toHaveLength(1);
    expect(raw.written[0]).toContain('event: catch_up');
  });
});
