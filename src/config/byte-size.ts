/**
 * Byte sizes written the way people write them in config files (`512kb`, `1mb`, `50MB`).
 * @module
 */

const UNIT_BYTES: Readonly<Record<string, number>> = {
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
};

const SIZE_PATTERN = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/;

/**
 * Parses a size such as `1mb`, `512 KB` or `2048` into a whole number of bytes, or returns `null` when it is not one.
 * Units are binary (1 kb = 1024 bytes), as in the `bytes` package Fastify and Express users already know.
 */
export function parseByteSize(value: string | number): number | null {
  if (typeof value === 'number') {
    return Number.isSafeInteger(value) && value >= 0 ? value : null;
  }
  const match = SIZE_PATTERN.exec(value.trim().toLowerCase());
  if (!match) return null;
  const [, amount = '', unit = ''] = match;
  const factor = unit === '' ? 1 : UNIT_BYTES[unit];
  if (factor === undefined) return null;
  const bytes = Math.floor(Number(amount) * factor);
  return Number.isSafeInteger(bytes) ? bytes : null;
}
