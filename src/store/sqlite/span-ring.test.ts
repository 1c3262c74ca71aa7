/**
 * The span ring (`span-ring.ts`): records come out in order and whole, across the end of the buffer and with
 * multi-byte text; a full ring refuses a record until the reader frees room; a record that can never fit is
 * refused at once. Across threads it is exercised by the trace worker (trace-file.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { createSpanRing, SpanRingReader, SpanRingWriter } from './span-ring.js';

const pair = (bytes: number) => {
  const buffer = createSpanRing(bytes);
  return { writer: new SpanRingWriter(buffer), reader: new SpanRingReader(buffer) };
};

describe('span ring', () => {
  it('hands records over in order, across the end of the buffer many times', () => {
    const { writer, reader } = pair(256);
    const read: string[] = [];
    const written: string[] = [];
    for (let i = 0; i < 500; i++) {
      // Lengths that do not divide the buffer, so records end at every offset and wrap markers are written.
      const text = `span ${i} ${'x'.repeat(i % 23)}`;
      while (!writer.write(text)) read.push(...reader.read());
      written.push(text);
      if (i % 7 === 0) read.push(...reader.read(2));
    }
    read.push(...reader.read());
    expect(read).toEqual(written);
    expect(reader.read()).toEqual([]);
  });

  it('keeps multi-byte text whole', () => {
    const { writer, reader } = pair(1024);
    const texts = ['grüße 👋 世界', '{"gen_ai.prompt":"naïve — ✓"}', ''];
    for (const text of texts) expect(writer.write(text)).toBe(true);
    expect(reader.read()).toEqual(texts);
  });

  it('refuses a record while the ring is full, and takes it once the reader has read', () => {
    const { writer, reader } = pair(128);
    let taken = 0;
    while (writer.write(`record ${taken}`)) taken++;
    expect(taken).toBeGreaterThan(0);
    expect(writer.write('one more')).toBe(false);
    const first = reader.read(1);
    expect(first).toEqual(['record 0']);
    // Room is reserved for the longest encoding (3 bytes a character), so one short record freed may not be enough.
    reader.read();
    expect(writer.write('one more')).toBe(true);
    expect(reader.read()).toEqual(['one more']);
  });

  it('refuses at once a record that could never fit', () => {
    const { writer, reader } = pair(256);
    expect(writer.write('y'.repeat(writer.maxRecordChars + 1))).toBe(false);
    expect(writer.write('y'.repeat(writer.maxRecordChars))).toBe(true);
    expect(reader.read()).toEqual(['y'.repeat(writer.maxRecordChars)]);
  });

  it('rejects a ring too small to be one', () => {
    expect(() => createSpanRing(16)).toThrow(RangeError);
  });
});
