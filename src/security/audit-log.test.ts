import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/cli.js';
import { memoryLogger, startTestServer, testConfig } from '../../test/helpers.js';
import { parseConfig } from '../config/index.js';
import type { RunningServer } from '../main.js';
import { createServices } from '../services.js';
import { canonicalJson, createAuditSeal } from './audit-log.js';
import { resolveServerSecret, secretFilePath } from './secret.js';

const ADMIN = 'audit-admin-key';
const READER = 'audit-reader-key';

// biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field
const json = async (response: Response): Promise<any> => response.json();

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'agentos-audit-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('audit log over real HTTP', () => {
  let server: RunningServer;
  let dbPath: string;
  const get = (path: string, key?: string) =>
    fetch(`${server.url}${path}`, key === undefined ? {} : { headers: { authorization: `Bearer ${key}` } });

  beforeAll(async () => {
    dbPath = join(tempDir(), 'data', 'agentos.db');
    server = await startTestServer({
      dbUrl: `sqlite:${dbPath}`,
      env: { AGENTOS_API_KEY: ADMIN },
      config: {
        rate_limits: { read: '6/h' },
        auth: { api_keys: [{ name: 'reader', key: READER, scopes: ['config:read'] }] },
      },
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('records a 401, a 403 and a 429, and the chain verifies', async () => {
    expect((await get('/config')).status).toBe(401);
    expect((await get('/config', 'wrong-key')).status).toBe(401);
    expect((await get('/api/security/audit/verify', READER)).status).toBe(403);
    const statuses: number[] = [];
    for (let index = 0; index < 7; index += 1) statuses.push((await get('/config?token=secret', READER)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 429]);

    const listed = await get('/api/security/audit?order=asc', ADMIN);
    expect(listed.status).toBe(200);
    const page = await json(listed);
    expect(page).toMatchObject({ count: 4, total: 4, page: 1, limit: 50 });
    expect(page.entries.map((entry: { kind: string }) => entry.kind)).toEqual([
      'auth.failed',
      'auth.failed',
      'auth.denied',
      'rate_limit.exceeded',
    ]);
    const [missing, wrong, denied, limited] = page.entries;
    expect(missing).toMatchObject({
      principal: null,
      details: { method: 'GET', path: '/config', status: 401, code: 'AOS_AUTH_REQUIRED', ip: '127.0.0.1' },
    });
    expect(wrong.details.status).toBe(401);
    expect(denied).toMatchObject({
      principal: 'reader',
      workspaceId: 'default',
      details: { path: '/api/security/audit/verify', status: 403, code: 'AOS_AUTH_FORBIDDEN', required: 'admin' },
    });
    expect(limited).toMatchObject({
      principal: 'reader',
      details: { path: '/config', status: 429, code: 'AOS_RATE_LIMITED', rateLimitClass: 'read' },
    });
    expect(limited.details.retryAfter).toBeGreaterThanOrEqual(1);
    // The query string (which may hold a credential) is never stored.
    expect(JSON.stringify(page)).not.toContain('secret');
    expect(denied.prevHash).toBe(wrong.hash);
    expect(missing.prevHash).toBe('0'.repeat(64));
    expect(typeof missing.at).toBe('number');

    const filtered = await json(await get('/api/security/audit?kind=auth.failed', ADMIN));
    expect(filtered.total).toBe(2);

    const verified = await get('/api/security/audit/verify', ADMIN);
    expect(verified.status).toBe(200);
    expect(await json(verified)).toEqual({ valid: true, entries: 4, violations: [] });
  });

  it('keeps the generated secret beside the database, mode 0600', () => {
    const path = secretFilePath(`sqlite:${dbPath}`);
    expect(path).toBe(join(dbPath, '..', 'secret'));
    expect(statSync(path as string).mode & 0o777).toBe(0o600);
  });

  it('detects one tampered row and names its seq', async () => {
    const raw = new Database(dbPath);
    try {
      const row = raw.prepare("select seq from audit_log where kind = 'auth.denied'").get() as { seq: number };
      raw.prepare("update audit_log set details = json_set(details, '$.ip', '203.0.113.9') where seq = ?").run(row.seq);
      const result = await json(await get('/api/security/audit/verify', ADMIN));
      expect(result.valid).toBe(false);
      expect(result.entries).toBe(4);
      expect(result.violations).toEqual([{ seq: row.seq, reason: expect.stringMatching(/altered/) }]);

      // Removing an entry breaks the link of the one after it.
      const last = raw.prepare('select max(seq) as seq from audit_log').get() as { seq: number };
      raw.prepare('delete from audit_log where seq = ?').run(last.seq - 1);
      const after = await json(await get('/api/security/audit/verify', ADMIN));
      expect(after.violations).toContainEqual({ seq: last.seq, reason: expect.stringMatching(/prev_hash/) });
    } finally {
      raw.close();
    }
  });

  it('needs the admin scope and credentials', async () => {
    expect((await get('/api/security/audit')).status).toBe(401);
    const denied = await get('/api/security/audit', READER);
    expect(denied.status).toBe(403);
    expect(await json(denied)).toMatchObject({ code: 'AOS_AUTH_FORBIDDEN' });
  });
});

describe('audit secret', () => {
  const servers: RunningServer[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.close();
  });

  it('chains with AGENTOS_SECRET when set; another secret fails every entry', async () => {
    const dbUrl = `sqlite:${join(tempDir(), 'agentos.db')}`;
    const first = await startTestServer({ dbUrl, env: { AGENTOS_API_KEY: ADMIN, AGENTOS_SECRET: 'one secret' } });
    servers.push(first);
    expect((await fetch(`${first.url}/config`)).status).toBe(401);
    await first.services.audit.record('config.changed', { principal: 'admin', details: { key: 'x' } });
    expect((await first.services.audit.verify()).valid).toBe(true);
    await first.close();

    const second = await startTestServer({ dbUrl, env: { AGENTOS_API_KEY: ADMIN, AGENTOS_SECRET: 'another secret' } });
    servers.push(second);
    const result = await second.services.audit.verify();
    expect(result).toMatchObject({ valid: false, entries: 2 });
    expect(result.violations.map((violation) => violation.reason)).toEqual([
      expect.stringMatching(/altered/),
      expect.stringMatching(/altered/),
    ]);
  });

  it('reuses the secret file and refuses a corrupt one', () => {
    const dir = tempDir();
    const databaseUrl = `sqlite:${join(dir, 'db', 'agentos.db')}`;
    const first = resolveServerSecret({ databaseUrl });
    expect(first).toHaveLength(32);
    expect(resolveServerSecret({ databaseUrl }).equals(first)).toBe(true);
    expect(resolveServerSecret({ databaseUrl, env: { AGENTOS_SECRET: 'x' } }).toString()).toBe('x');
    writeFileSync(join(dir, 'db', 'secret'), 'not hex');
    expect(() => resolveServerSecret({ databaseUrl })).toThrow(/64 hex characters/);
    expect(secretFilePath('sqlite::memory:')).toBeNull();
    expect(secretFilePath('postgres://db/agentos', '/srv')).toBe('/srv/.agentos/secret');
  });

  it('seals canonically: key order does not change the hash', () => {
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: undefined }, null] })).toBe('{"a":[{"d":2},null],"b":1}');
    const seal = createAuditSeal(Buffer.from('k'));
    const base = { seq: 1, at: 2, kind: 'k', principal: null, workspaceId: null, prevHash: '0' };
    expect(seal({ ...base, details: { a: 1, b: 2 } })).toBe(seal({ ...base, details: { b: 2, a: 1 } }));
    expect(seal({ ...base, details: { a: 1 } })).not.toBe(seal({ ...base, details: { a: 2 } }));
  });
});

describe('agentos keys writes the audit log', () => {
  it('records key creation and revocation', async () => {
    const dir = tempDir();
    const db = `sqlite:${join(dir, 'agentos.db')}`;
    const created = await runCli(['keys', 'create', '--name', 'ci', '--scopes', 'agents:read', '--db', db], dir);
    expect(created.code, created.stderr).toBe(0);
    const id = /Created key (\S+)/.exec(created.stderr)?.[1];
    expect(id).toBeDefined();
    const revoked = await runCli(['keys', 'revoke', id as string, '--db', db], dir);
    expect(revoked.code, revoked.stderr).toBe(0);

    const config = parseConfig(testConfig({ database: { url: db } }), { source: 'test' });
    const services = await createServices({ config, logger: memoryLogger().logger, recoverRuns: false });
    try {
      const { items } = await services.audit.list({ order: 'asc' });
      expect(items.map((entry) => entry.kind)).toEqual(['api_key.created', 'api_key.revoked']);
      expect(items[0]?.details).toMatchObject({ keyId: id, name: 'ci', scopes: ['agents:read'] });
      expect(items[0]?.principal).toMatch(/^cli/);
      expect(items[1]?.details).toMatchObject({ keyId: id });
      expect(JSON.stringify(items)).not.toMatch(/aos_[A-Za-z0-9_-]{20,}/);
      expect(await services.audit.verify()).toEqual({ valid: true, entries: 2, violations: [] });
    } finally {
      await services.close();
    }
  });
});
