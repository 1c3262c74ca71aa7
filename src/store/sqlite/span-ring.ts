/**
 * A ring of text records in a `SharedArrayBuffer`, one writer thread and one reader thread: how finished spans
 * reach the trace worker (`trace-worker.ts`) without a message per batch. The event loop encodes a span as it
 * ends and copies its bytes here; the worker reads them when told to (or before any other trace request).
 * Against the batch processor and `postMessage` it replaced on this path, no span object waits in a queue for
 * its batch (they lived long enough to be promoted into the old generation, bench/tracing/README.md) and no
 * batch is structured-cloned on one side and deserialised on the other.
 *
 * Layout: two `Int32` positions (the writer's, the reader's; byte offsets into the data), then the data. A
 * record is its byte length (`Int32`, 4-aligned) and its UTF-8 bytes; a length of -1 sends the reader back to
 * the start. Writer and reader publish a position with `Atomics.store` after the bytes before it are written or
 * read, and read the other's with `Atomics.load`, which orders the plain reads and writes around them. Equal
 * positions mean empty; the writer never fills the ring to the reader's position.
 * @module
 */

const WRITE = 0;
const READ = 1;
const CONTROL_BYTES = 8;
const WRAP = -1;

const align = (offset: number) => (offset + 3) & ~3;

/** Data bytes of a new ring (rounded to 4): about 8,192 spans of a run as the server records them. */
export const DEFAULT_SPAN_RING_BYTES = 8 * 1024 * 1024;

/** A new ring's memory, to be shared with the reader (e.g. in `workerData`). */
export function createSpanRing(bytes = DEFAULT_SPAN_RING_BYTES): SharedArrayBuffer {
  if (bytes < 64) throw new RangeError('a span ring holds at least 64 bytes');
  return new SharedArrayBuffer(CONTROL_BYTES + (bytes & ~3));
}

class RingView {
  protected readonly positions: Int32Array;
  protected readonly lengths: Int32Array;
  protected readonly data: Buffer;
  protected readonly capacity: number;

  constructor(buffer: SharedArrayBuffer) {
    this.capacity = buffer.byteLength - CONTROL_BYTES;
    this.positions = new Int32Array(buffer, 0, 2);
    this.lengths = new Int32Array(buffer, CONTROL_BYTES, this.capacity / 4);
    this.data = Buffer.from(buffer, CONTROL_BYTES, this.capacity);
  }
}

/** The writing side: one thread only. */
export class SpanRingWriter extends RingView {
  /** The largest record that can ever fit (a larger one must go another way). */
  readonly maxRecordChars: number;

  constructor(buffer: SharedArrayBuffer) {
    super(buffer);
    // Three UTF-8 bytes per UTF-16 unit at most; half the ring, so one record never blocks the ring alone.
    this.maxRecordChars = Math.floor((this.capacity / 2 - 8) / 3);
  }

  /** Whether records wait to be read. */
  get holdsRecords(): boolean {
    return Atomics.load(this.positions, READ) !== this.positions[WRITE];
  }

  /** Appends `text`; false when the ring has no room for it now (the reader is behind) or never will. */
  write(text: string): boolean {
    if (text.length > this.maxRecordChars) return false;
    // Room is checked for the longest encoding, so the bytes can be written in one call without measuring.
    const need = 4 + text.length * 3;
    const read = Atomics.load(this.positions, READ);
    let at = this.positions[WRITE] as number;
    if (at >= read) {
      if (this.capacity - at <= need) {
        // Not enough before the end: continue at the start, if there is room before the reader.
        if (read <= need) return false;
        this.lengths[at >> 2] = WRAP;
        at = 0;
      }
    } else if (read - at <= need) {
      return false;
    }
    const length = this.data.write(text, at + 4, 'utf8');
    this.lengths[at >> 2] = length;
    let next = align(at + 4 + length);
    if (next === this.capacity) next = 0;
    Atomics.store(this.positions, WRITE, next);
    return true;
  }
}

/** The reading side: one thread only. */
export class SpanRingReader extends RingView {
  /** Takes up to `max` records, oldest first, and frees their room. */
  read(max = Number.POSITIVE_INFINITY): string[] {
    const end = Atomics.load(this.positions, WRITE);
    let at = this.positions[READ] as number;
    const records: string[] = [];
    while (at !== end && records.length < max) {
      const length = this.lengths[at >> 2] as number;
      if (length === WRAP) {
        at = 0;
        continue;
      }
      records.push(this.data.toString('utf8', at + 4, at + 4 + length));
      at = align(at + 4 + length);
      if (at === this.capacity) at = 0;
    }
    Atomics.store(this.positions, READ, at);
    return records;
  }
}
