/**
 * `tracing.sample_rate`: head sampling by trace id. A run's trace is stored whole or not at all, and the
 * share of runs traced follows the rate (with the local model, over the real app).
 */
import { describe, expect, it } from 'vitest';
import { buildTestApp } from '../../test/helpers.js';

async function tracedRuns(sampleRate: number, runs: number) {
  const test = await buildTestApp({
    agents: [{ id: 'assistant', name: 'Assistant', model: 'local:default' }],
    tracing: { sample_rate: sampleRate },
  });
  try {
    for (let index = 0; index < runs; index++) {
      const response = await test.app.inject({
        method: 'POST',
        url: '/agents/assistant/runs',
        payload: { message: `hello ${index}` },
      });
      expect(response.statusCode).toBe(200);
    }
    const listed = await test.app.inject({ method: 'GET', url: '/traces?limit=100' });
    const body = listed.json() as {
      traces: { trace_id: string; total_spans: number }[];
      meta: { total_count: number };
    };
    return body;
  } finally {
    await test.close();
  }
}

describe('tracing.sample_rate', () => {
  it('records every run at 1 and none at 0', async () => {
    expect((await tracedRuns(1, 5)).meta.total_count).toBe(5);
    expect((await tracedRuns(0, 5)).meta.total_count).toBe(0);
  });

  it('records about the given share of runs, each trace whole', async () => {
    const { traces, meta } = await tracedRuns(0.5, 60);
    // Binomial(60, 0.5): outside 12..48 once in about ten million runs of this test.
    expect(meta.total_count).toBeGreaterThanOrEqual(12);
    expect(meta.total_count).toBeLessThanOrEqual(48);
    // The agent span and its model span: a sampled trace keeps both.
    for (const trace of traces) expect(trace.total_spans).toBe(2);
  });
});
