import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { ToolExecutionContext } from '../types.js';
import { createWebhookTool, type WebhookToolConfig } from './webhook-tool.js';

const servers: Server[] = [];

async function startServer(
  handler: (request: IncomingMessage, body: string, reply: ServerResponse) => void,
): Promise<{ url: string; requests: { headers: IncomingMessage['headers']; body: string; method: string }[] }> {
  const requests: { headers: IncomingMessage['headers']; body: string; method: string }[] = [];
  const server = createServer((request, reply) => {
    let body = '';
    request.on('data', (chunk: Buffer) => {
      body += chunk.toString('utf8');
    });
    request.on('end', () => {
      requests.push({ headers: request.headers, body, method: request.method ?? '' });
      handler(request, body, reply);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, requests };
}

afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    ),
  );
});

function context(abortSignal = new AbortController().signal): ToolExecutionContext {
  return { abortSignal, toolCallId: 'call_1', runId: 'run', sessionId: 'session', userId: null };
}

function config(url: string, webhook: Partial<WebhookToolConfig['webhook']> = {}): WebhookToolConfig {
  return {
    name: 'send_email',
    description: 'Send an email to a recipient.',
    parameters: { type: 'object', properties: { to: { type: 'string' } }, required: ['to'] },
    webhook: { url, timeout_ms: 30_000, ...webhook },
  };
}

describe('createWebhookTool', () => {
  it('describes itself with the configured name, description and JSON schema', () => {
    const tool = createWebhookTool(config('http://127.0.0.1:1/hook'));

    expect(tool).toMatchObject({
      name: 'send_email',
      description: 'Send an email to a recipient.',
      inputSchema: { type: 'object', required: ['to'] },
    });
  });

  it('POSTs the arguments as JSON with the configured headers and returns the JSON reply', async () => {
    const server = await startServer((_request, _body, reply) => {
      reply.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      reply.end('{"sent":true,"id":"m1"}');
    });
    const tool = createWebhookTool(config(server.url, { headers: { 'X-Token': 'secret' } }));

    const result = await tool.execute({ to: 'ada@example.com' }, context());

    expect(result).toEqual({ sent: true, id: 'm1' });
    expect(server.requests[0]).toMatchObject({ method: 'POST', body: '{"to":"ada@example.com"}' });
    expect(server.requests[0]?.headers).toMatchObject({ 'content-type': 'application/json', 'x-token': 'secret' });
  });

  it('returns a text reply as text', async () => {
    const server = await startServer((_request, _body, reply) => {
      reply.writeHead(200, { 'content-type': 'text/plain' });
      reply.end('queued for delivery');
    });

    await expect(createWebhookTool(config(server.url)).execute({ to: 'a' }, context())).resolves.toBe(
      'queued for delivery',
    );
  });

  it('throws with the status and a snippet of the body on a non-2xx reply', async () => {
    const server = await startServer((_request, _body, reply) => {
      reply.writeHead(503, { 'content-type': 'text/plain' });
      reply.end(`mail relay down\n${'x'.repeat(1000)}`);
    });

    const error = await createWebhookTool(config(server.url))
      .execute({ to: 'a' }, context())
      .catch((caught: unknown) => caught);

    expect(error).toMatchObject({
      code: 'AOS_TOOL_FAILED',
      details: { status: 503 },
      message: expect.stringMatching(
        /^Webhook tool "send_email" answered 503 Service Unavailable: mail relay down x+…$/,
      ),
    });
    expect((error as Error).message.length).toBeLessThan(400);
  });

  it('times out after timeout_ms', async () => {
    const server = await startServer(() => {
      // Never replies.
    });

    await expect(
      createWebhookTool(config(server.url, { timeout_ms: 100 })).execute({ to: 'a' }, context()),
    ).rejects.toMatchObject({ code: 'AOS_TOOL_FAILED', message: expect.stringContaining('within 100 ms') });
  });

  it('stops when the run is cancelled, without calling it a tool failure', async () => {
    const server = await startServer(() => {
      // Never replies.
    });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);

    await expect(
      createWebhookTool(config(server.url)).execute({ to: 'a' }, context(controller.signal)),
    ).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('uses an injected fetch', async () => {
    const calls: string[] = [];
    const fetchStub: typeof fetch = async (input) => {
      calls.push(String(input));
      return new Response('{"ok":1}', { headers: { 'content-type': 'application/json' } });
    };

    const result = await createWebhookTool(config('https://hooks.example.com/send'), { fetch: fetchStub }).execute(
      { to: 'a' },
      context(),
    );

    expect(result).toEqual({ ok: 1 });
    expect(calls).toEqual(['https://hooks.example.com/send']);
  });
});
