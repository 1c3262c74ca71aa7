/**
 * DNS-rebinding guard of `/mcp` (the MCP transport spec asks servers to validate `Origin`): a server bound
 * to a loopback address only answers requests addressed to a loopback name, and a browser `Origin` must be
 * the server's own or one the operator listed in `server.cors_origins` (the `*` default does not count here:
 * an MCP endpoint runs tools, so no page may drive it unless named).
 * @module
 */
import { isLoopbackHost } from '../../auth/index.js';
import type { AgentOsConfig } from '../../config/index.js';

function hostPart(value: string): string {
  return value.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').split('/')[0] ?? '';
}

function hostnameOf(hostAndPort: string): string {
  if (hostAndPort.startsWith('[')) return hostAndPort.slice(0, hostAndPort.indexOf(']') + 1);
  return hostAndPort.split(':')[0] ?? '';
}

/** Why the request is refused, or undefined when Host and Origin are acceptable. */
export function rebindingProblem(
  config: AgentOsConfig,
  headers: { host?: string | undefined; origin?: string | undefined },
): string | undefined {
  const host = headers.host ?? '';
  if (isLoopbackHost(hostnameOf(config.server.host)) && !isLoopbackHost(hostnameOf(host))) {
    return 'A loopback server only answers requests addressed to a loopback host';
  }
  const origin = headers.origin;
  if (origin === undefined) return undefined;
  if (origin !== 'null' && hostPart(origin).toLowerCase() === host.toLowerCase()) return undefined;
  if (config.server.cors_origins.includes(origin)) return undefined;
  return `Origin ${origin} may not use this endpoint`;
}
