/**
 * The `http_request` built-in tool: the model fetches a URL. The URL comes from the model, which may
 * be steered by whatever text it read, so the tool guards against server-side request forgery: every
 * hop's host is resolved, any private, loopback, link-local or otherwise internal address refuses the
 * request (unless the operator allowed that host), and the connection goes to the address that was
 * checked, so DNS rebinding between the check and the connect cannot swap it.
 * @module
 */
import type { LookupAddress } from 'node:dns';
import { lookup as dnsLookupAll } from 'node:dns/promises';
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { z } from 'zod';
import { AgentOsError, isAgentOsError } from '../../../errors/index.js';
import type { ToolDefinition } from '../types.js';

/** Options of {@link createHttpRequestTool}. */
export interface HttpRequestToolOptions {
  /**
   * Hosts the SSRF guard lets through even when they resolve to internal addresses: a hostname or IP
   * (`intranet.example`, `10.0.0.7`, `[::1]`) allows every port, `host:port` (`127.0.0.1:8080`) only that port.
   */
  allowedHosts?: readonly string[];
  /** Deadline for the whole request, redirects included (default 15 000 ms). */
  timeoutMs?: number;
  /** Response bytes kept; the rest is dropped and `truncated` is set (default 256 KiB). */
  maxResponseBytes?: number;
  /** Resolves a hostname to all its addresses (default: the system resolver); tests inject one. */
  lookup?: (hostname: string) => Promise<string[]>;
}

/** What the http_request tool returns. */
export interface HttpRequestResult {
  status: number;
  statusText: string;
  /** The URL that answered, after redirects. */
  url: string;
  /** A few useful response headers (content type, length, caching, location). */
  headers: Record<string, string>;
  /** The response body as UTF-8 text, cut at `maxResponseBytes`. */
  body: string;
  /** True when the body was longer than `maxResponseBytes` and was cut. */
  truncated: boolean;
}

const DEFAULT_TIMEOUT_MS = 15_000;
const DEFAULT_MAX_RESPONSE_BYTES = 256 * 1024;
const MAX_REDIRECTS = 5;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const RESULT_HEADERS = [
  'content-type',
  'content-length',
  'content-language',
  'last-modified',
  'etag',
  'cache-control',
  'location',
  'retry-after',
];
// Connection-level headers are ours to set; a model-chosen Host or Content-Length could desync the request.
const DROPPED_REQUEST_HEADERS = new Set([
  'host',
  'connection',
  'content-length',
  'transfer-encoding',
  'accept-encoding',
]);
// Credentials must not follow a redirect to another origin.
const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'proxy-authorization'];

const httpRequestInput = z.object({
  url: z.string().min(1).max(4096).describe('An absolute http:// or https:// URL.'),
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD']).optional().describe('Default GET.'),
  headers: z.record(z.string(), z.string()).optional().describe('Request headers.'),
  body: z.string().max(1_000_000).optional().describe('Request body (not allowed with GET or HEAD).'),
});

// ---------------------------------------------------------------------------------------------------------------------
// Address classification

type Rule = { prefix: number[]; bits: number; reason: string };

const IPV4_RULES: Rule[] = [
  { prefix: [0, 0, 0, 0], bits: 8, reason: 'unspecified' },
  { prefix: [10, 0, 0, 0], bits: 8, reason: 'private' },
  { prefix: [100, 64, 0, 0], bits: 10, reason: 'shared (CGNAT)' },
  { prefix: [127, 0, 0, 0], bits: 8, reason: 'loopback' },
  { prefix: [169, 254, 0, 0], bits: 16, reason: 'link-local' },
  { prefix: [172, 16, 0, 0], bits: 12, reason: 'private' },
  { prefix: [192, 0, 0, 0], bits: 24, reason: 'reserved' },
  { prefix: [192, 168, 0, 0], bits: 16, reason: 'private' },
  { prefix: [198, 18, 0, 0], bits: 15, reason: 'reserved' },
  { prefix: [224, 0, 0, 0], bits: 4, reason: 'multicast' },
  { prefix: [240, 0, 0, 0], bits: 4, reason: 'reserved' },
];

const IPV6_RULES: Rule[] = [
  { prefix: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], bits: 128, reason: 'unspecified' },
  { prefix: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], bits: 128, reason: 'loopback' },
  { prefix: [1, 0, 0, 0, 0, 0, 0, 0], bits: 64, reason: 'reserved' },
  { prefix: [0xfc], bits: 7, reason: 'private' },
  { prefix: [0xfe, 0x80], bits: 10, reason: 'link-local' },
  { prefix: [0xfe, 0xc0], bits: 10, reason: 'private' },
  { prefix: [0xff], bits: 8, reason: 'multicast' },
];

// IPv6 forms that carry an IPv4 address: the embedded address decides (::ffff:127.0.0.1 is loopback).
const IPV6_EMBEDDING: { prefix: number[]; bits: number; offset: number; kind: string }[] = [
  { prefix: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff], bits: 96, offset: 12, kind: 'IPv4-mapped' },
  { prefix: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], bits: 96, offset: 12, kind: 'IPv4-compatible' },
  { prefix: [0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0], bits: 96, offset: 12, kind: 'NAT64' },
  { prefix: [0x20, 0x02], bits: 16, offset: 2, kind: '6to4' },
];

function matches(bytes: readonly number[], prefix: readonly number[], bits: number): boolean {
  for (let bit = 0; bit < bits; bit += 8) {
    const width = Math.min(8, bits - bit);
    const mask = (0xff << (8 - width)) & 0xff;
    const index = bit / 8;
    if (((bytes[index] ?? 0) & mask) !== ((prefix[index] ?? 0) & mask)) return false;
  }
  return true;
}

function parseIpv4(address: string): number[] | null {
  const parts = address.split('.');
  if (parts.length !== 4 || !parts.every((part) => /^\d{1,3}$/.test(part) && Number(part) <= 255)) return null;
  return parts.map(Number);
}

function parseIpv6(input: string): number[] | null {
  let address = stripBrackets(input);
  const zone = address.indexOf('%');
  if (zone >= 0) address = address.slice(0, zone);
  if (isIP(address) !== 6) return null;
  let tail: number[] = [];
  const lastColon = address.lastIndexOf(':');
  if (address.slice(lastColon + 1).includes('.')) {
    // A trailing dotted quad (::ffff:10.0.0.1) stands for the last two groups.
    const ipv4 = parseIpv4(address.slice(lastColon + 1));
    if (!ipv4) return null;
    tail = ipv4;
    address = address.slice(0, lastColon + 1);
    if (!address.endsWith('::')) address = address.slice(0, -1);
  }
  const halves = address.split('::');
  if (halves.length > 2) return null;
  const toGroups = (text: string): number[] | null => {
    if (text === '') return [];
    const groups = text.split(':');
    if (groups.some((group) => !/^[0-9a-fA-F]{1,4}$/.test(group))) return null;
    return groups.map((group) => Number.parseInt(group, 16));
  };
  const head = toGroups(halves[0] ?? '');
  const rest = toGroups(halves[1] ?? '');
  if (!head || !rest) return null;
  const missing = 8 - tail.length / 2 - head.length - rest.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const groups = [...head, ...new Array<number>(missing).fill(0), ...rest];
  return [...groups.flatMap((group) => [group >> 8, group & 0xff]), ...tail];
}

/**
 * Why an IP address must not be fetched on the model's behalf (`'loopback'`, `'private'`,
 * `'link-local'`…), or `null` for a public address. Unparsable input counts as blocked.
 */
export function blockedAddressReason(address: string): string | null {
  const ipv4 = parseIpv4(address);
  if (ipv4) return IPV4_RULES.find((rule) => matches(ipv4, rule.prefix, rule.bits))?.reason ?? null;
  const ipv6 = parseIpv6(address);
  if (!ipv6) return 'not an IP address';
  const own = IPV6_RULES.find((rule) => matches(ipv6, rule.prefix, rule.bits));
  if (own) return own.reason;
  for (const embedding of IPV6_EMBEDDING) {
    if (!matches(ipv6, embedding.prefix, embedding.bits)) continue;
    const embedded = ipv6.slice(embedding.offset, embedding.offset + 4).join('.');
    const reason = blockedAddressReason(embedded);
    return reason === null ? null : `${embedding.kind} ${reason}`;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------------------------------
// Host checks

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

function normalizeHost(host: string): string {
  return host.toLowerCase().replace(/\.$/, '');
}

function isAllowed(url: URL, allowed: ReadonlySet<string>): boolean {
  const host = normalizeHost(url.hostname);
  const bare = stripBrackets(host);
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  const bracketed = isIP(bare) === 6 ? `[${bare}]` : bare;
  return allowed.has(bare) || allowed.has(bracketed) || allowed.has(`${bracketed}:${port}`);
}

function toAllowedSet(entries: readonly string[]): Set<string> {
  const set = new Set<string>();
  for (const entry of entries) {
    const value = normalizeHost(entry.trim());
    set.add(value);
    // A bare IPv6 address may be written with or without brackets.
    if (isIP(value) === 6) set.add(`[${value}]`);
  }
  return set;
}

async function defaultLookup(hostname: string): Promise<string[]> {
  const addresses = await dnsLookupAll(hostname, { all: true, verbatim: true });
  return addresses.map((entry) => entry.address);
}

function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** A `lookup` for node:net that answers only with the addresses already checked. */
function pinnedLookup(addresses: readonly string[]): LookupFunction {
  const entries: LookupAddress[] = addresses.map((address) => ({ address, family: isIP(address) }));
  return (hostname, options, callback) => {
    const family = options.family === 4 || options.family === 6 ? options.family : 0;
    const usable = family === 0 ? entries : entries.filter((entry) => entry.family === family);
    const first = usable[0];
    if (!first) {
      const error: NodeJS.ErrnoException = new Error(`No IPv${family} address for ${hostname}`);
      error.code = 'ENOTFOUND';
      callback(error, '', 0);
      return;
    }
    // Node 20 asks for all addresses when it races IPv4 and IPv6 (autoSelectFamily).
    if (options.all) callback(null, usable);
    else callback(null, first.address, first.family);
  };
}

function invalid(message: string): AgentOsError {
  return new AgentOsError('AOS_TOOL_INVALID_INPUT', `http_request: ${message}`);
}

function failed(message: string, cause?: unknown): AgentOsError {
  return new AgentOsError('AOS_TOOL_FAILED', `http_request: ${message}`, cause === undefined ? {} : { cause });
}

function parseUrl(value: string, base?: URL): URL {
  let url: URL;
  try {
    url = new URL(value, base);
  } catch {
    throw invalid(`"${value.slice(0, 200)}" is not a valid URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw invalid(`only http and https URLs are allowed, not ${url.protocol.replace(/:$/, '')}`);
  }
  return url;
}

// ---------------------------------------------------------------------------------------------------------------------
// The request

interface Hop {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
}

function send(hop: Hop, addresses: readonly string[], signal: AbortSignal): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const request = (hop.url.protocol === 'https:' ? https.request : http.request)(hop.url, {
      method: hop.method,
      headers: hop.headers,
      lookup: pinnedLookup(addresses),
      signal,
      // No connection pool: a pooled socket would skip the pinned lookup of this hop.
      agent: false,
    });
    request.once('response', resolve);
    request.once('error', reject);
    request.end(hop.body);
  });
}

async function readBody(response: IncomingMessage, maxBytes: number): Promise<{ body: string; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  for await (const chunk of response) {
    const buffer = chunk as Buffer;
    if (size + buffer.length > maxBytes) {
      chunks.push(buffer.subarray(0, maxBytes - size));
      truncated = true;
      // Leaving the loop destroys the response: the rest is never downloaded.
      break;
    }
    chunks.push(buffer);
    size += buffer.length;
  }
  // With `stream: true` a multi-byte character cut at the limit is dropped instead of becoming U+FFFD.
  const body = new TextDecoder('utf-8').decode(Buffer.concat(chunks), { stream: truncated });
  return { body, truncated };
}

function pickHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const name of RESULT_HEADERS) {
    const value = headers[name];
    if (value !== undefined) picked[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return picked;
}

/**
 * Creates the `http_request` built-in tool, which refuses internal addresses unless allowed.
 * @example createHttpRequestTool({ allowedHosts: ['127.0.0.1:8080'], timeoutMs: 5000 })
 */
export function createHttpRequestTool(options: HttpRequestToolOptions = {}): ToolDefinition {
  const allowed = toAllowedSet(options.allowedHosts ?? []);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const lookup = options.lookup ?? defaultLookup;

  async function resolveChecked(url: URL, signal: AbortSignal): Promise<string[]> {
    const host = stripBrackets(url.hostname);
    let addresses: string[];
    if (isIP(host)) {
      addresses = [host];
    } else {
      try {
        addresses = await raceAbort(lookup(host), signal);
      } catch (error) {
        if (signal.aborted) throw error;
        throw failed(`could not resolve ${host}: ${error instanceof Error ? error.message : String(error)}`, error);
      }
      if (addresses.length === 0) throw failed(`could not resolve ${host}: no addresses`);
    }
    if (isAllowed(url, allowed)) return addresses;
    // Every address is checked, not just the first: the connection may use any of them.
    for (const address of addresses) {
      const reason = blockedAddressReason(address);
      if (reason !== null) {
        throw new AgentOsError(
          'AOS_TOOL_BLOCKED_HOST',
          `http_request refused ${url.host}: it resolves to ${address}, a ${reason} address. ` +
            'Internal addresses are blocked unless the operator lists the host in the tool’s allowed hosts.',
          { details: { host: url.host, address, reason } },
        );
      }
    }
    return addresses;
  }

  return {
    name: 'http_request',
    description:
      'Make an HTTP request to a public http(s) URL and return the status, main headers and body text. ' +
      'Private, loopback and link-local addresses are refused.',
    inputSchema: httpRequestInput,
    async execute(args, context): Promise<HttpRequestResult> {
      const input = httpRequestInput.parse(args);
      const method = input.method ?? 'GET';
      if (input.body !== undefined && (method === 'GET' || method === 'HEAD')) {
        throw invalid(`a body is not allowed with ${method}`);
      }
      const headers: Record<string, string> = { 'user-agent': 'agentos-http-request', accept: '*/*' };
      for (const [name, value] of Object.entries(input.headers ?? {})) {
        if (!DROPPED_REQUEST_HEADERS.has(name.toLowerCase())) headers[name.toLowerCase()] = value;
      }
      // Compressed bodies would come back as unreadable bytes; ask for plain text.
      headers['accept-encoding'] = 'identity';
      let hop: Hop = { url: parseUrl(input.url), method, headers, body: input.body };

      const timeout = AbortSignal.timeout(timeoutMs);
      const signal = AbortSignal.any([context.abortSignal, timeout]);
      try {
        for (let redirects = 0; ; redirects += 1) {
          const addresses = await resolveChecked(hop.url, signal);
          const response = await send(hop, addresses, signal);
          const status = response.statusCode ?? 0;
          const location = response.headers.location;
          if (REDIRECT_STATUSES.has(status) && location) {
            response.destroy();
            if (redirects >= MAX_REDIRECTS) throw failed(`more than ${MAX_REDIRECTS} redirects`);
            hop = nextHop(hop, status, parseUrl(location, hop.url));
            continue;
          }
          const { body, truncated } = await readBody(response, maxResponseBytes);
          return {
            status,
            statusText: response.statusMessage ?? '',
            url: hop.url.href,
            headers: pickHeaders(response.headers),
            body,
            truncated,
          };
        }
      } catch (error) {
        if (context.abortSignal.aborted) throw context.abortSignal.reason ?? error;
        if (isAgentOsError(error)) throw error;
        if (timeout.aborted) throw failed(`${hop.url.host} did not answer within ${timeoutMs} ms`, error);
        const message = error instanceof Error ? error.message : String(error);
        if ((error as NodeJS.ErrnoException).code === 'ERR_INVALID_CHAR') throw invalid(message);
        throw failed(`request to ${hop.url.href} failed: ${message}`, error);
      }
    },
  };
}

function nextHop(hop: Hop, status: number, url: URL): Hop {
  const headers = { ...hop.headers };
  let { method, body } = hop;
  // 303 always, and 301/302 after a POST (what browsers do), turn the request into a body-less GET.
  if (status === 303 || ((status === 301 || status === 302) && method === 'POST')) {
    method = method === 'HEAD' ? 'HEAD' : 'GET';
    body = undefined;
    delete headers['content-type'];
  }
  if (url.origin !== hop.url.origin) {
    for (const name of CREDENTIAL_HEADERS) delete headers[name];
  }
  return { url, method, headers, body };
}
