// Child process of bench/runs/run.ts: the floor every agentos number is compared with. A thin node:http server whose
// `POST /run` reads `{ message }` and makes the same Chat Completions call agentos makes (model gpt-4o-mini, a system
// and a user message) through the global fetch (undici, keep-alive). Blocking: answers `{ content }`. With
// `?stream=1` it asks the upstream for a stream and pipes the SSE bytes through unchanged. Nothing else: no storage,
// no validation, no events. run.ts bundles it to plain .mjs and starts `node proxy.mjs <upstream base url>` (or, by
// hand: node --import tsx bench/runs/proxy.ts <upstream base url>); prints `URL <url>` once listening.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SYSTEM_PROMPT } from './constants.js';

const upstream = process.argv[2];
if (!upstream) throw new Error('usage: proxy.ts <upstream base url>');
const endpoint = `${upstream}/chat/completions`;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = req.url ?? '/';
  if (req.method !== 'POST' || !url.startsWith('/run')) return send(res, 404, { error: 'not found' });
  const { message } = JSON.parse(await readBody(req)) as { message: string };
  const stream = url.includes('stream=1');
  const controller = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer bench' },
    body: JSON.stringify({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: SYSTEM_PROMPT },
        { role: 'user', content: message },
      ],
      ...(stream ? { stream: true } : {}),
    }),
    signal: controller.signal,
  });
  if (!stream) {
    const body = (await response.json()) as { choices: { message: { content: string } }[] };
    return send(res, response.status, { content: body.choices[0]?.message.content ?? '' });
  }
  res.writeHead(response.status, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.flushHeaders();
  if (response.body) for await (const chunk of response.body) res.write(chunk);
  res.end();
}

const server = createServer((req, res) => {
  handle(req, res).catch((error: unknown) => {
    if (!res.headersSent) send(res, 502, { error: String(error) });
    else res.destroy();
  });
});
server.keepAliveTimeout = 5000;
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`URL http://127.0.0.1:${port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
