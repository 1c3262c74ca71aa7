import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { ToolExecutionContext } from '../types.js';
import { blockedAddressReason, createHttpRequestTool, type HttpRequestResult } from './http-request.js';

interface TestServer {
  port: number;
  url: string;
  requests: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[];
}

const servers: Server[] = [];

async function startServer(handler: (request: IncomingMessage, reply: ServerResponse) => void): Promise<TestServer> {
  const requests: TestServer['requests'] = [];
  const server = createServer((request, reply) => {
    let body = '';
    request.on('data', (chunk: Buffer) => {
      body += chunk.toString('utf8');
    });
    request.on('end', () => {
      requests.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body });
      handler(request, reply);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { port, url: `http://127.0.0.1:${port}`, requests };
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

const hello = (_request: IncomingMessage, reply: ServerResponse) => {
  reply.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': '5', 'x-internal': 'secret' });
  reply.end('hello');
};

describe('http_request SSRF guard', () => {
  it('blocks a loopback server by default and never connects', async () => {
    const server = await startServer(hello);

    await expect(createHttpRequestTool().execute({ url: `${server.url}/` }, context())).rejects.toMatchObject({
      code: 'AOS_TOOL_BLOCKED_HOST',
      message: expect.stringContaining('127.0.0.1, a loopback address'),
    });
    expect(server.requests).toHaveLength(0);
  });

  it('allows the server when host:port is in allowedHosts', async () => {
    const server = await startServer(hello);
    const tool = createHttpRequestTool({ allowedHosts: [`127.0.0.1:${server.port}`] });

    const result = (await tool.execute({ url: `${server.url}/greeting` }, context())) as HttpRequestResult;

    expect(result).toEqual({
      status: 200,
      statusText: 'OK',
      url: `${server.url}/greeting`,
      headers: { 'content-type': 'text/plain; charset=utf-8', 'content-length': '5' },
      body: 'hello',
      truncated: false,
    });
  });

  it('allows every port of a host listed without a port, and no other port of a host:port entry', async () => {
    const server = await startServer(hello);

    const anyPort = createHttpRequestTool({ allowedHosts: ['127.0.0.1'] });
    const otherPort = createHttpRequestTool({ allowedHosts: [`127.0.0.1:${server.port + 1}`] });

    await expect(anyPort.execute({ url: server.url }, context())).resolves.toMatchObject({ status: 200 });
    await expect(otherPort.execute({ url: server.url }, context())).rejects.toMatchObject({
      code: 'AOS_TOOL_BLOCKED_HOST',
    });
  });

  it('blocks a redirect from an allowed host to a blocked one', async () => {
    const internal = await startServer(hello);
    const front = await startServer((request, reply) => {
      const target = request.url === '/metadata' ? 'http://169.254.169.254/latest/meta-data/' : `${internal.url}/`;
      reply.writeHead(302, { location: target });
      reply.end();
    });
    const tool = createHttpRequestTool({ allowedHosts: [`127.0.0.1:${front.port}`] });

    await expect(tool.execute({ url: `${front.url}/internal` }, context())).rejects.toMatchObject({
      code: 'AOS_TOOL_BLOCKED_HOST',
    });
    await expect(tool.execute({ url: `${front.url}/metadata` }, context())).rejects.toMatchObject({
      code: 'AOS_TOOL_BLOCKED_HOST',
      message: expect.stringContaining('link-local'),
    });
    expect(internal.requests).toHaveLength(0);
  });

  it('blocks a host whose addresses include a private one', async () => {
    const tool = createHttpRequestTool({ lookup: async () => ['10.0.0.5'] });
    const mixed = createHttpRequestTool({ lookup: async () => ['93.184.216.34', '192.168.1.10'] });

    await expect(tool.execute({ url: 'http://internal.example/' }, context())).rejects.toMatchObject({
      code: 'AOS_TOOL_BLOCKED_HOST',
      message: expect.stringContaining('10.0.0.5, a private address'),
    });
    await expect(mixed.execute({ url: 'https://mixed.example/' }, context())).rejects.toMatchObject({
      code: 'AOS_TOOL_BLOCKED_HOST',
    });
  });

  it('connects to the address it checked, not to a fresh DNS answer', async () => {
    const server = await startServer(hello);
    // `service.test` does not exist in DNS: reaching the server proves the pinned lookup was used.
    const tool = createHttpRequestTool({
      allowedHosts: [`service.test:${server.port}`],
      lookup: async () => ['127.0.0.1'],
    });

    const result = (await tool.execute({ url: `http://service.test:${server.port}/` }, context())) as HttpRequestResult;

    expect(result.body).toBe('hello');
    expect(server.requests[0]?.headers.host).toBe(`service.test:${server.port}`);
  });

  it('refuses URLs that are not http or https', async () => {
    const tool = createHttpRequestTool();

    await expect(tool.execute({ url: 'file:///etc/passwd' }, context())).rejects.toMatchObject({
      code: 'AOS_TOOL_INVALID_INPUT',
      message: expect.stringContaining('only http and https'),
    });
    await expect(tool.execute({ url: 'not a url' }, context())).rejects.toMatchObject({
      code: 'AOS_TOOL_INVALID_INPUT',
    });
  });
});

describe('http_request requests', () => {
  it('sends the method, headers and body', async () => {
    const server = await startServer((_request, reply) => {
      reply.writeHead(201, { 'content-type': 'application/json' });
      reply.end('{"created":true}');
    });
    const tool = createHttpRequestTool({ allowedHosts: ['127.0.0.1'] });

    const result = (await tool.execute(
      {
        url: `${server.url}/items`,
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Host: 'evil' },
        body: '{"a":1}',
      },
      context(),
    )) as HttpRequestResult;

    expect(result).toMatchObject({ status: 201, body: '{"created":true}' });
    expect(server.requests[0]).toMatchObject({ method: 'POST', url: '/items', body: '{"a":1}' });
    expect(server.requests[0]?.headers).toMatchObject({
      'content-type': 'application/json',
      host: `127.0.0.1:${server.port}`,
    });
  });

  it('refuses a body with GET', async () => {
    await expect(
      createHttpRequestTool().execute({ url: 'http://example.com/', body: 'x' }, context()),
    ).rejects.toMatchObject({ code: 'AOS_TOOL_INVALID_INPUT' });
  });

  it('follows redirects on an allowed host, turning a 303 into a GET', async () => {
    const server = await startServer((request, reply) => {
      if (request.url === '/form') {
        reply.writeHead(303, { location: '/done' });
        reply.end();
      } else {
        reply.end(`${request.method} ${request.url}`);
      }
    });
    const tool = createHttpRequestTool({ allowedHosts: ['127.0.0.1'] });

    const result = (await tool.execute(
      { url: `${server.url}/form`, method: 'POST', body: 'a=1' },
      context(),
    )) as HttpRequestResult;

    expect(result).toMatchObject({ status: 200, body: 'GET /done', url: `${server.url}/done` });
  });

  it('drops credentials when a redirect leaves the origin', async () => {
    const second = await startServer(hello);
    const first = await startServer((_request, reply) => {
      reply.writeHead(307, { location: `${second.url}/` });
      reply.end();
    });
    const tool = createHttpRequestTool({ allowedHosts: ['127.0.0.1'] });

    await tool.execute({ url: first.url, headers: { Authorization: 'Bearer secret', 'X-Trace': '1' } }, context());

    expect(first.requests[0]?.headers.authorization).toBe('Bearer secret');
    expect(second.requests[0]?.headers.authorization).toBeUndefined();
    expect(second.requests[0]?.headers['x-trace']).toBe('1');
  });

  it('gives up after 5 redirects', async () => {
    const server = await startServer((_request, reply) => {
      reply.writeHead(302, { location: '/again' });
      reply.end();
    });
    const tool = createHttpRequestTool({ allowedHosts: ['127.0.0.1'] });

    await expect(tool.execute({ url: server.url }, context())).rejects.toMatchObject({
      code: 'AOS_TOOL_FAILED',
      message: expect.stringContaining('more than 5 redirects'),
    });
    expect(server.requests).toHaveLength(6);
  });

  it('truncates a body over maxResponseBytes and flags it', async () => {
    const server = await startServer((_request, reply) => {
      reply.end('a'.repeat(999).concat('é', 'b'.repeat(10_000)));
    });
    const tool = createHttpRequestTool({ allowedHosts: ['127.0.0.1'], maxResponseBytes: 1000 });

    const result = (await tool.execute({ url: server.url }, context())) as HttpRequestResult;

    // 'é' is two bytes and straddles the limit: it is dropped whole rather than left half.
    expect(result.body).toBe('a'.repeat(999));
    expect(result.truncated).toBe(true);
  });

  it('answers HEAD with an empty body', async () => {
    const server = await startServer(hello);
    const tool = createHttpRequestTool({ allowedHosts: ['127.0.0.1'] });

    const result = (await tool.execute({ url: server.url, method: 'HEAD' }, context())) as HttpRequestResult;

    expect(result).toMatchObject({ status: 200, body: '', truncated: false });
  });

  it('times out a server that does not answer', async () => {
    const server = await startServer(() => {
      // Never replies.
    });
    const tool = createHttpRequestTool({ allowedHosts: ['127.0.0.1'], timeoutMs: 150 });

    await expect(tool.execute({ url: server.url }, context())).rejects.toMatchObject({
      code: 'AOS_TOOL_FAILED',
      message: expect.stringContaining('did not answer within 150 ms'),
    });
  });

  it('stops when the run is cancelled', async () => {
    const server = await startServer(() => {
      // Never replies.
    });
    const controller = new AbortController();
    const tool = createHttpRequestTool({ allowedHosts: ['127.0.0.1'] });
    setTimeout(() => controller.abort(), 50);

    await expect(tool.execute({ url: server.url }, context(controller.signal))).rejects.toMatchObject({
      name: 'AbortError',
    });
  });

  it('reports a refused connection as a tool failure', async () => {
    const server = await startServer(hello);
    const port = server.port;
    await new Promise<void>((resolve) => (servers.pop() as Server).close(() => resolve()));
    const tool = createHttpRequestTool({ allowedHosts: ['127.0.0.1'] });

    await expect(tool.execute({ url: `http://127.0.0.1:${port}/` }, context())).rejects.toMatchObject({
      code: 'AOS_TOOL_FAILED',
    });
  });
});

describe('blockedAddressReason', () => {
  it.each([
    ['10.0.0.5', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'shared (CGNAT)'],
    ['127.0.0.1', 'loopback'],
    ['127.8.9.10', 'loopback'],
    ['169.254.169.254', 'link-local'],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['fd00::1', 'private'],
    ['fc00::1', 'private'],
    ['fe80::1%eth0', 'link-local'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'IPv4-mapped loopback'],
    ['::ffff:7f00:1', 'IPv4-mapped loopback'],
    ['::ffff:a9fe:a9fe', 'IPv4-mapped link-local'],
    ['64:ff9b::a00:5', 'NAT64 private'],
    ['2002:0a00:0005::1', '6to4 private'],
    ['not-an-ip', 'not an IP address'],
  ])('%s is %s', (address, reason) => {
    expect(blockedAddressReason(address)).toBe(reason);
  });

  it.each(['8.8.8.8', '172.32.0.1', '100.128.0.1', '93.184.216.34', '2606:4700:4700::1111', '::ffff:8.8.8.8'])(
    '%s is public',
    (address) => {
      expect(blockedAddressReason(address)).toBeNull();
    },
  );
});
