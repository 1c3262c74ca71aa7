/**
 * The `X-AgentOS-Signature` header of webhook deliveries: `sha256=<hex HMAC-SHA256 of the raw body>`
 * keyed with the subscriber's configured secret. Receivers recompute it over the bytes they received
 * and compare in constant time ({@link verifySignature}).
 * @module
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header carrying the signature. */
export const SIGNATURE_HEADER = 'x-agentos-signature';

/** Signs a body. */
export function signBody(secret: string, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** True when `header` is the signature of `body` under `secret`. */
export function verifySignature(secret: string, body: string | Buffer, header: string | undefined): boolean {
  if (header === undefined) return false;
  const expected = Buffer.from(signBody(secret, body));
  const given = Buffer.from(header);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
