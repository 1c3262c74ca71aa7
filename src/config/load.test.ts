import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, isAgentOsError } from '../errors/index.js';
import { DEMO_CONFIG_SOURCE } from './demo.js';
import { loadConfig } from './load.js';
import { STARTER_CONFIG_YAML, writeStarterConfig } from './starter.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agentos-config-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function loadError(promise: Promise<unknown>): Promise<ConfigError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig discovery', () => {
  it('falls back to the built-in demo config when no file is found', async () => {
    const { config, source } = await loadConfig({ cwd: dir, env: {} });

    expect(source).toBe(DEMO_CONFIG_SOURCE);
    expect(config.name).toBe('Demo AgentOS');
    expect(config.agents.map((agent) => agent.id)).toContain('assistant');
  });

  it('prefers ts, then yaml, then yml, then json in the working directory', async () => {
    await writeFile(join(dir, 'agentos.config.json'), JSON.stringify({ name: 'from json' }));
    expect((await loadConfig({ cwd: dir, env: {} })).config.name).toBe('from json');

    await writeFile(join(dir, 'agentos.config.yml'), 'name: from yml\n');
    expect((await loadConfig({ cwd: dir, env: {} })).config.name).toBe('from yml');

    await writeFile(join(dir, 'agentos.config.yaml'), 'name: from yaml\n');
    expect((await loadConfig({ cwd: dir, env: {} })).config.name).toBe('from yaml');

    await writeFile(join(dir, 'agentos.config.ts'), "export default { name: 'from ts' };\n");
    const loaded = await loadConfig({ cwd: dir, env: {} });
    expect(loaded.config.name).toBe('from ts');
    expect(loaded.source).toBe(join(dir, 'agentos.config.ts'));
  });

  it('prefers AGENTOS_CONFIG over discovery, and an explicit path over AGENTOS_CONFIG', async () => {
    await writeFile(join(dir, 'agentos.config.yaml'), 'name: discovered\n');
    await writeFile(join(dir, 'env.yaml'), 'name: from env\n');
    await writeFile(join(dir, 'flag.json'), '{"name": "from flag"}');

    expect((await loadConfig({ cwd: dir, env: { AGENTOS_CONFIG: 'env.yaml' } })).config.name).toBe('from env');
    const loaded = await loadConfig({ cwd: dir, path: 'flag.json', env: { AGENTOS_CONFIG: 'env.yaml' } });
    expect(loaded.config.name).toBe('from flag');
    expect(loaded.source).toBe(join(dir, 'flag.json'));
  });

  it('fails naming an explicit path that is missing', async () => {
    const error = await loadError(loadConfig({ cwd: dir, path: 'nope.yaml', env: {} }));

    expect(error.issues).toEqual([`config file not found: ${join(dir, 'nope.yaml')}`]);
    expect(error.message).toContain(join(dir, 'nope.yaml'));
  });

  it('fails naming an AGENTOS_CONFIG file that is missing', async () => {
    const error = await loadError(loadConfig({ cwd: dir, env: { AGENTOS_CONFIG: 'gone.ts' } }));

    expect(error.issues).toEqual([`config file not found: ${join(dir, 'gone.ts')}`]);
  });
});

describe('loadConfig file formats', () => {
  it('loads a .ts config through its default export', async () => {
    await writeFile(join(dir, 'agentos.config.ts'), "export default { name: 'X', agents: [{ id: 'a' }] };\n");

    const { config } = await loadConfig({ cwd: dir, env: {} });

    expect(config.name).toBe('X');
    expect(config.agents).toEqual([{ id: 'a', tools: [], memory: false, history_runs: 3, max_steps: 10 }]);
  });

  it('loads a typed .mts config with type annotations', async () => {
    const source = [
      'type Input = { name: string; agents: Array<{ id: string; model: string }> };',
      "const config: Input = { name: 'typed', agents: [{ id: 'a', model: 'local:default' }] };",
      'export default config;',
    ].join('\n');
    await writeFile(join(dir, 'my.config.mts'), source);

    const { config } = await loadConfig({ cwd: dir, path: 'my.config.mts', env: {} });

    expect(config.name).toBe('typed');
  });

  it('loads a .ts config that default-exports defineConfig() inside a "type": "module" package', async () => {
    const helper = new URL('./define-config.ts', import.meta.url).href;
    await writeFile(join(dir, 'package.json'), '{"type": "module"}');
    await writeFile(
      join(dir, 'agentos.config.ts'),
      `import { defineConfig } from '${helper}';\nexport default defineConfig({ name: 'defined', os_id: 'os-1' });\n`,
    );

    const { config } = await loadConfig({ cwd: dir, env: {} });

    expect(config).toMatchObject({ name: 'defined', os_id: 'os-1' });
  });

  it('reports a config module without a default export', async () => {
    await writeFile(join(dir, 'agentos.config.ts'), 'export const name = 1;\n');

    const error = await loadError(loadConfig({ cwd: dir, env: {} }));

    expect(error.issues[0]).toMatch(/no default export/);
  });

  it('reports a YAML syntax error with its line as a ConfigError', async () => {
    await writeFile(join(dir, 'agentos.config.yaml'), 'name: ok\nagents:\n  - id: a\n   model: local:default\n');

    const error = await loadError(loadConfig({ cwd: dir, env: {} }));

    expect(error.code).toBe('AOS_CONFIG_INVALID');
    expect(error.issues[0]).toMatch(/^line 4, column \d+: YAML syntax error: /);
  });

  it('reports a JSON syntax error with its line', async () => {
    await writeFile(join(dir, 'agentos.config.json'), '{\n  "name": "x",\n}\n');

    const error = await loadError(loadConfig({ cwd: dir, env: {} }));

    expect(error.issues[0]).toMatch(/^line 3, column 1: JSON syntax error: /);
  });

  it('reports validation issues with the file as the source', async () => {
    const file = join(dir, 'agentos.config.yaml');
    await writeFile(file, 'agents:\n  - id: a\n  - id: b\n    model: opnai:gpt-4o\n');

    const error = await loadError(loadConfig({ cwd: dir, env: {} }));

    expect(error.issues).toEqual([
      'agents[1].model: unknown provider "opnai" (expected one of openai, anthropic, ollama, local)',
    ]);
    expect(error.message).toContain(file);
  });

  it('treats an empty YAML file as all defaults', async () => {
    await writeFile(join(dir, 'agentos.config.yaml'), '# nothing yet\n');

    const { config } = await loadConfig({ cwd: dir, env: {} });

    expect(config.server.port).toBe(7777);
  });

  it('fills environment references from the given env', async () => {
    await writeFile(join(dir, 'agentos.config.yaml'), 'auth:\n  api_keys: ["$' + '{MY_KEY}"]\n');

    const { config } = await loadConfig({ cwd: dir, env: { MY_KEY: 'secret-from-env' } });

    expect(config.auth.api_keys).toEqual([{ name: 'config-key-0', key: 'secret-from-env', scopes: ['admin'] }]);
  });
});

describe('loadConfig overrides', () => {
  const fileYaml = 'server:\n  host: 0.0.0.0\n  port: 8000\ndatabase:\n  url: sqlite:./file.db\nlog_level: warn\n';

  it('lets the environment beat the file', async () => {
    await writeFile(join(dir, 'agentos.config.yaml'), `${fileYaml}auth:\n  api_keys: [file-key]\n`);

    const { config } = await loadConfig({
      cwd: dir,
      env: {
        AGENTOS_HOST: '10.0.0.1',
        AGENTOS_PORT: '9000',
        AGENTOS_DB_URL: 'postgres://u@db/agentos',
        AGENTOS_LOG_LEVEL: 'debug',
        AGENTOS_API_KEY: 'env-key',
        AGENTOS_JWT_SECRET: 'jwt-secret',
        AGENTOS_JWT_PUBLIC_KEY: 'pem',
      },
    });

    expect(config.server.host).toBe('10.0.0.1');
    expect(config.server.port).toBe(9000);
    expect(config.database.url).toBe('postgres://u@db/agentos');
    expect(config.log_level).toBe('debug');
    expect(config.auth.api_keys).toEqual([
      { name: 'config-key-0', key: 'file-key', scopes: ['admin'] },
      { name: 'AGENTOS_API_KEY', key: 'env-key', scopes: ['admin'] },
    ]);
    expect(config.auth.jwt).toEqual({ secret: 'jwt-secret', public_key: 'pem' });
  });

  it('lets CLI overrides beat the environment', async () => {
    await writeFile(join(dir, 'agentos.config.yaml'), fileYaml);

    const { config } = await loadConfig({
      cwd: dir,
      env: { AGENTOS_HOST: '10.0.0.1', AGENTOS_PORT: '9000', AGENTOS_DB_URL: 'sqlite::memory:' },
      overrides: { host: '127.0.0.2', port: 0, dbUrl: 'postgresql://u@db/cli' },
    });

    expect(config.server).toMatchObject({ host: '127.0.0.2', port: 0 });
    expect(config.database.url).toBe('postgresql://u@db/cli');
  });

  it('applies overrides to the demo config too', async () => {
    const { config, source } = await loadConfig({ cwd: dir, env: { AGENTOS_PORT: '0' } });

    expect(source).toBe(DEMO_CONFIG_SOURCE);
    expect(config.server.port).toBe(0);
  });

  it('names server.port for a bad AGENTOS_PORT', async () => {
    const error = await loadError(loadConfig({ cwd: dir, env: { AGENTOS_PORT: 'eighty' } }));

    expect(error.issues).toEqual(['server.port: expected a number, got a string']);
  });

  it('names server.port for an AGENTOS_PORT out of range', async () => {
    const error = await loadError(loadConfig({ cwd: dir, env: { AGENTOS_PORT: '70000' } }));

    expect(error.issues).toEqual(['server.port: expected at most 65535']);
  });

  it('ignores empty environment variables', async () => {
    const { config } = await loadConfig({
      cwd: dir,
      env: { AGENTOS_PORT: '', AGENTOS_CONFIG: '', AGENTOS_API_KEY: '' },
    });

    expect(config.server.port).toBe(7777);
    expect(config.auth.api_keys).toEqual([]);
  });
});

describe('writeStarterConfig', () => {
  it('writes once and refuses to overwrite without force', async () => {
    const target = join(dir, 'project');

    const file = await writeStarterConfig(target);

    expect(file).toBe(join(target, 'agentos.config.yaml'));
    expect(await readFile(file, 'utf8')).toBe(STARTER_CONFIG_YAML);
    const second = await writeStarterConfig(target).catch((error: unknown) => error);
    expect(isAgentOsError(second) && second.code).toBe('AOS_CONFLICT');
  });

  it('overwrites with force', async () => {
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'agentos.config.yaml'), 'name: old\n');

    await writeStarterConfig(dir, { force: true });

    expect(await readFile(join(dir, 'agentos.config.yaml'), 'utf8')).toBe(STARTER_CONFIG_YAML);
  });

  it('writes a file that loadConfig discovers and validates', async () => {
    await writeStarterConfig(dir);

    const { config, source } = await loadConfig({ cwd: dir, env: {} });

    expect(source).toBe(join(dir, 'agentos.config.yaml'));
    expect(config.agents.map((agent) => agent.id)).toEqual(['assistant', 'reviewer']);
  });
});
