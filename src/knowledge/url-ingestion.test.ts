import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer } from '../../test/helpers.js';
import type { RunningServer } from '../main.js';

// biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field
const json = async (response: Response): Promise<any> => response.json();

async function listen(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; port: number }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

describe('URL ingestion through the SSRF guard', () => {
  let server: RunningServer;
  let site: { server: Server; port: number };
  let secret: { server: Server; port: number };
  let secretHits = 0;
  // `/held.txt` answers only once the test releases it: content stays `processing` meanwhile.
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });

  beforeAll(async () => {
    secret = await listen((_request, response) => {
      secretHits += 1;
      response.end('internal admin token');
    });
    site = await listen((request, response) => {
      if (request.url === '/doc.html') {
        response.setHeader('content-type', 'text/html');
        response.end('<html><body><h1>Lighthouse</h1><p>The lighthouse lamp rotates twice a minute.</p></body></html>');
      } else if (request.url === '/held.txt') {
        void held.then(() => {
          response.setHeader('content-type', 'text/plain');
          response.end('Obsidian shelf inventory, counted by hand.');
        });
      } else if (request.url === '/to-loopback') {
        response.writeHead(302, { location: `http://127.0.0.1:${secret.port}/` }).end();
      } else if (request.url === '/to-metadata') {
        response.writeHead(301, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
      } else if (request.url === '/to-private') {
        response.writeHead(307, { location: 'http://10.1.2.3/' }).end();
      } else response.writeHead(404).end();
    });
    server = await startTestServer({
      config: {
        knowledge: [{ id: 'web', name: 'Web' }],
        // The operator allows this one test site (port-pinned); nothing else internal.
        builtin_tools: { http_request: { allowed_hosts: [`127.0.0.1:${site.port}`], timeout_ms: 2000 } },
      },
    });
  });
  afterAll(async () => {
    await server?.close();
    await new Promise((resolve) => site?.server.close(resolve));
    await new Promise((resolve) => secret?.server.close(resolve));
  });

  async function ingest(url: string) {
    const response = await fetch(`${server.url}/knowledge/content`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url }),
    });
    expect(response.status).toBe(202);
    const { id } = await json(response);
    for (;;) {
      const status = await json(await fetch(`${server.url}/knowledge/content/${id}/status`));
      if (status.status !== 'processing') return status as { status: string; status_message: string | null };
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  it('ingests a page from an allowed host', async () => {
    expect(await ingest(`http://127.0.0.1:${site.port}/doc.html`)).toMatchObject({ status: 'completed' });
    const hits = await json(
      await fetch(`${server.url}/knowledge/search`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: 'lighthouse lamp', search_type: 'keyword' }),
      }),
    );
    expect(hits.data[0].content).toContain('The lighthouse lamp rotates twice a minute.');
  });

  it('stamps the chunks with metadata patched while the content was still being ingested', async () => {
    const post = (path: string, method: string, body: unknown) =>
      fetch(`${server.url}${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const accepted = await json(
      await post('/knowledge/content', 'POST', {
        url: `http://127.0.0.1:${site.port}/held.txt`,
        metadata: { shelf: 'a' },
      }),
    );
    const patched = await post(`/knowledge/content/${accepted.id}`, 'PATCH', { metadata: { shelf: 'b' } });
    expect(await json(patched)).toMatchObject({ status: 'processing', metadata: { shelf: 'b' } });
    release();
    for (;;) {
      const status = await json(await fetch(`${server.url}/knowledge/content/${accepted.id}/status`));
      if (status.status !== 'processing') break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const search = async (shelf: string) =>
      (
        await json(
          await post('/knowledge/search', 'POST', {
            query: 'obsidian shelf',
            search_type: 'keyword',
            filters: { shelf },
          }),
        )
      ).data as { content_id: string }[];
    expect((await search('b')).map((hit) => hit.content_id)).toEqual([accepted.id]);
    expect(await search('a')).toEqual([]);
  });

  it.each([
    ['loopback', `http://127.0.0.1:1/`, /loopback/],
    ['private 10.x', 'http://10.0.0.7/doc.txt', /private/],
    ['cloud metadata', 'http://169.254.169.254/latest/meta-data/', /link-local/],
  ])('refuses a %s URL', async (_name, url, reason) => {
    const status = await ingest(url);
    expect(status.status).toBe('failed');
    expect(status.status_message).toMatch(reason);
  });

  it.each([
    ['loopback', '/to-loopback', /loopback/],
    ['cloud metadata', '/to-metadata', /link-local/],
    ['private 10.x', '/to-private', /private/],
  ])('refuses a redirect to a %s address', async (_name, path, reason) => {
    const status = await ingest(`http://127.0.0.1:${site.port}${path}`);
    expect(status.status).toBe('failed');
    expect(status.status_message).toMatch(reason);
    expect(secretHits).toBe(0);
  });
});
