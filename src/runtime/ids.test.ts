import { describe, expect, it } from 'vitest';
import { newRunId, newSessionId } from './ids.js';

describe('run and session ids', () => {
  it('are UUID version 7, unique, and sort in creation order within a process', () => {
    const ids = Array.from({ length: 5000 }, (_, index) => (index % 2 === 0 ? newRunId() : newSessionId()));
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    // The leading 48 bits are the creation time in milliseconds.
    const first = ids[0] as string;
    const millis = Number.parseInt(first.replaceAll('-', '').slice(0, 12), 16);
    expect(Math.abs(millis - Date.now())).toBeLessThan(60_000);
  });
});
