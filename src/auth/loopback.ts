import { isIP } from 'node:net';

/**
 * True when binding to `host` keeps the server reachable only from this machine. Dev mode (no
 * credentials) is allowed only then; a wildcard (`0.0.0.0`, `::`) or any other address is public.
 */
export function isLoopbackHost(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (bare === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1' || bare.toLowerCase() === '::ffff:127.0.0.1';
  return false;
}
