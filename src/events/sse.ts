/**
 * Server-Sent Events framing in one place: `id:`, `event:`, one-line JSON `data:` that also holds
 * `event`, null fields left out (CONTRACT.md §5).
 * @module
 */

/** Drops `null` and `undefined` fields, recursively in plain objects and arrays. */
export function dropNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(dropNulls);
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [key, field] of Object.entries(value)) {
      if (field !== null && field !== undefined) out[key] = dropNulls(field);
    }
    return out;
  }
  return value;
}

/**
 * Formats one SSE frame. `event` and `id` must not contain line breaks (they would split the
 * frame); JSON.stringify never emits raw newlines, so `data` is always one line.
 */
export function formatSseFrame(frame: { id?: number | string; event: string; data: unknown }): string {
  const id = frame.id === undefined ? undefined : String(frame.id);
  if (/[\r\n]/.test(frame.event) || (id !== undefined && /[\r\n]/.test(id))) {
    throw new Error('SSE event names and ids must not contain line breaks');
  }
  const head = id === undefined ? '' : `id: ${id}\n`;
  return `${head}event: ${frame.event}\ndata: ${JSON.stringify(dropNulls(frame.data))}\n\n`;
}

/** A comment frame that keeps proxies from closing an idle stream. */
export const SSE_HEARTBEAT = ': heartbeat\n\n';
