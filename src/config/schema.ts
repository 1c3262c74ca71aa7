/**
 * The one zod schema for `agentos.config.{ts,yaml,json}` (CONTRACT.md §2): field rules, defaults and the
 * cross-references between agents, teams, workflows, tools and knowledge bases.
 * @module
 */
import { z } from 'zod';
import { parseByteSize } from './byte-size.js';
import { checkMcpServers, mcpServersSchema } from './mcp-schema.js';
import { evalsSchema, pricingSchema, tracingSchema } from './observability-schema.js';
import { quotasSchema } from './quota-schema.js';
import { DEFAULT_RATE_LIMITS, parseRateLimit, type RATE_LIMIT_CLASSES, type RateLimitRule } from './rate-limit.js';
import { voiceSchema } from './voice-schema.js';
import { checkWorkflowSteps, workflowFunctionsSchema, workflowStepSchema } from './workflow-schema.js';

/** What every agent, team, workflow, knowledge base and OS id must match; ids also appear in URLs. */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

/** A zod schema for one id ({@link ID_PATTERN}); the HTTP rooms reuse it for path params. */
export const idSchema = z
  .string()
  .regex(ID_PATTERN, { error: (issue) => `invalid id ${quote(issue.input)} (expected ${ID_PATTERN.source})` });

/** What a declared tool name must match; providers reject other function names. */
export const TOOL_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;

/** The tools every config can name without declaring them. */
export const BUILTIN_TOOL_NAMES = [
  'calculator',
  'current_time',
  'http_request',
  'knowledge_search',
  'memory_search',
] as const;

/** One of {@link BUILTIN_TOOL_NAMES}. */
export type BuiltinToolName = (typeof BUILTIN_TOOL_NAMES)[number];

/** The model providers a `provider:model` id may name. */
export const KNOWN_PROVIDERS = ['openai', 'anthropic', 'ollama', 'local'] as const;

/** One of {@link KNOWN_PROVIDERS}. */
export type ModelProvider = (typeof KNOWN_PROVIDERS)[number];

/** The only model the offline `local` provider has. */
export const LOCAL_MODEL_ID = 'local:default';

/** The log levels `log_level` accepts (pino's, plus `silent`). */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Splits a `provider:model` id at its first colon, or returns `null` when the provider is unknown or a part is empty. */
export function parseModelId(id: string): { provider: ModelProvider; model: string } | null {
  return modelIdProblem(id) === undefined ? splitModelId(id) : null;
}

function splitModelId(id: string): { provider: ModelProvider; model: string } {
  // Only the first colon separates: Ollama tags such as `llama3.1:8b` carry their own.
  const colon = id.indexOf(':');
  return { provider: id.slice(0, colon) as ModelProvider, model: id.slice(colon + 1) };
}

function modelIdProblem(id: string): string | undefined {
  const colon = id.indexOf(':');
  if (colon <= 0 || colon === id.length - 1) {
    return `invalid model id ${quote(id)} (expected provider:model, e.g. ${LOCAL_MODEL_ID} or openai:gpt-4o-mini)`;
  }
  const provider = id.slice(0, colon);
  if (!(KNOWN_PROVIDERS as readonly string[]).includes(provider)) {
    return `unknown provider ${quote(provider)} (expected one of ${KNOWN_PROVIDERS.join(', ')})`;
  }
  if (provider === 'local' && id !== LOCAL_MODEL_ID) {
    return `unknown local model ${quote(id.slice(colon + 1))} (the local provider has only ${LOCAL_MODEL_ID})`;
  }
  return undefined;
}

/** A zod schema for a `provider:model` id whose provider is one of {@link KNOWN_PROVIDERS}. */
export const modelIdSchema = z.string().superRefine((value, context) => {
  const problem = modelIdProblem(value);
  if (problem !== undefined) context.addIssue({ code: 'custom', message: problem });
});

// Anthropic has no embedding models, so a knowledge base could never index with one.
const embedderIdSchema = modelIdSchema.superRefine((value, context) => {
  if (parseModelId(value)?.provider === 'anthropic') {
    context.addIssue({ code: 'custom', message: `anthropic has no embedding models (use openai, ollama or local)` });
  }
});

/**
 * `z.strictObject` whose unknown-key issue names each key on its own line and suggests the closest known key, so a
 * typo such as `modle` reads `unknown key "modle" (did you mean "model"?)`.
 */
function strictObject<Shape extends z.ZodRawShape>(shape: Shape) {
  const knownKeys = Object.keys(shape);
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? issue.keys.map((key) => unknownKeyMessage(key, knownKeys)).join('\n')
        : undefined,
  });
}

function unknownKeyMessage(key: string, knownKeys: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const known of knownKeys) {
    const distance = editDistance(key.toLowerCase(), known.toLowerCase());
    if (distance < bestDistance) {
      best = known;
      bestDistance = distance;
    }
  }
  const close = best !== undefined && bestDistance <= (best.length <= 3 ? 1 : 2);
  return close ? `unknown key ${quote(key)} (did you mean ${quote(best)}?)` : `unknown key ${quote(key)}`;
}

// Optimal string alignment distance: Levenshtein plus adjacent swaps, the commonest typo (`modle`).
function editDistance(left: string, right: string): number {
  const rows = Array.from({ length: left.length + 1 }, (_, row) =>
    Array.from({ length: right.length + 1 }, (_, column) => (row === 0 ? column : column === 0 ? row : 0)),
  );
  const at = (row: number, column: number): number => rows[row]?.[column] ?? 0;
  for (let row = 1; row <= left.length; row += 1) {
    for (let column = 1; column <= right.length; column += 1) {
      const cost = left[row - 1] === right[column - 1] ? 0 : 1;
      let distance = Math.min(at(row - 1, column) + 1, at(row, column - 1) + 1, at(row - 1, column - 1) + cost);
      if (row > 1 && column > 1 && left[row - 1] === right[column - 2] && left[row - 2] === right[column - 1]) {
        distance = Math.min(distance, at(row - 2, column - 2) + 1);
      }
      const cells = rows[row];
      if (cells !== undefined) cells[column] = distance;
    }
  }
  return at(left.length, right.length);
}

function quote(value: unknown): string {
  return JSON.stringify(typeof value === 'string' ? value : String(value));
}

const nonEmptyString = z.string().min(1);

const httpUrlSchema = z.string().superRefine((value, context) => {
  let protocol: string | undefined;
  try {
    protocol = new URL(value).protocol;
  } catch {
    protocol = undefined;
  }
  if (protocol !== 'http:' && protocol !== 'https:') {
    context.addIssue({ code: 'custom', message: 'expected an http:// or https:// URL' });
  }
});

const byteSizeSchema = z
  .union([z.number(), z.string()], { error: 'expected a number of bytes or a size such as 512kb, 1mb, 50mb' })
  .transform((value, context) => {
    const bytes = parseByteSize(value);
    if (bytes === null || bytes < 1) {
      context.addIssue({
        code: 'custom',
        message: `invalid size ${quote(value)} (expected a number of bytes or a size such as 512kb, 1mb, 50mb)`,
      });
      return z.NEVER;
    }
    return bytes;
  });

const serverSchema = strictObject({
  host: nonEmptyString.default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(7777),
  cors_origins: z.array(nonEmptyString).default(['*']),
  body_limit: byteSizeSchema.default(1024 ** 2),
  upload_limit: byteSizeSchema.default(50 * 1024 ** 2),
  shutdown_timeout_ms: z.number().int().min(0).default(10_000),
  /** How often a server renews the leases of the runs it executes (default 5000; run-ownership decision). */
  run_heartbeat_ms: z.number().int().min(10).optional(),
  /** A run whose lease was not renewed for this long is taken over by another replica (default 30000). */
  run_lease_ms: z.number().int().min(50).optional(),
  /**
   * Behind a reverse proxy: `true` (trust every hop), a hop count, or the proxy addresses / CIDRs. Only then is
   * the client address (the rate-limit key of unauthenticated callers) read from `X-Forwarded-For`.
   */
  trust_proxy: z
    .union([z.boolean(), z.number().int().min(1), z.array(nonEmptyString).min(1)], {
      error: 'expected true, false, a hop count or a list of proxy addresses (CIDR allowed)',
    })
    .optional(),
});

/** The database used when the config names none. */
export const DEFAULT_DATABASE_URL = 'sqlite:./.agentos/agentos.db';

const databaseUrlSchema = z.string().superRefine((value, context) => {
  if (/^sqlite:.+/.test(value) || /^postgres(ql)?:\/\/./.test(value)) return;
  // Name only the scheme: the rest of a database URL may hold a password.
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(value)?.[1];
  const got = scheme === undefined ? '' : ` ${quote(`${scheme}:`)}`;
  context.addIssue({
    code: 'custom',
    message: `unsupported database url${got} (expected sqlite:<path>, sqlite::memory:, postgres://… or postgresql://…)`,
  });
});

const databaseSchema = strictObject({ url: databaseUrlSchema.default(DEFAULT_DATABASE_URL) });

const scopeSchema = z.string().regex(/^\S+$/, { error: 'expected a scope such as admin or agents:read' });

/** The roles of `auth/scopes.ts` (config is a leaf and names them itself; a test keeps both lists equal). */
export const ROLE_NAMES = ['viewer', 'editor', 'admin', 'owner'] as const;

const apiKeyObjectSchema = z.preprocess(
  // A key with a role and no scopes gets only its role, not the default admin scope.
  (input) =>
    typeof input === 'object' && input !== null && 'role' in input && !('scopes' in input)
      ? { ...input, scopes: [] }
      : input,
  strictObject({
    name: nonEmptyString,
    key: nonEmptyString.optional(),
    key_sha256: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, { error: 'expected 64 hex characters (a SHA-256 digest)' })
      .transform((digest) => digest.toLowerCase())
      .optional(),
    scopes: z.array(scopeSchema).default(['admin']),
    role: z.enum(ROLE_NAMES).optional(),
  }).superRefine((apiKey, context) => {
    if ((apiKey.key === undefined) === (apiKey.key_sha256 === undefined)) {
      context.addIssue({ code: 'custom', message: 'set exactly one of key or key_sha256' });
    }
  }),
);

/** One API key from the config, after strings were turned into admin keys. */
export type ApiKeyConfig = z.output<typeof apiKeyObjectSchema>;

const apiKeysSchema = z
  .array(z.union([nonEmptyString, apiKeyObjectSchema]))
  .transform((entries) =>
    entries.map(
      (entry, index): ApiKeyConfig =>
        typeof entry === 'string' ? { name: `config-key-${index}`, key: entry, scopes: ['admin'] } : entry,
    ),
  );

/** The JWT algorithms CONTRACT.md §4 names: HS256 with a secret, RS256 and ES256 with a public key or JWKS. */
export const JWT_ALGORITHMS = ['HS256', 'RS256', 'ES256'] as const;

const jwtSchema = strictObject({
  secret: nonEmptyString.optional(),
  public_key: nonEmptyString.optional(),
  jwks_file: nonEmptyString.optional(),
  audience: z.union([nonEmptyString, z.array(nonEmptyString).min(1)]).optional(),
  algorithms: z.array(z.enum(JWT_ALGORITHMS)).min(1).optional(),
}).superRefine((jwt, context) => {
  // A jwt block without key material would switch /info to auth_mode "jwt" yet accept no token.
  if (jwt.secret === undefined && jwt.public_key === undefined && jwt.jwks_file === undefined) {
    context.addIssue({ code: 'custom', message: 'set at least one of secret, public_key or jwks_file' });
  }
});

const authSchema = strictObject({
  api_keys: apiKeysSchema.default([]),
  jwt: jwtSchema.optional(),
  /** Every authenticated request must name its workspace in `X-Workspace-ID` (400 otherwise). */
  tenancy: z.boolean().default(false),
  /**
   * Pins every non-admin caller that has a user id (a JWT `sub`) to it: runs and sessions it creates carry
   * that user, lists show only that user's, and another user's objects answer 404. API keys have no user id.
   */
  user_isolation: z.boolean().default(false),
});

const rateLimitRuleSchema = z
  .union(
    [
      z.literal(false),
      z.string(),
      strictObject({ limit: z.number().int().min(1), window_ms: z.number().int().min(1) }),
    ],
    {
      error: 'expected a rate such as 100/h (N/s, N/m, N/h, N/d) or false',
    },
  )
  .transform((value, context): RateLimitRule | false => {
    if (typeof value !== 'string') return value;
    const rule = parseRateLimit(value);
    if (rule === null) {
      context.addIssue({
        code: 'custom',
        message: `invalid rate ${quote(value)} (expected N/s, N/m, N/h or N/d, or false)`,
      });
      return z.NEVER;
    }
    return rule;
  });

function defaultRule(rateLimitClass: (typeof RATE_LIMIT_CLASSES)[number]): RateLimitRule {
  const rule = parseRateLimit(DEFAULT_RATE_LIMITS[rateLimitClass]);
  if (rule === null) throw new Error(`bad built-in rate limit for ${rateLimitClass}`);
  return rule;
}

/**
 * A route of `rate_limits.routes`: `METHOD /path` as the OpenAPI document writes it (`POST /agents/{agent_id}/runs`);
 * Fastify's `:agent_id` form is accepted too. Stored as Fastify writes it, so the limiter compares strings.
 */
const RATE_LIMIT_ROUTE_PATTERN = /^(GET|HEAD|POST|PUT|PATCH|DELETE) \/\S*$/;

const rateLimitRoutesSchema = z
  .record(z.string(), rateLimitRuleSchema)
  .superRefine((routes, context) => {
    for (const route of Object.keys(routes)) {
      if (RATE_LIMIT_ROUTE_PATTERN.test(route)) continue;
      context.addIssue({
        code: 'custom',
        path: [route],
        message: `invalid route ${quote(route)} (expected METHOD /path, e.g. "POST /agents/{agent_id}/runs")`,
      });
    }
  })
  .transform((routes) =>
    Object.fromEntries(
      Object.entries(routes).map(([route, rule]) => [route.replace(/\{([^}/]+)\}/g, ':$1'), rule] as const),
    ),
  );

/** Overrides for one caller (`rate_limits.keys.<key id, config key name or JWT sub>`); unset classes keep the global rule. */
const rateLimitKeySchema = strictObject({
  read: rateLimitRuleSchema.optional(),
  write: rateLimitRuleSchema.optional(),
  message: rateLimitRuleSchema.optional(),
  workflow_run: rateLimitRuleSchema.optional(),
  routes: rateLimitRoutesSchema.optional(),
});

const rateLimitsSchema = z.union(
  [
    z.literal(false),
    strictObject({
      read: rateLimitRuleSchema.default(() => defaultRule('read')),
      write: rateLimitRuleSchema.default(() => defaultRule('write')),
      message: rateLimitRuleSchema.default(() => defaultRule('message')),
      workflow_run: rateLimitRuleSchema.default(() => defaultRule('workflow_run')),
      /** Per-route rules; a route rule counts in its own bucket and wins over the class rule. */
      routes: rateLimitRoutesSchema.optional(),
      /** Per-caller overrides, keyed by API key id, config key name or JWT `sub`. */
      keys: z.record(z.string().min(1), rateLimitKeySchema).optional(),
    }),
  ],
  { error: 'expected false or an object of rates (read, write, message, workflow_run, routes, keys)' },
);

const instructionsSchema = z.union([z.string(), z.array(z.string())], {
  error: 'expected a string or a list of strings',
});

const webhookSchema = strictObject({
  url: httpUrlSchema,
  headers: z.record(z.string(), z.string()).optional(),
  timeout_ms: z.number().int().min(1).max(600_000).default(30_000),
});

const toolSchema = strictObject({
  name: z.string().regex(TOOL_NAME_PATTERN, {
    error: (issue) => `invalid tool name ${quote(issue.input)} (expected ${TOOL_NAME_PATTERN.source})`,
  }),
  description: nonEmptyString,
  parameters: z
    .record(z.string(), z.unknown())
    .refine((schema) => schema.type === 'object', {
      // Model providers accept only object-typed parameter schemas for function tools.
      error: 'expected a JSON schema with type: object',
    })
    .default(() => ({ type: 'object', properties: {} })),
  webhook: webhookSchema.optional(),
});

const agentToolSchema = z
  .union([
    nonEmptyString,
    strictObject({
      name: nonEmptyString,
      requires_confirmation: z.boolean().optional(),
      requires_user_input: z.boolean().optional(),
      external_execution: z.boolean().optional(),
      approval: z.literal('required').optional(),
      /** With `requires_user_input`: the arguments the human fills in (default: all of the tool's parameters). */
      user_input_fields: z.array(nonEmptyString).min(1).optional(),
      /** A pending approval of this tool expires after this many seconds and its paused run is cancelled. */
      approval_timeout_s: z
        .number()
        .int()
        .min(1)
        .max(30 * 24 * 3600)
        .optional(),
    }),
  ])
  .transform((entry) => (typeof entry === 'string' ? { name: entry } : entry));

const agentSchema = strictObject({
  id: idSchema,
  name: nonEmptyString.optional(),
  description: z.string().optional(),
  model: modelIdSchema.optional(),
  instructions: instructionsSchema.optional(),
  tools: z.array(agentToolSchema).default([]),
  knowledge: idSchema.optional(),
  memory: z.boolean().default(false),
  history_runs: z.number().int().min(0).default(3),
  max_steps: z.number().int().min(1).max(50).default(10),
  /** Ids from `mcp_servers` whose tools this agent may call (issue 11). */
  mcp_servers: z.array(idSchema).optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
});

/** The ways a team runs its members. */
export const TEAM_MODES = ['coordinate', 'route', 'collaborate'] as const;

const teamSchema = strictObject({
  id: idSchema,
  name: nonEmptyString.optional(),
  description: z.string().optional(),
  mode: z.enum(TEAM_MODES).default('coordinate'),
  model: modelIdSchema.optional(),
  instructions: instructionsSchema.optional(),
  members: z.array(idSchema).min(1),
});

const workflowSchema = strictObject({
  id: idSchema,
  name: nonEmptyString.optional(),
  description: z.string().optional(),
  steps: z.array(workflowStepSchema).min(1),
});

const knowledgeSourceSchema = strictObject({
  path: nonEmptyString.optional(),
  url: httpUrlSchema.optional(),
}).superRefine((source, context) => {
  if ((source.path === undefined) === (source.url === undefined)) {
    context.addIssue({ code: 'custom', message: 'set exactly one of path or url' });
  }
});

const knowledgeSchema = strictObject({
  id: idSchema,
  name: nonEmptyString.optional(),
  description: z.string().optional(),
  embedder: embedderIdSchema.default(LOCAL_MODEL_ID),
  sources: z.array(knowledgeSourceSchema).default([]),
});

/**
 * The schedule engine (`schedules/`): how often each process looks for due schedules, and how late a slot
 * may fire before it counts as missed (then the schedule's catch-up policy decides).
 */
const schedulesSchema = strictObject({
  enabled: z.boolean().default(true),
  tick_ms: z.number().int().min(50).max(60_000).default(1000),
  misfire_grace_ms: z.number().int().min(0).max(86_400_000).default(60_000),
}).prefault({});

/** One event-bus subscriber: topics (`*` matches any rest) and exactly one of webhook, agent, workflow. */
const busSubscriberSchema = strictObject({
  id: idSchema,
  topics: z.array(z.string().regex(/^[A-Za-z0-9_.:*-]{1,128}$/)).min(1),
  webhook: strictObject({
    url: httpUrlSchema,
    /** HMAC-SHA256 key of the `X-AgentOS-Signature` header. */
    secret: z.string().min(16),
    headers: z.record(z.string(), z.string()).optional(),
    timeout_ms: z.number().int().min(1).max(600_000).default(10_000),
  }).optional(),
  agent: idSchema.optional(),
  workflow: idSchema.optional(),
}).refine((entry) => [entry.webhook, entry.agent, entry.workflow].filter((x) => x !== undefined).length === 1, {
  error: 'expected exactly one of webhook, agent, workflow',
});

/** The event bus (`bus/`): subscribers and their retry policy (at-least-once delivery). */
const eventsSchema = strictObject({
  subscribers: z.array(busSubscriberSchema).default([]),
  tick_ms: z.number().int().min(50).max(60_000).default(500),
  max_attempts: z.number().int().min(1).max(100).default(10),
  retry_base_ms: z.number().int().min(10).max(3_600_000).default(1000),
  /**
   * How long a claimed delivery is held before another process may retry it. Renewed (heartbeat) while
   * the deliverer runs, so only a crashed process's claims lapse; longer than any webhook `timeout_ms`.
   */
  lease_ms: z.number().int().min(100).max(3_600_000).default(60_000),
})
  .superRefine((events, context) => {
    events.subscribers.forEach((subscriber, index) => {
      if (subscriber.webhook && subscriber.webhook.timeout_ms >= events.lease_ms) {
        context.addIssue({
          code: 'custom',
          path: ['subscribers', index, 'webhook', 'timeout_ms'],
          message: `must be shorter than events.lease_ms (${events.lease_ms}), else a slow delivery is retried while it runs`,
        });
      }
    });
  })
  .prefault({});

/**
 * User memory (issue 6). Recall is keyword-ranked by default; `embedder` adds semantic recall (hybrid, RRF),
 * each memory embedded once, on write.
 */
const memorySettingsSchema = strictObject({
  embedder: embedderIdSchema.optional(),
  /** Token budget of the memories recalled into a run's context. */
  recall_tokens: z.number().int().min(50).max(8000).default(400),
}).prefault({});

/** Settings of the built-in tools. */
const builtinToolsSchema = strictObject({
  http_request: strictObject({
    /**
     * Hosts (`name` or `name:port`) `http_request` may reach even when they resolve to private, loopback or
     * link-local addresses; everything else private is refused (SSRF guard).
     */
    allowed_hosts: z.array(nonEmptyString).default([]),
    timeout_ms: z.number().int().min(100).max(300_000).default(15_000),
    max_response_bytes: z.number().int().min(1024).max(10_000_000).default(1_000_000),
  }).prefault({}),
}).prefault({});

/**
 * The whole config: every object is strict (unknown keys fail), defaults fill what is left out, and one cross-check
 * pass resolves the references between sections.
 */
export const configSchema = strictObject({
  name: nonEmptyString.default('Demo AgentOS'),
  description: z.string().optional(),
  os_id: idSchema.default('agentos'),
  server: serverSchema.prefault({}),
  database: databaseSchema.prefault({}),
  log_level: z.enum(LOG_LEVELS).default('info'),
  models: strictObject({ default: modelIdSchema.default(LOCAL_MODEL_ID) }).prefault({}),
  auth: authSchema.prefault({}),
  rate_limits: rateLimitsSchema.prefault({}),
  /** Daily token and cost budgets per caller and per agent (`config/quota-schema.ts`). */
  quotas: quotasSchema,
  default_agent: idSchema.optional(),
  tools: z.array(toolSchema).default([]),
  builtin_tools: builtinToolsSchema,
  mcp_servers: mcpServersSchema,
  schedules: schedulesSchema,
  events: eventsSchema,
  agents: z.array(agentSchema).default([]),
  teams: z.array(teamSchema).default([]),
  workflows: z.array(workflowSchema).default([]),
  /** Code functions that workflow steps name (`function:`); only a `.ts` config or the library passes them. */
  functions: workflowFunctionsSchema,
  knowledge: z.array(knowledgeSchema).default([]),
  memory: memorySettingsSchema,
  tracing: tracingSchema,
  pricing: pricingSchema,
  evals: evalsSchema,
  /** The voice pipeline (issue 15): engines, `/audio` session limit, VAD thresholds. */
  voice: voiceSchema,
}).superRefine((config, context) => {
  const report = (path: PropertyKey[], message: string) => context.addIssue({ code: 'custom', path, message });
  checkUniqueIds(config, report);
  checkTools(config, report);
  checkAgents(config, report);
  checkTeams(config, report);
  checkWorkflows(config, report);
  checkDefaultAgent(config, report);
  checkSubscribers(config, report);
  checkMcpServers(config, report);
});

/** A validated config, defaults filled in. */
export type AgentOsConfig = z.output<typeof configSchema>;
/** What a config file or `defineConfig()` may contain before validation. */
export type AgentOsConfigInput = z.input<typeof configSchema>;
/** One validated agent. */
export type AgentConfig = AgentOsConfig['agents'][number];
/** One tool entry of an agent, strings turned into `{ name }`. */
export type AgentToolConfig = AgentConfig['tools'][number];
/** One validated team. */
export type TeamConfig = AgentOsConfig['teams'][number];
/** One validated workflow. */
export type WorkflowConfig = AgentOsConfig['workflows'][number];
/** One step of a workflow: exactly one kind (`agent`, `team`, `function`, `parallel`, …) is set. */
export type WorkflowStepConfig = WorkflowConfig['steps'][number];
/** One declarative tool. */
export type ToolConfig = AgentOsConfig['tools'][number];
/** One knowledge base. */
export type KnowledgeConfig = AgentOsConfig['knowledge'][number];
/** `false` (all limits off) or one rule (or `false`) per request class. */
export type RateLimitConfig = AgentOsConfig['rate_limits'];
/** The HTTP listener settings, sizes in bytes. */
export type ServerConfig = AgentOsConfig['server'];
/** API keys and JWT settings. */
export type AuthConfig = AgentOsConfig['auth'];
/** JWT verification settings. */
export type JwtConfig = NonNullable<AuthConfig['jwt']>;

type Report = (path: PropertyKey[], message: string) => void;

type Section = 'agents' | 'teams' | 'workflows';

function checkUniqueIds(config: AgentOsConfig, report: Report): void {
  const owners = new Map<string, string>();
  const sections: Array<[Section, ReadonlyArray<{ id: string }>]> = [
    ['agents', config.agents],
    ['teams', config.teams],
    ['workflows', config.workflows],
  ];
  for (const [section, entries] of sections) {
    entries.forEach((entry, index) => {
      const owner = owners.get(entry.id);
      if (owner === undefined) {
        owners.set(entry.id, `${section}[${index}]`);
      } else {
        // One namespace: /v1/chat/completions and the MCP tools resolve a bare id to any of the three.
        report(
          [section, index, 'id'],
          `duplicate id ${quote(entry.id)} (already used by ${owner}; agents, teams and workflows share one namespace)`,
        );
      }
    });
  }
  const knowledgeIds = new Set<string>();
  config.knowledge.forEach((base, index) => {
    if (knowledgeIds.has(base.id)) report(['knowledge', index, 'id'], `duplicate knowledge id ${quote(base.id)}`);
    knowledgeIds.add(base.id);
  });
  const keyNames = new Set<string>();
  config.auth.api_keys.forEach((apiKey, index) => {
    if (keyNames.has(apiKey.name))
      report(['auth', 'api_keys', index, 'name'], `duplicate api key name ${quote(apiKey.name)}`);
    keyNames.add(apiKey.name);
  });
}

function checkTools(config: AgentOsConfig, report: Report): void {
  const names = new Set<string>();
  config.tools.forEach((tool, index) => {
    if ((BUILTIN_TOOL_NAMES as readonly string[]).includes(tool.name)) {
      report(['tools', index, 'name'], `${quote(tool.name)} is a built-in tool; choose another name`);
    } else if (names.has(tool.name)) {
      report(['tools', index, 'name'], `duplicate tool name ${quote(tool.name)}`);
    }
    names.add(tool.name);
  });
}

function checkAgents(config: AgentOsConfig, report: Report): void {
  const declared = new Set(config.tools.map((tool) => tool.name));
  const knowledgeIds = new Set(config.knowledge.map((base) => base.id));
  config.agents.forEach((agent, agentIndex) => {
    const seen = new Set<string>();
    agent.tools.forEach((tool, toolIndex) => {
      const path = ['agents', agentIndex, 'tools', toolIndex];
      if (!(BUILTIN_TOOL_NAMES as readonly string[]).includes(tool.name) && !declared.has(tool.name)) {
        report(
          path,
          `unknown tool ${quote(tool.name)} (expected a built-in: ${BUILTIN_TOOL_NAMES.join(', ')}, or a name from tools)`,
        );
      } else if (seen.has(tool.name)) {
        report(path, `tool ${quote(tool.name)} is listed twice`);
      }
      seen.add(tool.name);
    });
    if (agent.knowledge !== undefined && !knowledgeIds.has(agent.knowledge)) {
      report(['agents', agentIndex, 'knowledge'], `unknown knowledge base ${quote(agent.knowledge)}`);
    }
  });
}

function checkTeams(config: AgentOsConfig, report: Report): void {
  const agentIds = new Set(config.agents.map((agent) => agent.id));
  const teamIndexes = new Map(config.teams.map((team, index) => [team.id, index]));
  config.teams.forEach((team, teamIndex) => {
    const seen = new Set<string>();
    team.members.forEach((member, memberIndex) => {
      const path = ['teams', teamIndex, 'members', memberIndex];
      if (!agentIds.has(member) && !teamIndexes.has(member)) {
        report(path, `unknown member ${quote(member)} (expected an agent or team id)`);
      } else if (seen.has(member)) {
        report(path, `member ${quote(member)} is listed twice`);
      }
      seen.add(member);
    });
  });

  // Depth-first search over team → team edges; an edge back into the current path closes a cycle, which would
  // make a coordinating team delegate to itself forever.
  const state = new Map<number, 'visiting' | 'done'>();
  const trail: number[] = [];
  const visit = (teamIndex: number): void => {
    state.set(teamIndex, 'visiting');
    trail.push(teamIndex);
    const team = config.teams[teamIndex];
    team?.members.forEach((member, memberIndex) => {
      const memberTeam = agentIds.has(member) ? undefined : teamIndexes.get(member);
      if (memberTeam === undefined) return;
      if (state.get(memberTeam) === 'visiting') {
        const cycle = trail.slice(trail.indexOf(memberTeam)).map((index) => config.teams[index]?.id);
        const message =
          memberTeam === teamIndex
            ? `team ${quote(member)} lists itself as a member`
            : `team cycle: ${[...cycle, member].join(' → ')}`;
        report(['teams', teamIndex, 'members', memberIndex], message);
      } else if (!state.has(memberTeam)) {
        visit(memberTeam);
      }
    });
    trail.pop();
    state.set(teamIndex, 'done');
  };
  config.teams.forEach((_, teamIndex) => {
    if (!state.has(teamIndex)) visit(teamIndex);
  });
}

function checkWorkflows(config: AgentOsConfig, report: Report): void {
  const references = {
    agents: new Set(config.agents.map((agent) => agent.id)),
    teams: new Set(config.teams.map((team) => team.id)),
    functions: new Set(Object.keys(config.functions)),
  };
  config.workflows.forEach((workflow, workflowIndex) => {
    checkWorkflowSteps(workflow.steps, ['workflows', workflowIndex, 'steps'], references, report);
  });
}

function checkSubscribers(config: AgentOsConfig, report: Report): void {
  const ids = new Set<string>();
  config.events.subscribers.forEach((entry, index) => {
    const path = ['events', 'subscribers', index];
    if (ids.has(entry.id)) report([...path, 'id'], `duplicate subscriber id ${quote(entry.id)}`);
    ids.add(entry.id);
    if (entry.agent !== undefined && !config.agents.some((agent) => agent.id === entry.agent)) {
      report([...path, 'agent'], `unknown agent ${quote(entry.agent)}`);
    }
    if (entry.workflow !== undefined && !config.workflows.some((workflow) => workflow.id === entry.workflow)) {
      report([...path, 'workflow'], `unknown workflow ${quote(entry.workflow)}`);
    }
  });
}

function checkDefaultAgent(config: AgentOsConfig, report: Report): void {
  const id = config.default_agent;
  if (id === undefined || config.agents.some((agent) => agent.id === id)) return;
  const kind = config.teams.some((team) => team.id === id)
    ? ' (it is a team; default_agent must name an agent)'
    : config.workflows.some((workflow) => workflow.id === id)
      ? ' (it is a workflow; default_agent must name an agent)'
      : '';
  report(['default_agent'], `unknown agent ${quote(id)}${kind}`);
}
