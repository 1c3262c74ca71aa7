import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, startServe } from '../../test/cli.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'agentos-cli-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

// Each test spawns the CLI (and a server) several times: seconds apiece on a loaded 2-core machine.
describe('agentos CLI', { timeout: 60_000 }, () => {
  it('init writes a starter config once', async () => {
    const dir = tempDir();
    const first = await runCli(['init', dir], dir);
    expect(first.code).toBe(0);
    expect(readFileSync(join(dir, 'agentos.config.yaml'), 'utf8')).toContain('agents:');
    const second = await runCli(['init', dir], dir);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/exists/);
  });

  it('refuses to start on a bad config and names each bad path', async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'bad.yaml'),
      ['agents:', '  - id: ok', '  - id: two', '    model: opnai:gpt-4o', '  - id: "bad id"', '    modle: x', ''].join(
        '\n',
      ),
    );
    const result = await runCli(['serve', '--config', 'bad.yaml', '--port', '0'], dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('agents[1].model: unknown provider "opnai"');
    expect(result.stderr).toMatch(/agents\[2\]\.id: /);
    expect(result.stderr).toMatch(/agents\[2\]: unknown key "modle"/);
  });

  it('migrate --dry-run changes nothing, migrate applies once', async () => {
    const dir = tempDir();
    const db = `sqlite:${join(dir, 'data.db')}`;
    const dry = await runCli(['migrate', '--dry-run', '--db', db], dir);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('pending: 001-initial');
    const raw = new Database(join(dir, 'data.db'), { readonly: true });
    expect(raw.prepare("select count(*) as n from sqlite_master where type = 'table'").get()).toEqual({ n: 0 });
    raw.close();
    const applied = await runCli(['migrate', '--db', db], dir);
    expect(applied.stdout).toContain('applied: 001-initial');
    const again = await runCli(['migrate', '--db', db], dir);
    expect(again.stdout).toContain('up to date');
    const dryAgain = await runCli(['migrate', '--dry-run', '--db', db], dir);
    expect(dryAgain.stdout).toContain('up to date');
  });

  it('keys create prints the key alone on its last line; the server accepts it until revoked', async () => {
    const dir = tempDir();
    const db = `sqlite:${join(dir, 'keys.db')}`;
    const created = await runCli(['keys', 'create', '--name', 'ci', '--scopes', 'config:read', '--db', db], dir);
    expect(created.code, created.stderr).toBe(0);
    const key = created.stdout.trim().split('\n').at(-1) ?? '';
    expect(key).toMatch(/^aos_[A-Za-z0-9_-]{40,}$/);
    const list = await runCli(['keys', 'list', '--db', db], dir);
    expect(list.stdout).toContain('ci');
    expect(list.stdout).not.toContain(key);
    const id = list.stdout.split('\t')[0] ?? '';

    const server = await startServe(dir, ['--db', db]);
    try {
      expect((await fetch(`${server.url}/config`)).status).toBe(401);
      expect((await fetch(`${server.url}/config`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(200);
      const revoked = await runCli(['keys', 'revoke', id, '--db', db], dir);
      expect(revoked.code).toBe(0);
      expect((await fetch(`${server.url}/config`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(401);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });

  it('keys create rejects a malformed scope', async () => {
    const dir = tempDir();
    const result = await runCli(
      ['keys', 'create', '--name', 'x', '--scopes', 'nonsense', '--db', `sqlite:${join(dir, 'k.db')}`],
      dir,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('invalid scope');
  });

  it('serve answers /health and exits 0 on SIGTERM', async () => {
    const dir = tempDir();
    const server = await startServe(dir, ['--db', `sqlite:${join(dir, 'serve.db')}`]);
    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(200);
    expect(await server.stop()).toBe(0);
  });

  it('run prints the reply (streamed with --stream) and keeps the session', async () => {
    const dir = tempDir();
    const db = `sqlite:${join(dir, 'run.db')}`;
    const plain = await runCli(['run', 'assistant', 'what is 19*3?', '--session', 'cli-1', '--db', db], dir);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).toContain('57');
    expect(plain.stderr).toContain('session cli-1: completed');
    const streamed = await runCli(
      ['run', 'assistant', 'hello there', '--session', 'cli-1', '--stream', '--db', db],
      dir,
    );
    expect(streamed.code, streamed.stderr).toBe(0);
    expect(streamed.stdout).toContain('Assistant');
    const unknown = await runCli(['run', 'nobody', 'hi', '--db', db], dir);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('Agent not found');
  });

  it('serve refuses a non-loopback host without credentials', async () => {
    const dir = tempDir();
    const result = await runCli(
      ['serve', '--host', '0.0.0.0', '--port', '0', '--db', `sqlite:${join(dir, 'x.db')}`],
      dir,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('without credentials');
  });
});
