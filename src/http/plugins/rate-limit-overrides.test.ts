import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/helpers.js';
import { parseConfig } from '../../config/index.js';

const AGENTS = [{ id: 'offline', model: 'local:default' }];
const KEYS = [
  { name: 'plain', key: 'plain-key-0123456789', scopes: ['admin'] },
  { name: 'vip', key: 'vip-key-0123456789', scopes: ['admin'] },
  { name: 'narrow', key: 'narrow-key-0123456789', scopes: ['admin'] },
];
const auth = (key: string) => ({ authorization: `Bearer ${key}` });

describe('per-key and per-route rate limits', () => {
  let test: TestApp;

  beforeAll(async () => {
    test = await buildTestApp({
      agents: AGENTS,
      auth: { api_keys: KEYS },
      rate_limits: {
        read: '4/h',
        message: '50/h',
        routes: { 'POST /agents/{agent_id}/runs': '3/h' },
        keys: {
          vip: { read: '6/h' },
          narrow: { routes: { 'POST /agents/{agent_id}/runs': { limit: 1, window_ms: 3_600_000 } } },
        },
      },
    });
  });
  afterAll(async () => {
    await test?.close();
  });

  async function burst(
    count: number,
    request: () => Promise<{ statusCode: number; headers: Record<string, unknown> }>,
  ) {
    const responses = [];
    for (let index = 0; index < count; index += 1) responses.push(await request());
    return responses;
  }

  const runAgent = (key: string) =>
    test.app.inject({
      method: 'POST',
      url: '/agents/offline/runs',
      headers: { ...auth(key), 'content-type': 'application/json' },
      payload: { message: 'hi' },
    });

  it('a route rule admits exactly its N in a burst and its headers report that rule', async () => {
    const responses = await burst(6, () => runAgent(KEYS[0]?.key ?? ''));
    expect(responses.map((response) => response.statusCode)).toEqual([200, 200, 200, 429, 429, 429]);
    for (const response of responses) expect(response.headers['x-ratelimit-limit']).toBe('3');
    expect(responses.map((response) => response.headers['x-ratelimit-remaining'])).toEqual([
      '2',
      '1',
      '0',
      '0',
      '0',
      '0',
    ]);
    expect(Number(responses[3]?.headers['retry-after'])).toBeGreaterThan(0);
  });

  it("a caller's own route rule wins over the route rule", async () => {
    const responses = await burst(3, () => runAgent(KEYS[2]?.key ?? ''));
    expect(responses.map((response) => response.statusCode)).toEqual([200, 429, 429]);
    for (const response of responses) expect(response.headers['x-ratelimit-limit']).toBe('1');
  });

  it("a caller's class rule wins over the class rule; others keep the class rule", async () => {
    const vip = await burst(8, () =>
      test.app.inject({ method: 'GET', url: '/config', headers: auth(KEYS[1]?.key ?? '') }),
    );
    expect(vip.filter((response) => response.statusCode === 200)).toHaveLength(6);
    expect(vip.map((response) => response.headers['x-ratelimit-limit'])).toEqual(Array(8).fill('6'));
    const plain = await burst(6, () =>
      test.app.inject({ method: 'GET', url: '/config', headers: auth(KEYS[0]?.key ?? '') }),
    );
    expect(plain.map((response) => response.statusCode)).toEqual([200, 200, 200, 200, 429, 429]);
    expect(plain[0]?.headers['x-ratelimit-limit']).toBe('4');
  });

  it('a route rule counts in its own bucket, apart from the class', async () => {
    // The plain key used up its route bucket above; another message-class route still admits it.
    const cancel = await test.app.inject({
      method: 'POST',
      url: '/agents/offline/runs/none/cancel',
      headers: auth(KEYS[0]?.key ?? ''),
    });
    expect(cancel.statusCode).not.toBe(429);
  });
});

describe('rate_limits config', () => {
  it('accepts routes in OpenAPI or Fastify form and rejects other shapes', () => {
    const config = parseConfig(
      { rate_limits: { routes: { 'POST /agents/{agent_id}/runs': '5/m', 'GET /sessions/:session_id': false } } },
      { source: 'test' },
    );
    expect(config.rate_limits ? config.rate_limits.routes : undefined).toEqual({
      'POST /agents/:agent_id/runs': { limit: 5, window_ms: 60_000 },
      'GET /sessions/:session_id': false,
    });
    expect(() => parseConfig({ rate_limits: { routes: { '/agents': '5/m' } } }, { source: 'test' })).toThrow(
      /invalid route/,
    );
    expect(() => parseConfig({ rate_limits: { keys: { k1: { reed: '5/m' } } } }, { source: 'test' })).toThrow(
      /did you mean "read"/,
    );
  });
});
