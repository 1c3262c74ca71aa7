/**
 * A scripted model upstream on 127.0.0.1:0 that speaks OpenAI Chat Completions (`POST /v1/chat/completions`,
 * `GET /v1/models`) and Anthropic Messages (`POST /v1/messages`), streamed or not, with tool calls and usage.
 * Tests point `OPENAI_BASE_URL` / `OLLAMA_BASE_URL` / `ANTHROPIC_BASE_URL` at `fake.url`, queue replies with
 * `script()` and assert on `requests` and `disconnects`. node:http only.
 * @module
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One tool call of a scripted reply. `arguments` may be a string to send malformed JSON on purpose. */
export interface ScriptedToolCall {
  /** Defaults to `call_<n>` (OpenAI) or `toolu_<n>` (Anthropic). */
  id?: string;
  name: string;
  arguments: object | string;
}

/** What the fake answers to one model request. */
export interface ScriptedReply {
  /** The assistant text. Defaults to `chunks.join('')`, else `''`. */
  text?: string;
  toolCalls?: ScriptedToolCall[];
  /** Defaults: prompt = words of the request messages, completion = words of the reply. */
  usage?: { prompt_tokens: number; completion_tokens: number };
  /** Delay between streamed chunks. */
  chunkDelayMs?: number;
  /** Delay before the first streamed chunk (headers go out at once), or before a non-stream body. */
  firstChunkDelayMs?: number;
  /** An HTTP error status: the reply is the provider's JSON error body instead of a completion. */
  status?: number;
  /** The error message for `status`. */
  error?: string;
  /** The streamed text split, exactly; the default splits the text after each word. */
  chunks?: string[];
  /** Stream a first chunk, then never finish until the client disconnects (non-stream: never answer). */
  hang?: boolean;
}

/** A reply computed from the request it answers. */
export type ReplyFactory = (request: RecordedRequest) => ScriptedReply;

/** The parsed JSON body of a request (`{}` when there was none or it was not JSON). */
export interface RequestBody {
  model?: string;
  stream?: boolean;
  messages?: Record<string, unknown>[];
  tools?: Record<string, unknown>[];
  [key: string]: unknown;
}

/** A request the fake received. */
export interface RecordedRequest {
  method: string;
  /** The path without the query string, e.g. `/v1/chat/completions`. */
  path: string;
  headers: IncomingHttpHeaders;
  body: RequestBody;
  rawBody: string;
}

/** Options of {@link startFakeOpenAI}. */
export interface FakeOpenAIOptions {
  /** Ids listed by `GET /v1/models`. */
  models?: string[];
  /** The reply used when the script queue is empty; defaults to {@link echoReply}. */
  defaultReply?: ScriptedReply | ReplyFactory;
}

/** A running fake upstream. */
export interface FakeOpenAI {
  /** Base URL ending in `/v1`, e.g. `http://127.0.0.1:41234/v1`. */
  readonly url: string;
  /** Every request received, in order (404s included). */
  readonly requests: RecordedRequest[];
  /** Model requests (chat completions and messages) only. */
  readonly modelRequests: RecordedRequest[];
  /** Responses the client abandoned before they were complete. */
  readonly disconnects: number;
  /** Scripted replies not yet consumed. */
  readonly queued: number;
  /** Queues replies, consumed one per model request; when the queue is empty the default reply is used. */
  script(...replies: (ScriptedReply | ReplyFactory)[]): void;
  /** Replaces the default reply. */
  setDefault(reply: ScriptedReply | ReplyFactory): void;
  /** Resolves once `disconnects` reaches `count` (default: one more than now); rejects after `timeoutMs`. */
  waitForDisconnects(count?: number, timeoutMs?: number): Promise<void>;
  /** Clears the queue, the recorded requests and the disconnect counter; restores the default reply. */
  reset(): void;
  /** Drops open connections (hung streams included) and stops listening. */
  close(): Promise<void>;
}

/** The default reply: `Echo: <last user message>`. */
export const echoReply: ReplyFactory = (request) => ({ text: `Echo: ${lastUserText(request.body)}` });

/** Starts the fake on 127.0.0.1 with a free port. */
export async function startFakeOpenAI(options: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  const models = options.models ?? ['gpt-4o-mini', 'gpt-4o', 'llama3'];
  const requests: RecordedRequest[] = [];
  const modelRequests: RecordedRequest[] = [];
  const queue: (ScriptedReply | ReplyFactory)[] = [];
  let defaultReply: ScriptedReply | ReplyFactory = options.defaultReply ?? echoReply;
  let disconnects = 0;
  let sequence = 0;
  const disconnectWaiters = new Set<() => void>();

  function nextReply(request: RecordedRequest): ScriptedReply {
    const next = queue.shift() ?? defaultReply;
    return typeof next === 'function' ? next(request) : next;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const connection = trackConnection(res, () => {
      disconnects += 1;
      for (const wake of disconnectWaiters) wake();
    });
    const rawBody = await readBody(req);
    const request: RecordedRequest = {
      method: req.method ?? 'GET',
      path: (req.url ?? '/').split('?')[0] ?? '/',
      headers: req.headers,
      body: parseBody(rawBody),
      rawBody,
    };
    requests.push(request);

    if (request.method === 'POST' && request.path === '/v1/chat/completions') {
      modelRequests.push(request);
      sequence += 1;
      await answerOpenAI(request, nextReply(request), res, connection, sequence);
      return;
    }
    if (request.method === 'POST' && request.path === '/v1/messages') {
      modelRequests.push(request);
      sequence += 1;
      await answerAnthropic(request, nextReply(request), res, connection, sequence);
      return;
    }
    if (request.method === 'GET' && request.path === '/v1/models') {
      const created = Math.floor(Date.now() / 1000);
      sendJson(res, 200, {
        object: 'list',
        data: models.map((id) => ({ id, object: 'model', created, owned_by: 'fake-openai' })),
      });
      return;
    }
    sendJson(res, 404, openAIError(404, `Unknown request URL: ${request.method} ${request.path}`));
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, openAIError(500, String(error)));
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    modelRequests,
    get disconnects() {
      return disconnects;
    },
    get queued() {
      return queue.length;
    },
    script(...replies) {
      queue.push(...replies);
    },
    setDefault(reply) {
      defaultReply = reply;
    },
    waitForDisconnects(count = disconnects + 1, timeoutMs = 5000) {
      if (disconnects >= count) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          disconnectWaiters.delete(check);
          reject(new Error(`fake-openai: ${disconnects} of ${count} disconnects after ${timeoutMs} ms`));
        }, timeoutMs);
        function check(): void {
          if (disconnects < count) return;
          clearTimeout(timer);
          disconnectWaiters.delete(check);
          resolve();
        }
        disconnectWaiters.add(check);
      });
    },
    reset() {
      queue.length = 0;
      requests.length = 0;
      modelRequests.length = 0;
      disconnects = 0;
      defaultReply = options.defaultReply ?? echoReply;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Connections

interface Connection {
  /** True once the client went away before the response ended. */
  readonly closed: boolean;
  /** Resolves when the response closes (finished or abandoned). */
  readonly done: Promise<void>;
  /** Waits `ms`, or less if the client goes away. */
  pause(ms: number | undefined): Promise<void>;
}

function trackConnection(res: ServerResponse, onDisconnect: () => void): Connection {
  let closed = false;
  let markDone: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    markDone = resolve;
  });
  res.on('close', () => {
    if (!res.writableFinished) {
      closed = true;
      onDisconnect();
    }
    markDone();
  });
  return {
    get closed() {
      return closed;
    },
    done,
    async pause(ms) {
      if (!ms || ms <= 0 || closed) return;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([done, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
      clearTimeout(timer);
    },
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseBody(raw: string): RequestBody {
  if (raw === '') return {};
  try {
    const value: unknown = JSON.parse(raw);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as RequestBody) : {};
  } catch {
    return {};
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function startEventStream(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  res.flushHeaders();
}

function write(res: ServerResponse, connection: Connection, frame: string): void {
  if (!connection.closed && !res.destroyed) res.write(frame);
}

// ---------------------------------------------------------------------------------------------------------------
// Reply shaping shared by both dialects

interface Shaped {
  text: string;
  chunks: string[];
  toolCalls: { id: string | undefined; name: string; arguments: string; input: Record<string, unknown> }[];
  promptTokens: number;
  completionTokens: number;
}

function shape(request: RecordedRequest, reply: ScriptedReply): Shaped {
  const text = reply.text ?? reply.chunks?.join('') ?? '';
  const chunks = reply.chunks ?? splitText(text);
  const toolCalls = (reply.toolCalls ?? []).map((call) => {
    const args = typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments);
    return { id: call.id, name: call.name, arguments: args, input: toInput(call.arguments) };
  });
  const promptTokens = reply.usage?.prompt_tokens ?? Math.max(1, countWords(collectText(request.body)));
  const completionTokens =
    reply.usage?.completion_tokens ??
    countWords([text, ...toolCalls.map((call) => call.arguments.replace(/[{}[\]",:]/g, ' '))]);
  return { text, chunks, toolCalls, promptTokens, completionTokens };
}

function toInput(args: object | string): Record<string, unknown> {
  if (typeof args !== 'string') return args as Record<string, unknown>;
  try {
    const value: unknown = JSON.parse(args);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** Splits after each word, keeping whitespace, so the pieces concatenate back to the text. */
function splitText(text: string): string[] {
  if (text === '') return [];
  return text.match(/\s*\S+\s*/g) ?? [text];
}

/** Splits a JSON argument string into up to three pieces, as OpenAI streams arguments. */
function splitArguments(args: string): string[] {
  if (args.length < 3) return [args];
  const size = Math.ceil(args.length / 3);
  const pieces: string[] = [];
  for (let index = 0; index < args.length; index += size) pieces.push(args.slice(index, index + size));
  return pieces;
}

function countWords(texts: string[]): number {
  return texts.join(' ').split(/\s+/).filter(Boolean).length;
}

/** Every string under `content`, `text` and `system` keys of the request (messages of both dialects). */
function collectText(value: unknown, key = ''): string[] {
  if (typeof value === 'string') return key === 'content' || key === 'text' || key === 'system' ? [value] : [];
  if (Array.isArray(value)) return value.flatMap((item) => collectText(item, key === 'messages' ? '' : key));
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([name, item]) =>
      name === 'messages' || name === 'content' || name === 'text' || name === 'system' ? collectText(item, name) : [],
    );
  }
  return [];
}

/** The text of the last user message that has text (OpenAI or Anthropic shape). */
export function lastUserText(body: RequestBody): string {
  const messages = Array.isArray(body.messages) ? body.messages : [];
  for (let index = messages.length - 1; index >= 0; index -= 1) {
    const message = messages[index];
    if (message?.role !== 'user') continue;
    const { content } = message;
    if (typeof content === 'string') return content;
    if (Array.isArray(content)) {
      const texts = content
        .filter(
          (part): part is { type: 'text'; text: string } => part?.type === 'text' && typeof part.text === 'string',
        )
        .map((part) => part.text);
      if (texts.length > 0) return texts.join('\n');
    }
  }
  return '';
}

// ---------------------------------------------------------------------------------------------------------------
// OpenAI Chat Completions

function openAIError(status: number, message: string): unknown {
  const type =
    status === 401
      ? 'invalid_api_key'
      : status === 429
        ? 'rate_limit_exceeded'
        : status >= 500
          ? 'server_error'
          : 'invalid_request_error';
  return { error: { message, type, param: null, code: status === 404 ? 'unknown_url' : type } };
}

async function answerOpenAI(
  request: RecordedRequest,
  reply: ScriptedReply,
  res: ServerResponse,
  connection: Connection,
  sequence: number,
): Promise<void> {
  if (reply.status !== undefined) {
    await connection.pause(reply.firstChunkDelayMs);
    sendJson(res, reply.status, openAIError(reply.status, reply.error ?? `Scripted error ${reply.status}`));
    return;
  }
  const shaped = shape(request, reply);
  const id = `chatcmpl-fake${sequence}`;
  const created = Math.floor(Date.now() / 1000);
  const model = request.body.model ?? 'gpt-4o-mini';
  const toolCalls = shaped.toolCalls.map((call, index) => ({ ...call, id: call.id ?? `call_${sequence}_${index}` }));
  const finishReason = toolCalls.length > 0 ? 'tool_calls' : 'stop';
  const usage = {
    prompt_tokens: shaped.promptTokens,
    completion_tokens: shaped.completionTokens,
    total_tokens: shaped.promptTokens + shaped.completionTokens,
  };

  if (request.body.stream !== true) {
    await connection.pause(reply.firstChunkDelayMs);
    if (reply.hang) {
      await connection.done;
      return;
    }
    if (connection.closed) return;
    sendJson(res, 200, {
      id,
      object: 'chat.completion',
      created,
      model,
      system_fingerprint: 'fp_fake',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: toolCalls.length > 0 && shaped.text === '' ? null : shaped.text,
            refusal: null,
            ...(toolCalls.length > 0
              ? {
                  tool_calls: toolCalls.map((call) => ({
                    id: call.id,
                    type: 'function',
                    function: { name: call.name, arguments: call.arguments },
                  })),
                }
              : {}),
          },
          logprobs: null,
          finish_reason: finishReason,
        },
      ],
      usage,
    });
    return;
  }

  const includeUsage = (request.body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
  const chunk = (delta: Record<string, unknown>, finish: string | null = null): string =>
    `data: ${JSON.stringify({
      id,
      object: 'chat.completion.chunk',
      created,
      model,
      system_fingerprint: 'fp_fake',
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      ...(includeUsage ? { usage: null } : {}),
    })}\n\n`;

  startEventStream(res);
  await connection.pause(reply.firstChunkDelayMs);
  const textFirst = shaped.chunks.length > 0;
  write(res, connection, chunk({ role: 'assistant', content: textFirst || toolCalls.length === 0 ? '' : null }));

  const frames: string[] = [];
  for (const piece of shaped.chunks) frames.push(chunk({ content: piece }));
  toolCalls.forEach((call, index) => {
    frames.push(
      chunk({
        tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }],
      }),
    );
    for (const piece of splitArguments(call.arguments)) {
      frames.push(chunk({ tool_calls: [{ index, function: { arguments: piece } }] }));
    }
  });

  if (reply.hang) {
    if (frames[0] !== undefined) write(res, connection, frames[0]);
    await connection.done;
    return;
  }
  for (const [index, frame] of frames.entries()) {
    if (index > 0) await connection.pause(reply.chunkDelayMs);
    if (connection.closed) return;
    write(res, connection, frame);
  }
  await connection.pause(reply.chunkDelayMs);
  if (connection.closed) return;
  write(res, connection, chunk({}, finishReason));
  if (includeUsage) {
    write(
      res,
      connection,
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_fake', choices: [], usage })}\n\n`,
    );
  }
  write(res, connection, 'data: [DONE]\n\n');
  res.end();
}

// ---------------------------------------------------------------------------------------------------------------
// Anthropic Messages

function anthropicError(status: number, message: string): unknown {
  const type =
    status === 401
      ? 'authentication_error'
      : status === 404
        ? 'not_found_error'
        : status === 429
          ? 'rate_limit_error'
          : status === 529
            ? 'overloaded_error'
            : status >= 500
              ? 'api_error'
              : 'invalid_request_error';
  return { type: 'error', error: { type, message } };
}

async function answerAnthropic(
  request: RecordedRequest,
  reply: ScriptedReply,
  res: ServerResponse,
  connection: Connection,
  sequence: number,
): Promise<void> {
  if (reply.status !== undefined) {
    await connection.pause(reply.firstChunkDelayMs);
    sendJson(res, reply.status, anthropicError(reply.status, reply.error ?? `Scripted error ${reply.status}`));
    return;
  }
  const shaped = shape(request, reply);
  const id = `msg_fake${sequence}`;
  const model = request.body.model ?? 'claude-x';
  const toolCalls = shaped.toolCalls.map((call, index) => ({ ...call, id: call.id ?? `toolu_${sequence}_${index}` }));
  const stopReason = toolCalls.length > 0 ? 'tool_use' : 'end_turn';
  const hasText = shaped.text !== '' || toolCalls.length === 0;

  if (request.body.stream !== true) {
    await connection.pause(reply.firstChunkDelayMs);
    if (reply.hang) {
      await connection.done;
      return;
    }
    if (connection.closed) return;
    sendJson(res, 200, {
      id,
      type: 'message',
      role: 'assistant',
      model,
      content: [
        ...(hasText ? [{ type: 'text', text: shaped.text }] : []),
        ...toolCalls.map((call) => ({ type: 'tool_use', id: call.id, name: call.name, input: call.input })),
      ],
      stop_reason: stopReason,
      stop_sequence: null,
      usage: { input_tokens: shaped.promptTokens, output_tokens: shaped.completionTokens },
    });
    return;
  }

  const event = (data: { type: string } & Record<string, unknown>): string =>
    `event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`;

  startEventStream(res);
  await connection.pause(reply.firstChunkDelayMs);
  write(
    res,
    connection,
    event({
      type: 'message_start',
      message: {
        id,
        type: 'message',
        role: 'assistant',
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: shaped.promptTokens, output_tokens: 1 },
      },
    }),
  );

  const frames: string[] = [];
  let blockIndex = 0;
  if (hasText) {
    const index = blockIndex++;
    frames.push(event({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } }));
    for (const piece of shaped.chunks) {
      frames.push(event({ type: 'content_block_delta', index, delta: { type: 'text_delta', text: piece } }));
    }
    frames.push(event({ type: 'content_block_stop', index }));
  }
  for (const call of toolCalls) {
    const index = blockIndex++;
    frames.push(
      event({
        type: 'content_block_start',
        index,
        content_block: { type: 'tool_use', id: call.id, name: call.name, input: {} },
      }),
    );
    const json = JSON.stringify(call.input);
    for (const piece of ['', ...splitArguments(json)]) {
      frames.push(
        event({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: piece } }),
      );
    }
    frames.push(event({ type: 'content_block_stop', index }));
  }

  if (reply.hang) {
    // The block start and its first delta, so the client has seen content before the stall.
    for (const frame of frames.slice(0, 2)) write(res, connection, frame);
    await connection.done;
    return;
  }
  for (const [index, frame] of frames.entries()) {
    if (index > 0) await connection.pause(reply.chunkDelayMs);
    if (connection.closed) return;
    write(res, connection, frame);
  }
  await connection.pause(reply.chunkDelayMs);
  if (connection.closed) return;
  write(
    res,
    connection,
    event({
      type: 'message_delta',
      delta: { stop_reason: stopReason, stop_sequence: null },
      usage: { output_tokens: shaped.completionTokens },
    }),
  );
  write(res, connection, event({ type: 'message_stop' }));
  res.end();
}
