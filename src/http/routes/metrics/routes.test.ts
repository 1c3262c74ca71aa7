import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeOpenAI, startFakeOpenAI } from '../../../../test/fake-openai.js';
import { startTestServer } from '../../../../test/helpers.js';
import type { RunningServer } from '../../../main.js';

// biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field
type Json = any;

/** What a Prometheus 2.x scraper sends. */
const SCRAPER_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

describe('metrics', () => {
  let fake: FakeOpenAI;
  let server: RunningServer;

  const scrape = async (path = '/metrics', accept = SCRAPER_ACCEPT) => {
    const response = await fetch(`${server.url}${path}`, { headers: { accept } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return parsePrometheusTextFormat(await response.text());
  };
  const family = (families: ReturnType<typeof parsePrometheusTextFormat>, name: string) => {
    const found = families.find((entry) => entry.name === name);
    if (!found) throw new Error(`metric ${name} missing`);
    return found;
  };
  const run = async (agent: string, message: string, userId?: string): Promise<Json> => {
    const response = await fetch(`${server.url}/agents/${agent}/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message, ...(userId ? { user_id: userId } : {}) }),
    });
    expect(response.status).toBe(200);
    return response.json();
  };

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    server = await startTestServer({
      env: { OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'test-key' },
      config: {
        agents: [
          { id: 'calc', name: 'Calc', model: 'openai:gpt-4o-mini', tools: ['calculator'] },
          { id: 'pricey', name: 'Pricey', model: 'openai:house-model' },
          { id: 'daily', name: 'Daily', model: 'openai:daily-model' },
        ],
        pricing: {
          'openai:house-model': { input_per_million: 3, output_per_million: 12.5 },
          'openai:daily-model': { input_per_million: 3, output_per_million: 12.5 },
        },
      },
    });
  });
  afterAll(async () => {
    await server?.close();
    await fake?.close();
  });
  beforeEach(() => fake.reset());

  it('exposes a request histogram that a Prometheus parser reads and that counts the requests made', async () => {
    // The parser folds every labelled series of a histogram into one, so each series is parsed on its own.
    const healthCount = (text: string) => {
      const lines = text.split('\n');
      const series = lines.filter(
        (line) =>
          line.startsWith('# HELP api_request_duration_ms ') ||
          line.startsWith('# TYPE api_request_duration_ms ') ||
          line.startsWith('api_request_duration_ms_bucket{route="/health",method="GET",status="200",'),
      );
      if (series.length <= 2) return { count: 0, buckets: {} as Record<string, string> };
      const [histogram] = parsePrometheusTextFormat(`${series.join('\n')}\n`);
      expect(histogram?.type).toBe('HISTOGRAM');
      const buckets = histogram?.metrics[0]?.buckets ?? {};
      return { count: Number(buckets['+Inf']), buckets };
    };
    const scrapeText = async () => {
      const response = await fetch(`${server.url}/metrics`, { headers: { accept: SCRAPER_ACCEPT } });
      const text = await response.text();
      // The whole exposition parses (the parser throws on a malformed line).
      expect(parsePrometheusTextFormat(text).length).toBeGreaterThan(5);
      return text;
    };
    const before = healthCount(await scrapeText());
    for (let i = 0; i < 5; i++) expect((await fetch(`${server.url}/health`)).status).toBe(200);
    expect((await fetch(`${server.url}/no/such/route`)).status).toBe(404);

    const text = await scrapeText();
    const after = healthCount(text);
    expect(after.count).toBe(before.count + 5);
    // Buckets are cumulative: never decreasing towards +Inf.
    const counts = Object.values(after.buckets).map(Number);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    expect(text).toContain(`api_request_duration_ms_count{route="/health",method="GET",status="200"} ${after.count}`);
    expect(text).toMatch(/api_request_duration_ms_count\{route="unmatched",method="GET",status="404"\} [1-9]/);
    // The scrape itself is counted, by its route template.
    expect(text).toContain('api_request_duration_ms_count{route="/metrics",method="GET",status="200"}');
  });

  it('answers JSON to clients that do not ask for text, and text at /api/metrics', async () => {
    const plain = await fetch(`${server.url}/metrics`);
    expect(plain.headers.get('content-type')).toMatch(/application\/json/);
    expect(await plain.json()).toMatchObject({ metrics: expect.any(Array) });
    const browser = await fetch(`${server.url}/metrics`, { headers: { accept: 'application/json, text/plain, */*' } });
    expect(browser.headers.get('content-type')).toMatch(/application\/json/);
    const families = await scrape('/api/metrics', 'application/json');
    expect(families.map((entry) => entry.name)).toEqual(
      expect.arrayContaining(['api_request_duration_ms', 'function_error_total', 'agentos_runs_total']),
    );
  });

  it('counts runs, tokens, cost and failed tool calls', async () => {
    fake.script(
      {
        toolCalls: [{ name: 'calculator', arguments: { expression: '1/0' } }],
        usage: { prompt_tokens: 7, completion_tokens: 3 },
      },
      { text: 'Cannot divide by zero.', usage: { prompt_tokens: 9, completion_tokens: 5 } },
      { text: 'Pricey answer.', usage: { prompt_tokens: 1000, completion_tokens: 400 } },
    );
    expect((await run('calc', 'What is 1/0?')).status).toBe('completed');
    expect((await run('pricey', 'Hello')).status).toBe('completed');
    const families = await scrape();
    const errors = family(families, 'function_error_total').metrics;
    expect(errors).toContainEqual(
      expect.objectContaining({ labels: { function_id: 'calculator', error_type: 'AgentOsError' } }),
    );
    const completed = family(families, 'agentos_runs_total').metrics.find(
      (metric) => metric.labels?.status === 'completed' && metric.labels.component_type === 'agent',
    );
    expect(Number(completed?.value)).toBeGreaterThanOrEqual(2);
    const tokens = family(families, 'agentos_tokens_total').metrics;
    expect(tokens).toContainEqual({ labels: { model: 'openai:house-model', type: 'input' }, value: '1000' });
    expect(tokens).toContainEqual({ labels: { model: 'openai:house-model', type: 'output' }, value: '400' });
    const cost = family(families, 'agentos_cost_usd_total').metrics.find(
      (metric) => metric.labels?.model === 'openai:house-model',
    );
    expect(Number(cost?.value)).toBeCloseTo((1000 * 3 + 400 * 12.5) / 1e6, 12);
    expect(family(families, 'agentos_active_runs').metrics[0]?.value).toBe('0');
  });

  it('computes daily aggregates whose cost is tokens × the configured price', async () => {
    fake.script(
      { text: 'One.', usage: { prompt_tokens: 120, completion_tokens: 30 } },
      { text: 'Two.', usage: { prompt_tokens: 80, completion_tokens: 20 } },
    );
    const first = await run('daily', 'first', 'ann');
    const second = await run('daily', 'second', 'bob');
    const refresh = await fetch(`${server.url}/metrics/refresh`, { method: 'POST' });
    expect(refresh.status).toBe(200);
    const days = (await refresh.json()) as Json[];
    const today = new Date().toISOString().slice(0, 10);
    const day = days.find((entry) => entry.date === today);
    const model = day.model_metrics.find((entry: Json) => entry.model_id === 'daily-model');
    const inputTokens = first.metrics.input_tokens + second.metrics.input_tokens;
    const outputTokens = first.metrics.output_tokens + second.metrics.output_tokens;
    expect(model).toMatchObject({ model_provider: 'openai', input_tokens: 200, output_tokens: 50, priced: true });
    expect(inputTokens).toBe(200);
    expect(model.cost).toBeCloseTo((inputTokens * 3 + outputTokens * 12.5) / 1e6, 12);
    const users = Object.fromEntries(day.user_metrics.map((entry: Json) => [entry.user_id, entry.cost]));
    expect(users.ann).toBeCloseTo((120 * 3 + 30 * 12.5) / 1e6, 12);
    expect(users.bob).toBeCloseTo((80 * 3 + 20 * 12.5) / 1e6, 12);
    expect(day.agent_metrics).toContainEqual(
      expect.objectContaining({ component_type: 'agent', component_id: 'daily', runs: 2 }),
    );
    expect(day.agent_runs_count).toBeGreaterThanOrEqual(2);

    const stored: Json = await (
      await fetch(`${server.url}/metrics?starting_date=${today}&ending_date=${today}`)
    ).json();
    expect(stored.metrics).toHaveLength(1);
    expect(stored.metrics[0].token_metrics.cost).toBe(day.token_metrics.cost);
    expect(await (await fetch(`${server.url}/metrics/refresh/status`)).json()).toMatchObject({ status: 'completed' });
    const background = await fetch(`${server.url}/metrics/refresh?background=true`, { method: 'POST' });
    expect(background.status).toBe(202);
  });

  it('reports latency percentiles at /health/metrics', async () => {
    const body: Json = await (await fetch(`${server.url}/health/metrics`)).json();
    expect(body.requests.total).toBeGreaterThan(0);
    expect(body.latency.p50).toBeGreaterThan(0);
    expect(body.latency.p50).toBeLessThanOrEqual(body.latency.p95);
    expect(body.latency.p95).toBeLessThanOrEqual(body.latency.p99);
    expect(body.runs.active).toBe(0);
  });

  it('refuses bad dates with 422', async () => {
    expect((await fetch(`${server.url}/metrics?starting_date=yesterday`)).status).toBe(422);
  });
});
