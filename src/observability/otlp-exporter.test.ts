import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp } from '../../test/helpers.js';

describe('OTLP export', () => {
  let collector: Server;
  let endpoint: string;
  const bodies: Array<{ headers: Record<string, unknown>; body: unknown }> = [];

  beforeAll(async () => {
    collector = createServer((request, response) => {
      let text = '';
      request.on('data', (chunk) => {
        text += chunk;
      });
      request.on('end', () => {
        bodies.push({ headers: request.headers, body: JSON.parse(text) });
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    const address = collector.address() as { port: number };
    endpoint = `http://127.0.0.1:${address.port}/v1/traces`;
  });
  afterAll(async () => {
    await new Promise((resolve) => collector.close(resolve));
  });

  it('posts the spans of a run as OTLP/JSON with the configured headers, besides storing them', async () => {
    const test = await buildTestApp({
      agents: [{ id: 'helper', name: 'Helper', model: 'local:default' }],
      tracing: { otlp: { endpoint, headers: { 'x-collector-token': 'secret' } } },
    });
    try {
      const run = await test.app.inject({ method: 'POST', url: '/agents/helper/runs', payload: { message: 'hello' } });
      expect(run.statusCode).toBe(200);
      await test.services.observability.flush();
      const spans = bodies.flatMap(
        (entry) =>
          (entry.body as { resourceSpans: { scopeSpans: { spans: Record<string, unknown>[] }[] }[] }).resourceSpans[0]
            ?.scopeSpans[0]?.spans ?? [],
      );
      const agent = spans.find((span) => span.name === 'invoke_agent Helper');
      const chat = spans.find((span) => String(span.name).startsWith('chat '));
      expect(agent).toMatchObject({ kind: 1, status: { code: 1 } });
      expect(String(agent?.traceId)).toMatch(/^[0-9a-f]{32}$/);
      expect(chat?.parentSpanId).toBe(agent?.spanId);
      expect(BigInt(String(chat?.endTimeUnixNano))).toBeGreaterThanOrEqual(BigInt(String(chat?.startTimeUnixNano)));
      expect(agent?.attributes).toContainEqual({
        key: 'gen_ai.operation.name',
        value: { stringValue: 'invoke_agent' },
      });
      expect(bodies[0]?.headers['x-collector-token']).toBe('secret');
      const stored = await test.app.inject({ method: 'GET', url: `/traces/${String(agent?.traceId)}` });
      expect(stored.statusCode).toBe(200);
    } finally {
      await test.close();
    }
  });
});
