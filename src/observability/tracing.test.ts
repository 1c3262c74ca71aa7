import { isValidSpanId, isValidTraceId } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { TimeOrderedIdGenerator } from './tracing.js';

describe('TimeOrderedIdGenerator', () => {
  it('starts trace ids with the epoch seconds, so the store appends them in order; the rest is random', () => {
    const ids = new TimeOrderedIdGenerator();
    const before = Math.floor(Date.now() / 1000);
    const traces = Array.from({ length: 1000 }, () => ids.generateTraceId());
    const after = Math.floor(Date.now() / 1000);
    for (const id of traces) {
      expect(isValidTraceId(id)).toBe(true);
      const seconds = Number.parseInt(id.slice(0, 8), 16);
      expect(seconds).toBeGreaterThanOrEqual(before);
      expect(seconds).toBeLessThanOrEqual(after);
    }
    expect(new Set(traces).size).toBe(1000);
    expect(new Set(traces.map((id) => id.slice(8))).size).toBe(1000);
    const spans = Array.from({ length: 1000 }, () => ids.generateSpanId());
    expect(spans.every(isValidSpanId)).toBe(true);
    expect(new Set(spans).size).toBe(1000);
  });
});
