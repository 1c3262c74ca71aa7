import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ROOT_CONTEXT, SpanStatusCode, trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CachedEmbedder, contentHash, createEmbedderRegistry, createLocalEmbedder } from './index.js';

/** A scripted OpenAI-compatible `/v1/embeddings`: 3-dimension vectors derived from each input's length. */
interface EmbeddingsUpstream {
  url: string;
  requests: { model: string; input: string[] }[];
  close(): Promise<void>;
}

async function startEmbeddingsUpstream(): Promise<EmbeddingsUpstream> {
  const requests: { model: string; input: string[] }[] = [];
  const server: Server = createServer((request, response) => {
    let raw = '';
    request.on('data', (chunk) => {
      raw += chunk;
    });
    request.on('end', () => {
      if (request.url !== '/v1/embeddings') return void response.writeHead(404).end();
      const body = JSON.parse(raw) as { model: string; input: string[] };
      requests.push(body);
      response.setHeader('content-type', 'application/json');
      response.end(
        JSON.stringify({
          object: 'list',
          model: body.model,
          data: body.input.map((text, index) => ({ object: 'embedding', index, embedding: [text.length, 1, index] })),
          usage: { prompt_tokens: body.input.length, total_tokens: body.input.length },
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('embedders', () => {
  let upstream: EmbeddingsUpstream;
  beforeAll(async () => {
    upstream = await startEmbeddingsUpstream();
  });
  afterAll(async () => {
    await upstream?.close();
  });

  it('calls the OpenAI embeddings API at OPENAI_BASE_URL, once per distinct text, in batches', async () => {
    const registry = createEmbedderRegistry({ env: { OPENAI_API_KEY: 'test', OPENAI_BASE_URL: upstream.url } });
    const embedder = registry.get('openai:text-embedding-3-small');
    expect(registry.get('openai:text-embedding-3-small')).toBe(embedder);
    const texts = Array.from({ length: 100 }, (_, index) => `text ${index % 90}`);
    const vectors = await embedder.embed(texts);
    expect(vectors).toHaveLength(100);
    expect([...(vectors[5] as Float32Array)]).toEqual(['text 5'.length, 1, expect.any(Number)]);
    // 90 distinct texts in batches of 64: two requests, no text sent twice.
    expect(upstream.requests.map((request) => request.input.length)).toEqual([64, 26]);
    expect(upstream.requests[0]?.model).toBe('text-embedding-3-small');
    expect(embedder.stats).toEqual({ computed: 90, hits: 10 });
    await embedder.embed(['text 1', 'text 2']);
    expect(upstream.requests).toHaveLength(2);
  });

  it('asks the persistent lookup before the model', async () => {
    const asked: string[][] = [];
    const stored = new Float32Array([9, 9, 9]);
    const registry = createEmbedderRegistry({
      env: { OPENAI_API_KEY: 'test', OPENAI_BASE_URL: upstream.url },
      lookup: async (_embedder, hashes) => {
        asked.push([...hashes]);
        return new Map([[contentHash('stored'), stored]]);
      },
    });
    const before = upstream.requests.length;
    const [fromStore, computed] = await registry.get('openai:text-embedding-3-large').embed(['stored', 'fresh']);
    expect(fromStore).toBe(stored);
    expect([...(computed as Float32Array)]).toEqual(['fresh'.length, 1, 0]);
    expect(asked).toEqual([[contentHash('stored'), contentHash('fresh')]]);
    expect(upstream.requests.slice(before).map((request) => request.input)).toEqual([['fresh']]);
  });

  it('traces a call under its parent span with the tokens the provider billed, and none without a parent', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const tracer = provider.getTracer('test');
    const registry = createEmbedderRegistry({ env: { OPENAI_API_KEY: 'test', OPENAI_BASE_URL: upstream.url }, tracer });
    const embedder = registry.get('openai:text-embedding-3-small');
    await embedder.embed(['no parent']);
    expect(exporter.getFinishedSpans()).toHaveLength(0);

    const retrieval = tracer.startSpan('retrieval docs');
    const parent = trace.setSpan(ROOT_CONTEXT, retrieval);
    await embedder.embed(['alpha', 'beta', 'no parent'], { traceParent: parent });
    retrieval.end();
    const [span] = exporter.getFinishedSpans().filter((finished) => finished.name.startsWith('embeddings'));
    expect(span?.name).toBe('embeddings text-embedding-3-small');
    expect(span?.parentSpanContext?.spanId).toBe(retrieval.spanContext().spanId);
    expect(span?.attributes).toMatchObject({
      'gen_ai.operation.name': 'embeddings',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'text-embedding-3-small',
      // The scripted upstream bills one token per input; 'no parent' came from the cache.
      'gen_ai.usage.input_tokens': 2,
      'gen_ai.embeddings.dimension.count': 3,
      'agentos.embeddings.inputs': 3,
      'agentos.embeddings.cache_hits': 1,
    });
    expect(span?.status.code).toBe(SpanStatusCode.OK);
    await provider.shutdown();
  });

  it('refuses providers without embeddings and reports provider failures as AgentOsErrors', async () => {
    const registry = createEmbedderRegistry({ env: {} });
    expect(() => registry.get('anthropic:claude')).toThrow(/not an embedder/);
    const error = await registry
      .get('openai:text-embedding-3-small')
      .embed(['x'])
      .catch((caught: unknown) => caught);
    expect((error as { code?: string }).code).toBe('AOS_MODEL_NOT_CONFIGURED');
  });

  it('local:default embeds offline: paraphrases land closer than unrelated text', async () => {
    const embedder = new CachedEmbedder(createLocalEmbedder());
    const [car, automobile, lunch] = (await embedder.embed([
      'My car will not start in the cold.',
      'The automobile fails to start on freezing mornings.',
      'The cafeteria serves lunch at noon.',
    ])) as [Float32Array, Float32Array, Float32Array];
    expect(car).toHaveLength(512);
    const dot = (a: Float32Array, b: Float32Array) =>
      a.reduce((sum, value, index) => sum + value * (b[index] as number), 0);
    expect(dot(car, automobile)).toBeGreaterThan(dot(car, lunch) + 0.2);
  }, 30_000);
});
