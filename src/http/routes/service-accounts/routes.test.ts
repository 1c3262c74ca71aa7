import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../../test/helpers.js';

const SECRET = 'service-accounts-test-secret-0123456789abcdef';

function sign(claims: Record<string, unknown>): Promise<string> {
  return new SignJWT({ sub: 'alice', ...claims })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode(SECRET));
}

// biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field
type Json = any;

describe('/service-accounts', () => {
  let test: TestApp;
  let admin: string;
  let editor: string;
  let otherAdmin: string;

  async function call(token: string, method: string, url: string, payload?: unknown) {
    const response = await test.app.inject({
      method: method as 'GET',
      url,
      headers: { authorization: `Bearer ${token}` },
      ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
    });
    return { status: response.statusCode, body: (response.body === '' ? null : response.json()) as Json };
  }

  beforeAll(async () => {
    test = await buildTestApp({
      agents: [{ id: 'assistant', name: 'Assistant', model: 'local:default' }],
      auth: { jwt: { secret: SECRET } },
    });
    admin = await sign({ role: 'admin', workspace_id: 'w1' });
    editor = await sign({ role: 'editor', workspace_id: 'w1' });
    otherAdmin = await sign({ role: 'admin', workspace_id: 'w2' });
  });
  afterAll(async () => {
    await test.close();
  });

  it('creates an account whose token authenticates with its role, once shown', async () => {
    const created = await call(admin, 'POST', '/service-accounts', { name: 'ci-bot', role: 'viewer' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'ci-bot', role: 'viewer', workspace_id: 'w1', created_by: 'alice' });
    expect(created.body.token).toMatch(/^aos_/);
    expect(created.body.token_info.expires_at).toBeGreaterThan(Date.now() / 1000 + 89 * 86_400);
    const token = created.body.token as string;
    expect((await call(token, 'GET', '/sessions')).status).toBe(200);
    expect((await call(token, 'DELETE', '/sessions/nope')).status).toBe(403);
    expect((await call(token, 'GET', '/service-accounts')).status).toBe(403);
    const got = await call(admin, 'GET', `/service-accounts/${created.body.id}`);
    expect(got.body).not.toHaveProperty('token');
    expect(JSON.stringify((await call(admin, 'GET', '/service-accounts')).body)).not.toContain(token);
  });

  it('defaults to Agno’s run-and-read scopes and accepts {scope, effect} entries', async () => {
    const plain = await call(admin, 'POST', '/service-accounts', { name: 'plain' });
    expect(plain.body.scopes).toEqual(['agents:run', 'teams:run', 'workflows:run', 'sessions:read', 'config:read']);
    const shaped = await call(admin, 'POST', '/service-accounts', {
      name: 'shaped',
      scopes: [{ scope: 'agents:assistant:run', effect: 'allow' }, 'sessions:read'],
      never_expires: true,
    });
    expect(shaped.status).toBe(201);
    expect(shaped.body.scopes).toEqual(['agents:assistant:run', 'sessions:read']);
    expect(shaped.body.token_info.expires_at).toBeNull();
  });

  it('refuses privileged grants without allow_privileged_scopes, and any grant beyond the caller', async () => {
    const unflagged = await call(admin, 'POST', '/service-accounts', { name: 'writer', role: 'editor' });
    expect(unflagged).toMatchObject({ status: 403, body: { code: 'AOS_SCOPE_ESCALATION' } });
    const flagged = { name: 'x', allow_privileged_scopes: true };
    expect((await call(admin, 'POST', '/service-accounts', { ...flagged, role: 'editor' })).status).toBe(201);
    expect((await call(admin, 'POST', '/service-accounts', { ...flagged, role: 'owner' })).status).toBe(403);
    expect((await call(admin, 'POST', '/service-accounts', { ...flagged, scopes: ['admin'] })).status).toBe(403);
    expect((await call(editor, 'POST', '/service-accounts', { name: 'e' })).status).toBe(403);
    expect((await call(editor, 'GET', '/service-accounts')).status).toBe(403);
  });

  it('refuses to mint, revoke, rename or delete for an account holding more than the caller', async () => {
    const superAdmin = await sign({ scopes: ['admin'], workspace_id: 'w1' });
    const created = await call(superAdmin, 'POST', '/service-accounts', {
      name: 'root-bot',
      scopes: ['admin'],
      allow_privileged_scopes: true,
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const refused = { status: 403, body: { code: 'AOS_SCOPE_ESCALATION' } };
    expect(await call(admin, 'POST', `/service-accounts/${id}/tokens`, {})).toMatchObject(refused);
    expect(await call(admin, 'DELETE', `/service-accounts/${id}/tokens/${created.body.token_info.id}`)).toMatchObject(
      refused,
    );
    expect(await call(admin, 'PATCH', `/service-accounts/${id}`, { name: 'renamed' })).toMatchObject(refused);
    expect(await call(admin, 'DELETE', `/service-accounts/${id}`)).toMatchObject(refused);
    const tokens = await call(superAdmin, 'GET', `/service-accounts/${id}/tokens`);
    expect(tokens.body.data).toHaveLength(1);
    expect((await call(created.body.token, 'GET', '/sessions')).status).toBe(200);
    expect((await call(superAdmin, 'POST', `/service-accounts/${id}/tokens`, {})).status).toBe(201);
  });

  it('answers bad input with 4xx', async () => {
    for (const body of [
      { name: 'Not A Slug' },
      { name: 'a'.repeat(64) },
      { name: 'r', role: 'root' },
      { name: 's', scopes: ['agents'] },
      { name: 'd', expires_in_days: 0 },
      { name: 'd', expires_in_days: 3651 },
    ]) {
      const response = await call(admin, 'POST', '/service-accounts', body);
      expect(response.status, JSON.stringify(body)).toBeGreaterThanOrEqual(400);
      expect(response.status, JSON.stringify(body)).toBeLessThan(500);
    }
    expect((await call(admin, 'PATCH', '/service-accounts/sa_missing', { name: 'x' })).status).toBe(404);
    expect((await call(admin, 'GET', '/service-accounts/..%2F..')).status).toBeLessThan(500);
  });

  it('an update applies to existing tokens at once', async () => {
    const created = await call(admin, 'POST', '/service-accounts', { name: 'grow', role: 'viewer' });
    const token = created.body.token as string;
    const component = { component_type: 'agent', name: 'c' };
    expect((await call(token, 'POST', '/components', component)).status).toBe(403);
    const patched = await call(admin, 'PATCH', `/service-accounts/${created.body.id}`, {
      role: 'editor',
      allow_privileged_scopes: true,
      description: 'now writes',
    });
    expect(patched).toMatchObject({ status: 200, body: { role: 'editor', description: 'now writes' } });
    expect((await call(token, 'POST', '/components', component)).status).toBe(201);
  });

  it('rotates and revokes tokens; revoking the account revokes all of them', async () => {
    const created = await call(admin, 'POST', '/service-accounts', { name: 'rotate', role: 'viewer' });
    const id = created.body.id as string;
    const first = created.body.token as string;
    const second = await call(admin, 'POST', `/service-accounts/${id}/tokens`, { never_expires: true });
    expect(second.status).toBe(201);
    expect((await call(second.body.token, 'GET', '/sessions')).status).toBe(200);
    const tokens = await call(admin, 'GET', `/service-accounts/${id}/tokens`);
    expect(tokens.body.data).toHaveLength(2);
    expect((await call(admin, 'DELETE', `/service-accounts/${id}/tokens/${created.body.token_info.id}`)).status).toBe(
      204,
    );
    expect((await call(first, 'GET', '/sessions')).status).toBe(401);
    expect((await call(second.body.token, 'GET', '/sessions')).status).toBe(200);
    expect((await call(admin, 'DELETE', `/service-accounts/${id}`)).status).toBe(204);
    expect((await call(second.body.token, 'GET', '/sessions')).status).toBe(401);
    expect((await call(admin, 'DELETE', `/service-accounts/${id}`)).status).toBe(404);
    expect((await call(admin, 'GET', `/service-accounts/${id}`)).body.revoked_at).not.toBeNull();
    const listed = await call(admin, 'GET', '/service-accounts?limit=100');
    expect(listed.body.data.map((account: Json) => account.id)).not.toContain(id);
    const all = await call(admin, 'GET', '/service-accounts?include_revoked=true&limit=100');
    expect(all.body.data.map((account: Json) => account.id)).toContain(id);
  });

  it('never shows one workspace’s accounts to another', async () => {
    const created = await call(admin, 'POST', '/service-accounts', { name: 'private' });
    expect((await call(otherAdmin, 'GET', `/service-accounts/${created.body.id}`)).status).toBe(404);
    expect((await call(otherAdmin, 'DELETE', `/service-accounts/${created.body.id}`)).status).toBe(404);
    expect((await call(otherAdmin, 'GET', '/service-accounts')).body.data).toEqual([]);
  });

  it('writes every change to the audit log, and the chain verifies', async () => {
    const created = await call(admin, 'POST', '/service-accounts', { name: 'audited' });
    await call(admin, 'PATCH', `/service-accounts/${created.body.id}`, { name: 'audited-2' });
    await call(admin, 'DELETE', `/service-accounts/${created.body.id}`);
    const entries = await test.services.audit.list({ limit: 1000 });
    const mine = entries.items.filter(
      (entry) => (entry.details as { target?: { id?: string } }).target?.id === created.body.id,
    );
    expect(mine.map((entry) => entry.kind).sort()).toEqual([
      'service_account.created',
      'service_account.revoked',
      'service_account.updated',
    ]);
    expect(mine.every((entry) => entry.principal === 'alice' && entry.workspaceId === 'w1')).toBe(true);
    expect((await test.services.audit.verify()).valid).toBe(true);
  });
});

describe('/service-accounts under user isolation', () => {
  let test: TestApp;

  beforeAll(async () => {
    test = await buildTestApp({
      agents: [{ id: 'assistant', name: 'Assistant', model: 'local:default' }],
      auth: { jwt: { secret: SECRET }, user_isolation: true },
    });
  });
  afterAll(async () => {
    await test.close();
  });

  async function call(token: string, method: 'GET' | 'POST', url: string, payload?: Record<string, unknown>) {
    const response = await test.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}` },
      ...(payload === undefined ? {} : { payload }),
    });
    return { status: response.statusCode, body: response.json() as Json };
  }

  it('refuses a caller pinned to its user, whose account tokens would read every user’s sessions', async () => {
    const pinned = await sign({ role: 'admin', workspace_id: 'w1' });
    const superAdmin = await sign({ sub: 'root', scopes: ['admin'], workspace_id: 'w1' });
    const refused = { status: 403, body: { code: 'AOS_SCOPE_ESCALATION' } };
    expect(await call(pinned, 'POST', '/service-accounts', { name: 'reader' })).toMatchObject(refused);
    const created = await call(superAdmin, 'POST', '/service-accounts', { name: 'reader' });
    expect(created.status).toBe(201);
    expect(await call(pinned, 'POST', `/service-accounts/${created.body.id}/tokens`, {})).toMatchObject(refused);
    expect((await call(superAdmin, 'POST', `/service-accounts/${created.body.id}/tokens`, {})).status).toBe(201);
  });
});
