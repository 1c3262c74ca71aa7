import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestServer } from '../../../test/helpers.js';
import type { AgentOsConfigInput } from '../../config/index.js';
import type { RunningServer } from '../../main.js';

const KEY = 'rate-limit-test-key';
const AUTH = { authorization: `Bearer ${KEY}` };
const AGENTS: AgentOsConfigInput['agents'] = [{ id: 'offline', model: 'local:default' }];

// biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field
const json = async (response: Response): Promise<any> => response.json();

interface Sample {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: asserted field by field
  body: any;
}

async function sample(response: Response): Promise<Sample> {
  return { status: response.status, headers: response.headers, body: await response.json() };
}

describe('rate limits over real HTTP', () => {
  let server: RunningServer;

  beforeAll(async () => {
    server = await startTestServer({
      env: { AGENTOS_API_KEY: KEY },
      config: { rate_limits: { read: '50/h', message: '5/h' }, agents: AGENTS },
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('admits exactly the limit of a 2,000-request burst from 20 concurrent clients', async () => {
    const clients = 20;
    const perClient = 100;
    const results: Sample[] = [];
    await Promise.all(
      Array.from({ length: clients }, async () => {
        for (let index = 0; index < perClient; index += 1) {
          results.push(await sample(await fetch(`${server.url}/config`, { headers: AUTH })));
        }
      }),
    );
    expect(results).toHaveLength(2000);
    const admitted = results.filter((result) => result.status === 200);
    const refused = results.filter((result) => result.status === 429);
    expect(admitted).toHaveLength(50);
    expect(refused).toHaveLength(1950);

    for (const result of results) expect(result.headers.get('x-ratelimit-limit')).toBe('50');
    // Each admission left one fewer: the remaining counts are 49 … 0, each exactly once.
    const remaining = admitted.map((result) => Number(result.headers.get('x-ratelimit-remaining')));
    expect(remaining.sort((left, right) => right - left)).toEqual(Array.from({ length: 50 }, (_, index) => 49 - index));
    for (const result of admitted) {
      expect(Number(result.headers.get('x-ratelimit-reset'))).toBeGreaterThan(0);
      expect(Number(result.headers.get('x-ratelimit-reset'))).toBeLessThanOrEqual(3600);
    }

    for (const result of refused) {
      const retryAfter = Number(result.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(result.body.retryAfter).toBe(retryAfter);
      expect(result.body).toMatchObject({ detail: 'Too many requests', code: 'AOS_RATE_LIMITED' });
      expect(result.headers.get('x-ratelimit-remaining')).toBe('0');
      // The bucket is full again one window after the burst (less the seconds the burst took).
      expect(Number(result.headers.get('x-ratelimit-reset'))).toBeGreaterThan(3500);
      expect(Number(result.headers.get('x-ratelimit-reset'))).toBeLessThanOrEqual(3600);
    }
    // One request per 72 s refills (3600 s / 50): the next one is at most that far away.
    expect(Math.max(...refused.map((result) => result.body.retryAfter))).toBeLessThanOrEqual(72);
  });

  it('answers 429 in the /api shape with retryAfter', async () => {
    const response = await fetch(`${server.url}/api/security/audit`, { headers: AUTH });
    expect(response.status).toBe(429);
    const body = await json(response);
    expect(body).toMatchObject({ error: 'Too many requests', code: 'AOS_RATE_LIMITED' });
    expect(body.retryAfter).toBe(Number(response.headers.get('retry-after')));
    expect(body.detail).toBeUndefined();
  });

  it('answers 429 on /v1 in the OpenAI shape with Retry-After', async () => {
    const response = await fetch(`${server.url}/v1/x`, { headers: AUTH });
    expect(response.status).toBe(429);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const body = await json(response);
    expect(body.error).toMatchObject({ type: 'rate_limit_exceeded', code: 'AOS_RATE_LIMITED' });
  });

  it('counts the message class apart from read', async () => {
    const statuses: number[] = [];
    const remaining: (string | null)[] = [];
    for (let index = 0; index < 7; index += 1) {
      const response = await fetch(`${server.url}/agents/offline/runs`, {
        method: 'POST',
        headers: { ...AUTH, 'content-type': 'application/json' },
        body: JSON.stringify({ message: `hello ${index}` }),
      });
      statuses.push(response.status);
      remaining.push(response.headers.get('x-ratelimit-remaining'));
      expect(response.headers.get('x-ratelimit-limit')).toBe('5');
      await response.arrayBuffer();
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
    expect(remaining).toEqual(['4', '3', '2', '1', '0', '0', '0']);
  });

  it('counts other writes in the write class', async () => {
    const response = await fetch(`${server.url}/agents/offline/runs/nope/cancel`, { method: 'POST', headers: AUTH });
    expect(response.status).not.toBe(429);
    expect(response.headers.get('x-ratelimit-limit')).toBe('100');
  });

  it('never limits public routes or preflights', async () => {
    for (let index = 0; index < 300; index += 1) {
      const response = await fetch(`${server.url}/health`);
      expect(response.status).toBe(200);
      expect(response.headers.get('x-ratelimit-limit')).toBeNull();
      await response.arrayBuffer();
    }
    expect((await fetch(`${server.url}/api/health`)).status).toBe(200);
    const preflight = await fetch(`${server.url}/config`, {
      method: 'OPTIONS',
      headers: { origin: 'https://example.com', 'access-control-request-method': 'GET' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('x-ratelimit-limit')).toBeNull();
  });

  describe('when the limiter store fails', () => {
    let original: typeof server.services.store.rateLimits.consume;
    beforeAll(() => {
      original = server.services.store.rateLimits.consume;
    });
    afterEach(() => {
      server.services.store.rateLimits.consume = original;
    });

    it('refuses with 503 instead of admitting', async () => {
      server.services.store.rateLimits.consume = async () => {
        throw new Error('database is locked');
      };
      for (const path of ['/agents/offline/runs/nope/cancel', '/api/security/audit']) {
        const response = await fetch(`${server.url}${path}`, {
          method: path.endsWith('cancel') ? 'POST' : 'GET',
          headers: AUTH,
        });
        expect(response.status).toBe(503);
        expect((await json(response)).code).toBe('AOS_RATE_LIMITER_UNAVAILABLE');
      }
      const health = await fetch(`${server.url}/health`);
      expect(health.status).toBe(200);
    });
  });
});

describe('rate limit timing and keys', () => {
  const servers: RunningServer[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.close();
  });
  const start = async (config: AgentOsConfigInput, env: Record<string, string> = { AGENTOS_API_KEY: KEY }) => {
    const server = await startTestServer({ env, config });
    servers.push(server);
    return server;
  };

  it('Retry-After is accurate to one second', async () => {
    // 2 per 4 s: one request every 2 s after the burst.
    const server = await start({ rate_limits: { read: { limit: 2, window_ms: 4000 } } });
    const get = () => fetch(`${server.url}/config`, { headers: AUTH });
    expect((await get()).status).toBe(200);
    expect((await get()).status).toBe(200);
    const refused = await get();
    const refusedAt = Date.now();
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBe(2);
    expect((await json(refused)).retryAfter).toBe(2);
    expect(refused.headers.get('x-ratelimit-reset')).toBe('4');
    let admittedAt: number | undefined;
    while (admittedAt === undefined) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      const response = await get();
      await response.arrayBuffer();
      if (response.status === 200) admittedAt = Date.now();
      else expect(response.status).toBe(429);
      if (Date.now() - refusedAt > 10_000) throw new Error('never admitted again');
    }
    const waited = (admittedAt - refusedAt) / 1000;
    expect(Math.abs(waited - retryAfter)).toBeLessThanOrEqual(1);
  });

  it('keys unauthenticated (dev mode) callers by client address, X-Forwarded-For only behind a trusted proxy', async () => {
    const direct = await start({ rate_limits: { read: '2/h' } }, {});
    const fromDirect = async (forwarded: string) =>
      (await fetch(`${direct.url}/config`, { headers: { 'x-forwarded-for': forwarded } })).status;
    expect([await fromDirect('10.0.0.1'), await fromDirect('10.0.0.2'), await fromDirect('10.0.0.3')]).toEqual([
      200, 200, 429,
    ]);

    const proxied = await start({ server: { trust_proxy: true }, rate_limits: { read: '2/h' } }, {});
    const fromProxied = async (forwarded: string) =>
      (await fetch(`${proxied.url}/config`, { headers: { 'x-forwarded-for': forwarded } })).status;
    expect([await fromProxied('10.0.0.1'), await fromProxied('10.0.0.1'), await fromProxied('10.0.0.1')]).toEqual([
      200, 200, 429,
    ]);
    expect(await fromProxied('10.0.0.2')).toBe(200);
  });

  it('keeps separate buckets per principal', async () => {
    const server = await start({
      rate_limits: { read: '1/h' },
      auth: { api_keys: [{ name: 'other', key: 'other-key', scopes: ['config:read'] }] },
    });
    const get = (key: string) => fetch(`${server.url}/config`, { headers: { authorization: `Bearer ${key}` } });
    expect((await get(KEY)).status).toBe(200);
    expect((await get(KEY)).status).toBe(429);
    expect((await get('other-key')).status).toBe(200);
  });

  it('counts every run started over a WebSocket in the message class', async () => {
    const server = await start({ rate_limits: { message: '1/h' }, agents: AGENTS });
    const socket = new WebSocket(`${server.url.replace('http', 'ws')}/ws/agents/offline?token=${KEY}`);
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    const frames: Record<string, unknown>[] = [];
    const next = (predicate: (frame: Record<string, unknown>) => boolean) =>
      new Promise<Record<string, unknown>>((resolve) => {
        const onMessage = (data: unknown) => {
          const frame = JSON.parse(String(data)) as Record<string, unknown>;
          frames.push(frame);
          if (predicate(frame)) {
            socket.off('message', onMessage);
            resolve(frame);
          }
        };
        socket.on('message', onMessage);
      });
    const completed = next((frame) => frame.event === 'RunCompleted');
    socket.send(JSON.stringify({ message: 'first' }));
    await completed;
    const refused = next((frame) => frame.event === 'error');
    socket.send(JSON.stringify({ message: 'second' }));
    expect(await refused).toMatchObject({ code: 'AOS_RATE_LIMITED' });
    socket.close();
  });

  it('is off with rate_limits: false, and per class with false', async () => {
    const off = await start({ rate_limits: false });
    const response = await fetch(`${off.url}/config`, { headers: AUTH });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-ratelimit-limit')).toBeNull();

    const readOff = await start({ rate_limits: { read: false, write: '1/h' } });
    for (let index = 0; index < 5; index += 1) {
      const read = await fetch(`${readOff.url}/config`, { headers: AUTH });
      expect(read.status).toBe(200);
      expect(read.headers.get('x-ratelimit-limit')).toBeNull();
    }
    const write = await fetch(`${readOff.url}/databases/all/migrate`, { method: 'POST', headers: AUTH });
    expect(write.headers.get('x-ratelimit-limit')).toBe('1');
  });
});
