/**
 * Reads Server-Sent Events from a fetch response, frame by frame, keeping the raw text so tests can
 * check the framing itself (`id:`, `event:`, one-line `data:`).
 * @module
 */

/** One parsed SSE frame. */
export interface SseFrame {
  id?: string;
  event: string;
  // biome-ignore lint/suspicious/noExplicitAny: event payloads are asserted field by field
  data: any;
  raw: string;
}

/** Parses complete frames out of a buffer; returns them and the unparsed rest. */
export function parseFrames(buffer: string): { frames: SseFrame[]; rest: string } {
  const frames: SseFrame[] = [];
  let rest = buffer;
  for (let end = rest.indexOf('\n\n'); end !== -1; end = rest.indexOf('\n\n')) {
    const raw = rest.slice(0, end);
    rest = rest.slice(end + 2);
    if (raw.startsWith(':')) continue;
    const frame: Partial<SseFrame> & { raw: string } = { raw };
    for (const line of raw.split('\n')) {
      const colon = line.indexOf(': ');
      const field = line.slice(0, colon);
      const value = line.slice(colon + 2);
      if (field === 'id') frame.id = value;
      else if (field === 'event') frame.event = value;
      else if (field === 'data') frame.data = JSON.parse(value);
    }
    frames.push(frame as SseFrame);
  }
  return { frames, rest };
}

/** Incremental reader over a streaming response body. */
export class SseReader {
  private buffer = '';
  private readonly queue: SseFrame[] = [];
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly decoder = new TextDecoder();
  done = false;

  constructor(response: Response) {
    if (!response.body) throw new Error('response has no body');
    this.reader = response.body.getReader();
  }

  /** The next frame, or undefined when the stream ended. */
  async next(): Promise<SseFrame | undefined> {
    while (this.queue.length === 0 && !this.done) {
      const { value, done } = await this.reader.read();
      if (done) {
        this.done = true;
        break;
      }
      const parsed = parseFrames(this.buffer + this.decoder.decode(value, { stream: true }));
      this.buffer = parsed.rest;
      this.queue.push(...parsed.frames);
    }
    return this.queue.shift();
  }

  /** Reads frames until one matches (inclusive). */
  async until(predicate: (frame: SseFrame) => boolean): Promise<SseFrame[]> {
    const frames: SseFrame[] = [];
    for (let frame = await this.next(); frame; frame = await this.next()) {
      frames.push(frame);
      if (predicate(frame)) break;
    }
    return frames;
  }

  /** Reads every remaining frame. */
  async all(): Promise<SseFrame[]> {
    return this.until(() => false);
  }

  /** Stops reading (the client disconnects). */
  async cancel(): Promise<void> {
    await this.reader.cancel();
  }
}
