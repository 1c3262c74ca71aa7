/**
 * A `fetch` for provider calls over node:http(s) with keep-alive agents. The global fetch (undici)
 * holds about 32 KB of request, response, header and stream state per open call, and costs as much
 * CPU as the rest of a short run's upstream handling; this one answers with a `Response` over the
 * node response (one web stream), about 20 KB less per open streaming run. It covers what the AI SDK
 * providers send (a method, headers and a string or byte body); any other body goes to the global
 * fetch. Failures read as the global fetch's do: a network error is `TypeError('fetch failed')` with
 * the cause, an abort rejects with the signal's reason, and a body cut off by an abort errors.
 * Unlike the global fetch it does not follow redirects: a 3xx comes back as the provider's HTTP error.
 * @module
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Socket } from 'node:net';
import { type Duplex, Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';

/** Options of {@link createHttpFetch}. */
export interface HttpFetchOptions {
  /** Sockets kept open per host for reuse between calls. */
  maxFreeSockets?: number;
  /**
   * A call that receives nothing (headers or body bytes) for this long fails, as undici's
   * `headersTimeout` / `bodyTimeout` (300 s) make the global fetch fail.
   */
  idleTimeoutMs?: number;
}

/** The idle time a server announces (`Keep-Alive: timeout=N`) on the response a socket just carried. */
function announcedIdleSeconds(socket: Duplex): number | undefined {
  const response = (socket as { _httpMessage?: { res?: IncomingMessage } })._httpMessage?.res;
  const hint = /^timeout=(\d+)/.exec(String(response?.headers['keep-alive'] ?? ''))?.[1];
  return hint === undefined ? undefined : Number(hint);
}

/**
 * Node's agents drop a socket whose server announces an idle timeout of 1 s or less (they keep a 1 s
 * margin), so such a server (Node's own default is 5 s; test upstreams use 1 s) would cost a new
 * connection per call, which the global fetch does not pay. These agents keep it for half the
 * announced time instead.
 */
function keepShortLivedSockets<T extends HttpAgent>(agent: T): T {
  const keep = agent.keepSocketAlive.bind(agent) as (socket: Duplex) => boolean;
  agent.keepSocketAlive = ((socket: Duplex) => {
    if (keep(socket)) return true;
    const seconds = announcedIdleSeconds(socket);
    if (seconds === undefined || seconds <= 0 || !(socket instanceof Socket)) return false;
    socket.setTimeout(seconds * 500);
    return true;
  }) as HttpAgent['keepSocketAlive'];
  return agent;
}

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

function headerRecord(headers: RequestInit['headers']): Record<string, string> {
  const record: Record<string, string> = {};
  if (headers === undefined) return record;
  // Headers, pairs or a record: the Headers class reads all three and lower-cases the names.
  new Headers(headers).forEach((value, key) => {
    record[key] = value;
  });
  return record;
}

/**
 * The request's headers as name, value pairs, `host` and a body's `content-length` included. Given a
 * record, node:http copies each header into a null-prototype map on the request (`setHeader`) that lives
 * as long as the call: about 0.7 KB of heap per open streaming call (issue 4). Given pairs, it writes them
 * out as they are: `host` and the length are then the caller's to send, and `connection: keep-alive` still
 * comes from the agent.
 */
function headerList(headers: Record<string, string>, url: URL, payload: Uint8Array | undefined): string[] {
  const list: string[] = [];
  let host = false;
  for (const name in headers) {
    const lower = name.toLowerCase();
    // The body's own length replaces one the caller gave.
    if (lower === 'content-length' && payload !== undefined) continue;
    list.push(name, headers[name] as string);
    if (lower === 'host') host = true;
  }
  // As node:http writes it: the port only when it is not the protocol's default (the URL leaves those out).
  if (!host) list.push('host', url.host);
  if (payload !== undefined) list.push('content-length', String(payload.byteLength));
  return list;
}

/** The response body, decompressed when the server compressed it anyway. */
function bodyOf(response: IncomingMessage): Readable {
  switch (response.headers['content-encoding']) {
    case 'gzip':
    case 'x-gzip':
      return response.pipe(createGunzip());
    case 'deflate':
      return response.pipe(createInflate());
    case 'br':
      return response.pipe(createBrotliDecompress());
    default:
      return response;
  }
}

/** A response as node:http gives it: status, headers and the (decompressed) body as a node stream. */
export interface HttpStreamResponse {
  status: number;
  statusText: string;
  /** Lower-case names; repeated headers joined with `, `, as `Headers` reads them. */
  headers: Record<string, string>;
  body: Readable;
}

/** What {@link createHttpFetch}'s `send` answers: the raw header list, for either kind of headers. */
interface SentResponse extends Omit<HttpStreamResponse, 'headers'> {
  rawHeaders: string[];
}

/** The fetch, plus the same call answered as a node stream (no `Response`, no web stream). */
export interface HttpFetch {
  (input: string | URL | Request, init?: RequestInit): Promise<Response>;
  /**
   * Sends a request and resolves with the node response; the body errors like the fetch's does
   * (abort, idle timeout, a cut connection). For callers that parse the body themselves
   * (`chat-completions-stream.ts`), where a web stream per call is most of the heap an open call holds.
   */
  stream(
    url: URL,
    init: { method: string; headers: Record<string, string>; body?: string; signal?: AbortSignal },
  ): Promise<HttpStreamResponse>;
}

interface SendInit {
  method: string;
  headers: Record<string, string>;
  payload: Uint8Array | undefined;
  signal: AbortSignal | undefined;
}

/** Creates the fetch; it keeps its own keep-alive agents. */
export function createHttpFetch(options: HttpFetchOptions = {}): HttpFetch {
  const agentOptions = { keepAlive: true, maxFreeSockets: options.maxFreeSockets ?? 256 };
  const idleTimeoutMs = options.idleTimeoutMs ?? 300_000;
  const agents = {
    'http:': keepShortLivedSockets(new HttpAgent(agentOptions)),
    'https:': keepShortLivedSockets(new HttpsAgent(agentOptions)),
  };

  /** One request over the agents; network failures reject as the global fetch's do. */
  function send(url: URL, init: SendInit): Promise<SentResponse> {
    const { signal, payload, headers } = init;
    if (signal?.aborted) return Promise.reject(abortError(signal));
    return new Promise<SentResponse>((resolve, reject) => {
      const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(
        {
          protocol: url.protocol,
          hostname: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
          port: url.port,
          path: `${url.pathname}${url.search}`,
          method: init.method,
          headers: headerList(headers, url, payload),
          agent: agents[url.protocol as 'http:' | 'https:'],
        },
        (incoming) => {
          response = incoming;
          stream = bodyOf(incoming);
          if (stream !== incoming) {
            // A consumer that stops reading a decompressed body stops the download too.
            stream.once('close', () => {
              if (!incoming.complete) incoming.destroy();
            });
          }
          const status = incoming.statusCode ?? 500;
          if (status === 204 || status === 304 || init.method === 'HEAD') incoming.resume();
          const done = () => signal?.removeEventListener('abort', onAbort);
          stream.once('end', done);
          stream.once('close', done);
          settled = true;
          resolve({ status, statusText: incoming.statusMessage ?? '', rawHeaders: incoming.rawHeaders, body: stream });
        },
      );
      let settled = false;
      let response: IncomingMessage | undefined;
      let stream: Readable | undefined;
      const onAbort = () => {
        const reason = abortError(signal as AbortSignal);
        const error = reason instanceof Error ? reason : new DOMException('This operation was aborted', 'AbortError');
        if (!settled) {
          settled = true;
          reject(reason);
        }
        stream?.destroy(error);
        request.destroy();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      request.setTimeout(idleTimeoutMs, () => {
        const error = new Error(`No data from ${url.host} for ${idleTimeoutMs} ms`);
        if (stream && !stream.destroyed && !response?.complete) stream.destroy(error);
        request.destroy(error);
      });
      request.on('error', (error) => {
        signal?.removeEventListener('abort', onAbort);
        if (settled) {
          if (response && stream && !stream.destroyed) stream.destroy(error);
          return;
        }
        settled = true;
        reject(new TypeError('fetch failed', { cause: error }));
      });
      request.end(payload);
    });
  }

  const httpFetch = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const body = init.body;
    const simple =
      !(input instanceof Request) &&
      (body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array);
    const url = simple ? new URL(input as string | URL) : undefined;
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) return fetch(input, init);
    const method = init.method ?? 'GET';
    const answer = await send(url, {
      method,
      headers: headerRecord(init.headers),
      payload: typeof body === 'string' ? Buffer.from(body) : ((body ?? undefined) as Uint8Array | undefined),
      signal: init.signal ?? undefined,
    });
    const empty = answer.status === 204 || answer.status === 304 || method === 'HEAD';
    const headers = new Headers();
    const raw = answer.rawHeaders;
    for (let index = 0; index + 1 < raw.length; index += 2)
      headers.append(raw[index] as string, raw[index + 1] as string);
    return new Response(empty ? null : (Readable.toWeb(answer.body) as ReadableStream<Uint8Array>), {
      status: answer.status,
      statusText: answer.statusText,
      headers,
    });
  };
  return Object.assign(httpFetch, {
    stream: async (
      url: URL,
      init: { method: string; headers: Record<string, string>; body?: string; signal?: AbortSignal },
    ): Promise<HttpStreamResponse> => {
      const { rawHeaders, ...answer } = await send(url, {
        method: init.method,
        headers: init.headers,
        payload: init.body === undefined ? undefined : Buffer.from(init.body),
        signal: init.signal,
      });
      // A plain record: a `Headers` per open call would be heap (and time) spent on a copy read once.
      // No prototype: a header named `__proto__` or `constructor` is just a header.
      const headers = Object.create(null) as Record<string, string>;
      for (let index = 0; index + 1 < rawHeaders.length; index += 2) {
        const name = (rawHeaders[index] as string).toLowerCase();
        const value = rawHeaders[index + 1] as string;
        const earlier = headers[name];
        headers[name] = earlier === undefined ? value : `${earlier}, ${value}`;
      }
      return { ...answer, headers };
    },
  });
}
