/**
 * Per-key rate-limit rules and quota overrides name keys, never other callers (security review,
 * finding 7): a JWT whose `sub` equals a config key's name gets neither that key's rules nor its
 * budget, and its usage is counted apart from the key's.
 */
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/helpers.js';
import { utcDay } from '../../quotas/utc-day.js';

const SECRET = 'caller-subject-test-secret-0123456789abcdef';
const VIP_KEY = 'caller-subject-vip-key-0123456789';

function sign(claims: Record<string, unknown>): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode(SECRET));
}

describe('rate_limits.keys and quotas.keys match keys only', () => {
  let test: TestApp;
  let impostor: string;

  beforeAll(async () => {
    test = await buildTestApp({
      agents: [{ id: 'offline', model: 'local:default' }],
      auth: { jwt: { secret: SECRET }, api_keys: [{ name: 'vip', key: VIP_KEY, scopes: ['admin'] }] },
      rate_limits: { read: '2/h', keys: { vip: { read: '6/h' } } },
      quotas: { per_key: { daily_tokens: 10 }, keys: { vip: false } },
    });
    impostor = await sign({ sub: 'vip', role: 'editor' });
  });
  afterAll(async () => {
    await test?.close();
  });

  const get = (token: string) =>
    test.app.inject({ method: 'GET', url: '/config', headers: { authorization: `Bearer ${token}` } });
  const run = (token: string) =>
    test.app.inject({
      method: 'POST',
      url: '/agents/offline/runs',
      headers: { authorization: `Bearer ${token}` },
      payload: { message: 'hi' },
    });
  const use = (principal: string) =>
    test.services.store.usage.add({
      day: utcDay(Date.now()),
      workspaceId: 'default',
      principal,
      agentId: 'offline',
      modelId: 'local:default',
      inputTokens: 1000,
      outputTokens: 0,
      costUsd: 0,
    });

  it('a JWT named like a key gets the class rule, the key its own', async () => {
    expect((await get(impostor)).headers['x-ratelimit-limit']).toBe('2');
    expect((await get(VIP_KEY)).headers['x-ratelimit-limit']).toBe('6');
  });

  it('a JWT named like an exempt key has the default budget, and usage is counted per kind of caller', async () => {
    await use('config_key:vip');
    // The key is exempt and its usage is its own: the JWT of the same name is not charged with it.
    expect((await run(VIP_KEY)).statusCode).toBe(200);
    expect((await run(impostor)).statusCode).toBe(200);
    await use('jwt:vip');
    const refused = await run(impostor);
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toMatchObject({ code: 'AOS_QUOTA_EXCEEDED' });
    expect((await run(VIP_KEY)).statusCode).toBe(200);
  });
});
