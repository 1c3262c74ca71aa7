/**
 * API key material: generation, hashing, constant-time comparison. Keys are stored only as SHA-256
 * hashes; a key is random (256 bits), so a plain hash is enough and a slow KDF would only cost latency.
 * @module
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';

/** Every agentos key starts with this, so leaked keys are easy to find with secret scanners. */
export const API_KEY_PREFIX = 'aos_';

/** A freshly generated key: the plaintext (shown once) and what gets stored. */
export interface GeneratedApiKey {
  id: string;
  plaintext: string;
  keyHash: string;
  keyPrefix: string;
}

/** SHA-256 of a key, lower-case hex. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** Constant-time comparison of two hex digests of equal length (false when lengths differ). */
export function digestsEqual(left: string, right: string): boolean {
  const a = Buffer.from(left, 'hex');
  const b = Buffer.from(right, 'hex');
  return a.length === b.length && a.length > 0 && timingSafeEqual(a, b);
}

/** Generates a new random key with its id, hash and display prefix. */
export function generateApiKey(): GeneratedApiKey {
  const plaintext = `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
  return {
    id: `key_${randomUUID().replaceAll('-', '').slice(0, 16)}`,
    plaintext,
    keyHash: hashApiKey(plaintext),
    keyPrefix: plaintext.slice(0, API_KEY_PREFIX.length + 6),
  };
}
