import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../errors/index.js';
import { parseByteSize } from './byte-size.js';
import { DEMO_CONFIG } from './demo.js';
import { parseConfig } from './parse.js';
import { parseRateLimit } from './rate-limit.js';
import { ID_PATTERN, idSchema, modelIdSchema, parseModelId } from './schema.js';
import { STARTER_CONFIG_YAML } from './starter.js';

function issuesOf(raw: unknown, env: Record<string, string | undefined> = {}): readonly string[] {
  try {
    parseConfig(raw, { source: 'test', env });
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('configSchema defaults', () => {
  it('fills every default into an empty config', () => {
    const config = parseConfig({}, { source: 'test' });

    expect(config).toEqual({
      name: 'Demo AgentOS',
      os_id: 'agentos',
      server: {
        host: '127.0.0.1',
        port: 7777,
        cors_origins: ['*'],
        body_limit: 1024 * 1024,
        upload_limit: 50 * 1024 * 1024,
        shutdown_timeout_ms: 10_000,
      },
      database: { url: 'sqlite:./.agentos/agentos.db' },
      log_level: 'info',
      models: { default: 'local:default' },
      auth: { api_keys: [], tenancy: false, user_isolation: false },
      rate_limits: {
        read: { limit: 200, window_ms: 3_600_000 },
        write: { limit: 100, window_ms: 3_600_000 },
        message: { limit: 60, window_ms: 3_600_000 },
        workflow_run: { limit: 100, window_ms: 3_600_000 },
      },
      quotas: { keys: {}, agents: {} },
      tools: [],
      mcp_servers: [],
      memory: { recall_tokens: 400 },
      builtin_tools: { http_request: { allowed_hosts: [], timeout_ms: 15_000, max_response_bytes: 1_000_000 } },
      schedules: { enabled: true, tick_ms: 1000, misfire_grace_ms: 60_000 },
      events: { subscribers: [], tick_ms: 500, max_attempts: 10, retry_base_ms: 1000, lease_ms: 60_000 },
      agents: [],
      teams: [],
      workflows: [],
      functions: {},
      knowledge: [],
      tracing: {
        enabled: true,
        capture_content: false,
        propagate_context: false,
        sample_rate: 1,
        batch_delay_ms: 1000,
        max_batch_size: 512,
        max_queue_size: 8192,
      },
      pricing: {},
      evals: {},
      voice: {
        enabled: true,
        stt: 'local:pocketsphinx',
        tts: 'local:espeak-ng',
        max_sessions: 10,
        max_sessions_per_caller: 3,
        idle_timeout_ms: 300_000,
        tts_lead_ms: 1000,
        vad: {
          energy_threshold: 500,
          start_ms: 60,
          min_speech_ms: 250,
          silence_ms: 500,
          max_speech_ms: 20_000,
          pre_roll_ms: 200,
        },
      },
    });
  });

  it('fills agent, team, tool and knowledge defaults', () => {
    const config = parseConfig(
      {
        tools: [{ name: 'hook', description: 'Calls a hook.', webhook: { url: 'https://example.com/hook' } }],
        agents: [{ id: 'a', tools: ['calculator', { name: 'hook', requires_confirmation: true }] }],
        teams: [{ id: 't', members: ['a'] }],
        knowledge: [{ id: 'docs' }],
      },
      { source: 'test' },
    );

    expect(config.agents[0]).toEqual({
      id: 'a',
      tools: [{ name: 'calculator' }, { name: 'hook', requires_confirmation: true }],
      memory: false,
      history_runs: 3,
      max_steps: 10,
    });
    expect(config.teams[0]?.mode).toBe('coordinate');
    expect(config.tools[0]?.parameters).toEqual({ type: 'object', properties: {} });
    expect(config.tools[0]?.webhook?.timeout_ms).toBe(30_000);
    expect(config.knowledge[0]).toEqual({ id: 'docs', embedder: 'local:default', sources: [] });
  });

  it('validates the built-in demo config', () => {
    const config = parseConfig(DEMO_CONFIG, { source: 'demo' });

    expect(config.name).toBe('Demo AgentOS');
    expect(config.agents.map((agent) => agent.id)).toEqual(['assistant', 'researcher']);
    expect(config.agents[0]?.tools.map((tool) => tool.name)).toEqual(['calculator', 'current_time']);
    expect(config.teams[0]).toMatchObject({
      id: 'research-team',
      mode: 'coordinate',
      members: ['assistant', 'researcher'],
    });
    expect(config.workflows[0]?.steps).toHaveLength(2);
  });

  it('validates the starter config using only the offline model', () => {
    const config = parseConfig(parseYaml(STARTER_CONFIG_YAML), { source: 'starter' });

    const models = [
      config.models.default,
      ...config.agents.map((agent) => agent.model),
      ...config.teams.map((team) => team.model),
    ].filter((model) => model !== undefined);
    expect(new Set(models)).toEqual(new Set(['local:default']));
    expect(config.default_agent).toBe('assistant');
  });

  it('mentions every top-level key in the starter config', () => {
    const keys = Object.keys(parseConfig({}, { source: 'test' })).concat('description', 'default_agent');
    for (const key of keys) expect(STARTER_CONFIG_YAML).toMatch(new RegExp(`^#? ?${key}:`, 'm'));
  });
});

describe('configSchema field rules', () => {
  it('names an unknown provider at the agent model path', () => {
    const issues = issuesOf({ agents: [{ id: 'a' }, { id: 'b', model: 'opnai:gpt-4o' }] });

    expect(issues).toEqual([
      'agents[1].model: unknown provider "opnai" (expected one of openai, anthropic, ollama, local)',
    ]);
  });

  it('rejects a local model other than local:default and a model id without a provider', () => {
    const issues = issuesOf({ models: { default: 'local:big' }, agents: [{ id: 'a', model: 'gpt-4o' }] });

    expect(issues).toHaveLength(2);
    expect(issues[0]).toMatch(/^models\.default: unknown local model "big"/);
    expect(issues[1]).toMatch(/^agents\[0\]\.model: invalid model id "gpt-4o"/);
  });

  it('names a bad id', () => {
    expect(issuesOf({ agents: [{ id: 'has space' }] })).toEqual([
      `agents[0].id: invalid id "has space" (expected ${ID_PATTERN.source})`,
    ]);
  });

  it('names an unknown top-level key', () => {
    expect(issuesOf({ agnets: [] })).toEqual(['(root): unknown key "agnets" (did you mean "agents"?)']);
  });

  it('names an unknown nested key', () => {
    expect(issuesOf({ agents: [{ id: 'a', modle: 'local:default' }] })).toEqual([
      'agents[0]: unknown key "modle" (did you mean "model"?)',
    ]);
    expect(issuesOf({ server: { port: 1, colour: 'red' } })).toEqual(['server: unknown key "colour"']);
  });

  it('names a bad size', () => {
    expect(issuesOf({ server: { body_limit: '12 parsecs' } })).toEqual([
      'server.body_limit: invalid size "12 parsecs" (expected a number of bytes or a size such as 512kb, 1mb, 50mb)',
    ]);
  });

  it('turns size strings into bytes', () => {
    const config = parseConfig({ server: { body_limit: '512kb', upload_limit: '50MB' } }, { source: 'test' });

    expect(config.server.body_limit).toBe(512 * 1024);
    expect(config.server.upload_limit).toBe(50 * 1024 * 1024);
  });

  it('names a bad rate limit string', () => {
    expect(issuesOf({ rate_limits: { message: '60 per hour' } })).toEqual([
      'rate_limits.message: invalid rate "60 per hour" (expected N/s, N/m, N/h or N/d, or false)',
    ]);
  });

  it('keeps default classes, turns one class off, or turns all off', () => {
    const partial = parseConfig({ rate_limits: { read: '5/s', write: false } }, { source: 'test' });

    expect(partial.rate_limits).toEqual({
      read: { limit: 5, window_ms: 1000 },
      write: false,
      message: { limit: 60, window_ms: 3_600_000 },
      workflow_run: { limit: 100, window_ms: 3_600_000 },
    });
    expect(parseConfig({ rate_limits: false }, { source: 'test' }).rate_limits).toBe(false);
  });

  it('rejects a database url of an unsupported kind without echoing it', () => {
    const issues = issuesOf({ database: { url: 'mysql://root:hunter2@db/agentos' } });

    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatch(/^database\.url: unsupported database url "mysql:"/);
    expect(issues[0]).not.toContain('hunter2');
  });

  it('accepts every supported database url', () => {
    for (const url of ['sqlite:./x.db', 'sqlite::memory:', 'postgres://u@h/db', 'postgresql://u@h:5432/db']) {
      expect(parseConfig({ database: { url } }, { source: 'test' }).database.url).toBe(url);
    }
  });

  it('normalises string api keys and requires exactly one of key or key_sha256', () => {
    const config = parseConfig(
      { auth: { api_keys: ['secret-1', { name: 'ci', key_sha256: 'AB'.repeat(32), scopes: ['agents:read'] }] } },
      { source: 'test' },
    );

    expect(config.auth.api_keys).toEqual([
      { name: 'config-key-0', key: 'secret-1', scopes: ['admin'] },
      { name: 'ci', key_sha256: 'ab'.repeat(32), scopes: ['agents:read'] },
    ]);
    expect(issuesOf({ auth: { api_keys: [{ name: 'x' }] } })).toEqual([
      'auth.api_keys[0]: set exactly one of key or key_sha256',
    ]);
    expect(issuesOf({ auth: { api_keys: [{ name: 'x', key: 'k', key_sha256: 'a'.repeat(64) }] } })).toEqual([
      'auth.api_keys[0]: set exactly one of key or key_sha256',
    ]);
  });

  it('reports the closest union branch instead of a bare "invalid input"', () => {
    expect(issuesOf({ auth: { api_keys: [{ name: 'x', key: 5 }] } })).toEqual([
      'auth.api_keys[0].key: expected a string, got 5',
    ]);
    expect(issuesOf({ auth: { api_keys: [42] } })).toEqual([
      'auth.api_keys[0]: expected a string or an object, got 42',
    ]);
  });

  it('says required for a missing field', () => {
    expect(issuesOf({ teams: [{ id: 't' }] })).toEqual(['teams[0].members: required']);
  });

  it('requires exactly one kind per workflow step', () => {
    expect(issuesOf({ agents: [{ id: 'a' }], workflows: [{ id: 'w', steps: [{ name: 's' }] }] })).toEqual([
      'workflows[0].steps[0]: set exactly one of agent, team, function, parallel, condition, loop, router',
    ]);
  });

  it('checks the agents, teams and functions that nested workflow steps name', () => {
    const issues = issuesOf({
      agents: [{ id: 'a' }],
      workflows: [
        {
          id: 'w',
          steps: [
            {
              name: 'l',
              loop: {
                steps: [
                  {
                    name: 'p',
                    parallel: [
                      { name: 'x', agent: 'ghost' },
                      { name: 'f', function: 'nope' },
                    ],
                  },
                ],
              },
            },
            { name: 'x', agent: 'a' },
          ],
        },
      ],
    });
    expect(issues).toEqual([
      'workflows[0].steps[0].loop.steps[0].parallel[0].agent: unknown agent "ghost"',
      'workflows[0].steps[0].loop.steps[0].parallel[1].function: unknown function "nope"',
      'workflows[0].steps[1].name: duplicate step name "x"',
    ]);
  });
});

describe('configSchema cross-checks', () => {
  it('names a duplicate id across agents, teams and workflows', () => {
    const issues = issuesOf({
      agents: [{ id: 'a' }],
      teams: [{ id: 'a', members: ['a'] }],
    });

    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatch(/^teams\[0\]\.id: duplicate id "a" \(already used by agents\[0\]/);
  });

  it('names an unknown tool', () => {
    expect(issuesOf({ agents: [{ id: 'a', tools: ['calculator', 'send_email'] }] })).toEqual([
      'agents[0].tools[1]: unknown tool "send_email" (expected a built-in: calculator, current_time, http_request, ' +
        'knowledge_search, memory_search, or a name from tools)',
    ]);
  });

  it('accepts a declared tool and refuses one that shadows a built-in', () => {
    const tools = [{ name: 'send_email', description: 'Send an email.' }];
    expect(() =>
      parseConfig({ tools, agents: [{ id: 'a', tools: ['send_email'] }] }, { source: 'test' }),
    ).not.toThrow();
    expect(issuesOf({ tools: [{ name: 'calculator', description: 'Mine.' }] })).toEqual([
      'tools[0].name: "calculator" is a built-in tool; choose another name',
    ]);
  });

  it('names an unknown knowledge base', () => {
    expect(issuesOf({ agents: [{ id: 'a', knowledge: 'docs' }] })).toEqual([
      'agents[0].knowledge: unknown knowledge base "docs"',
    ]);
  });

  it('names an unknown team member', () => {
    expect(issuesOf({ agents: [{ id: 'a' }], teams: [{ id: 't', members: ['a', 'ghost'] }] })).toEqual([
      'teams[0].members[1]: unknown member "ghost" (expected an agent or team id)',
    ]);
  });

  it('names a team cycle', () => {
    const issues = issuesOf({
      agents: [{ id: 'a' }],
      teams: [
        { id: 't1', members: ['a', 't2'] },
        { id: 't2', members: ['t1'] },
      ],
    });

    expect(issues).toEqual(['teams[1].members[0]: team cycle: t1 → t2 → t1']);
  });

  it('names a team that contains itself', () => {
    expect(issuesOf({ teams: [{ id: 't', members: ['t'] }] })).toEqual([
      'teams[0].members[0]: team "t" lists itself as a member',
    ]);
  });

  it('names workflow steps that point nowhere', () => {
    const issues = issuesOf({
      agents: [{ id: 'a' }],
      workflows: [
        {
          id: 'w',
          steps: [
            { name: 'one', agent: 'b' },
            { name: 'two', team: 'a' },
          ],
        },
      ],
    });

    expect(issues).toEqual([
      'workflows[0].steps[0].agent: unknown agent "b"',
      'workflows[0].steps[1].team: unknown team "a"',
    ]);
  });

  it('names a bad default_agent', () => {
    expect(issuesOf({ agents: [{ id: 'a' }], default_agent: 'b' })).toEqual(['default_agent: unknown agent "b"']);
    expect(issuesOf({ agents: [{ id: 'a' }], teams: [{ id: 't', members: ['a'] }], default_agent: 't' })).toEqual([
      'default_agent: unknown agent "t" (it is a team; default_agent must name an agent)',
    ]);
  });
});

describe('environment references', () => {
  // Built with a helper: the literal text `${NAME}` is what config files contain, not a template placeholder.
  const ref = (name: string): string => `$\{${name}}`;
  const tools = [
    {
      name: 'send_email',
      description: 'Send an email.',
      webhook: { url: `https://${ref('HOOK_HOST')}/send`, headers: { 'X-Token': ref('HOOK_TOKEN') } },
    },
  ];

  it('fills webhook urls, webhook headers and api keys from env', () => {
    const config = parseConfig(
      { tools, auth: { api_keys: [ref('KEY_ONE'), { name: 'two', key: `k-${ref('KEY_TWO')}` }] } },
      { source: 'test', env: { HOOK_HOST: 'hooks.example.com', HOOK_TOKEN: 't0k3n', KEY_ONE: 'one', KEY_TWO: 'two' } },
    );

    expect(config.tools[0]?.webhook).toEqual({
      url: 'https://hooks.example.com/send',
      headers: { 'X-Token': 't0k3n' },
      timeout_ms: 30_000,
    });
    expect(config.auth.api_keys.map((apiKey) => apiKey.key)).toEqual(['one', 'k-two']);
  });

  it('names the path of a missing variable', () => {
    expect(issuesOf({ tools }, { HOOK_HOST: 'hooks.example.com' })).toEqual([
      'tools[0].webhook.headers.X-Token: environment variable HOOK_TOKEN is not set',
    ]);
  });

  it('leaves references elsewhere alone', () => {
    const config = parseConfig({ agents: [{ id: 'a', instructions: `Say ${ref('HELLO')}.` }] }, { source: 'test' });

    expect(config.agents[0]?.instructions).toBe(`Say ${ref('HELLO')}.`);
  });
});

describe('helpers', () => {
  it('parses sizes', () => {
    expect(parseByteSize('1mb')).toBe(1_048_576);
    expect(parseByteSize('512 KB')).toBe(524_288);
    expect(parseByteSize(42)).toBe(42);
    expect(parseByteSize('1.5kb')).toBe(1536);
    expect(parseByteSize('lots')).toBeNull();
    expect(parseByteSize(-1)).toBeNull();
  });

  it('parses rate limits', () => {
    expect(parseRateLimit('10/m')).toEqual({ limit: 10, window_ms: 60_000 });
    expect(parseRateLimit('1/d')).toEqual({ limit: 1, window_ms: 86_400_000 });
    expect(parseRateLimit('0/h')).toBeNull();
    expect(parseRateLimit('10/w')).toBeNull();
  });

  it('splits model ids at the first colon', () => {
    expect(parseModelId('ollama:llama3.1:8b')).toEqual({ provider: 'ollama', model: 'llama3.1:8b' });
    expect(parseModelId('opnai:gpt')).toBeNull();
    expect(modelIdSchema.safeParse('anthropic:claude-sonnet-4-5').success).toBe(true);
  });

  it('exposes idSchema for path params', () => {
    expect(idSchema.safeParse('research-team').success).toBe(true);
    expect(idSchema.safeParse('-leading-dash').success).toBe(false);
    expect(idSchema.safeParse('x'.repeat(129)).success).toBe(false);
  });
});
