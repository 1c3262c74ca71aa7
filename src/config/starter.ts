/**
 * The commented starter file that `agentos init` writes.
 * @module
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ConflictError } from '../errors/index.js';

/** The file name `agentos init` writes, the YAML form discovery finds. */
export const STARTER_CONFIG_FILE_NAME = 'agentos.config.yaml';

/**
 * A commented starter `agentos.config.yaml`: every top-level key, each with a one-line explanation, using only the
 * offline `local:default` model so it runs without keys or network.
 */
export const STARTER_CONFIG_YAML = `# agentos.config.yaml: configuration of this AgentOS server (reference: docs/config.md).
# Unknown keys are errors. Environment variables beat this file: AGENTOS_HOST, AGENTOS_PORT,
# AGENTOS_DB_URL, AGENTOS_LOG_LEVEL, AGENTOS_API_KEY, AGENTOS_JWT_SECRET, AGENTOS_JWT_PUBLIC_KEY.

# Display name, reported by GET /info.
name: My AgentOS

# Free text reported by GET /info.
# description: Agents for the support team.

# Stable id of this AgentOS instance (letters, digits, _ . : -).
os_id: agentos

# HTTP listener. A host other than loopback needs credentials (see auth).
server:
  host: 127.0.0.1
  port: 7777
  cors_origins: ["*"]          # browser origins allowed to call the API
  body_limit: 1mb              # largest JSON or form body
  upload_limit: 50mb           # largest multipart upload
  shutdown_timeout_ms: 10000   # how long in-flight runs get on SIGTERM

# Storage: sqlite:<path>, sqlite::memory: or postgres://user:password@host/db
database:
  url: sqlite:./.agentos/agentos.db

# fatal | error | warn | info | debug | trace | silent
log_level: info

# Model for agents and teams that name none: provider:model with provider openai, anthropic, ollama or local.
models:
  default: local:default

# Credentials. With none, the server runs in dev mode and only on a loopback host.
auth:
  api_keys: []
  # api_keys:
  #   - "\${MY_API_KEY}"                          # a plain key (filled from the environment), scope admin
  #   - { name: ci, key_sha256: <64 hex digits>, scopes: [agents:read] }
  # jwt: { secret: "\${JWT_SECRET}", audience: agentos }   # or public_key / jwks_file for RS256 / ES256

# Requests allowed per class: N/s, N/m, N/h or N/d; false turns one class, or (rate_limits: false) all, off.
rate_limits:
  read: 200/h
  write: 100/h
  message: 60/h
  workflow_run: 100/h

# Daily token and cost budgets (UTC days) per caller (key id, config key name, JWT sub) and per agent.
# quotas: { per_key: { daily_tokens: 200000 }, per_agent: { daily_cost_usd: 5 }, keys: { ci-bot: false } }

# Agent that answers /api/chat and /api/tasks when the request names none.
default_agent: assistant

# Declarative tools, named by agents like the built-ins (calculator, current_time, http_request,
# knowledge_search, memory_search). Without a webhook the run pauses for the caller to supply the result.
tools: []
# tools:
#   - name: send_email
#     description: Send an email to a recipient.
#     parameters: { type: object, properties: { to: { type: string }, body: { type: string } }, required: [to] }
#     webhook: { url: "https://hooks.example.com/send-email", headers: { X-Token: "\${HOOK_TOKEN}" } }

# Built-in tool settings. http_request refuses private, loopback and link-local addresses (also after
# redirects) unless the host is listed here.
builtin_tools:
  http_request: { allowed_hosts: [], timeout_ms: 15000 }

# MCP servers whose tools agents may use (agents list ids under mcp_servers); tools are offered as
# <tool_prefix><name> (default prefix <id>_). A server that is down withholds its tools and is retried.
# mcp_servers:
#   - { id: files, url: "http://127.0.0.1:8931/mcp", headers: { Authorization: "Bearer \${FILES_TOKEN}" } }
#   - { id: git, command: npx, args: [-y, some-mcp-git-server], tool_prefix: git_ }

# Agents: one model, instructions and tools each.
agents:
  - id: assistant
    name: Assistant
    model: local:default
    instructions: You are a helpful assistant. Answer briefly.
    tools: [calculator, current_time]
    memory: false          # true: extract and recall user memories
    history_runs: 3        # previous runs of the session added to the context
    max_steps: 10          # most steps (model calls) one run may take
  - id: reviewer
    name: Reviewer
    model: local:default
    instructions: You review a draft and point out what is unclear.

# Teams: coordinate (a leader delegates), route (one member answers) or collaborate (all answer).
teams:
  - id: writers
    name: Writers
    mode: coordinate
    members: [assistant, reviewer]

# Workflows: steps run in order, each output the next step's input. A step is one of agent, team, function
# (a code function of a .ts config), parallel, condition, loop or router; each may set input (a template:
# {{input}}, {{message}}, {{steps.<name>}}, {{state.<key>}}), timeout_ms, max_retries, retry_backoff_ms,
# on_error (fail | skip | retry) and requires_confirmation.
workflows:
  - id: draft-and-review
    name: Draft and review
    steps:
      - { name: draft, agent: assistant }
      - { name: review, agent: reviewer }

# Code functions that workflow steps name (only a .ts config or the library can pass functions).
# functions: { shout: ({ input }) => String(input).toUpperCase() }

# Knowledge bases that agents search with knowledge_search (set an agent's knowledge: <id>).
knowledge: []
# knowledge:
#   - { id: docs, name: Docs, embedder: local:default, sources: [{ path: ./docs }] }

# User memory of agents with memory: true. Recall is keyword-ranked; an embedder adds semantic recall.
# memory: { embedder: local:default, recall_tokens: 400 }

# Schedule engine: how often each process looks for due schedules, and how late a slot may fire before it
# counts as missed (then the schedule's catch_up policy, skip or run_once, decides).
# schedules: { enabled: true, tick_ms: 1000, misfire_grace_ms: 60000 }

# Event bus subscribers: topics (a trailing * matches any rest) and exactly one of webhook, agent, workflow.
# Webhooks get a POST signed in X-AgentOS-Signature (sha256=HMAC of the body with the secret).
# events:
#   subscribers:
#     - { id: notify, topics: ["orders.*"], webhook: { url: "https://hooks.example.com/agentos", secret: "\${HOOK_SECRET}" } }
#     - { id: triage, topics: [tickets.new], agent: assistant }
#   max_attempts: 10

# Tracing: OpenTelemetry GenAI spans stored for /traces (capture_content also records prompts and replies;
# otlp also ships them to a collector).
# tracing: { enabled: true, capture_content: false, otlp: { endpoint: "http://127.0.0.1:4318/v1/traces" } }

# Token prices (USD per million) for cost in /metrics, added to the built-in table.
# pricing:
#   "openai:my-finetune": { input_per_million: 3, output_per_million: 12 }

# Evals: the model that judges accuracy and agent_as_judge evals (default: the evaluated agent's model).
# evals: { judge_model: openai:gpt-4o-mini }

# Voice (WebSocket /audio, POST /api/chat/voice): offline PocketSphinx + eSpeak NG by default
# (npm run setup:voice installs them); openai:whisper-1 / openai:tts-1 use OPENAI_BASE_URL.
# voice: { stt: local:pocketsphinx, tts: local:espeak-ng, max_sessions: 10, vad: { silence_ms: 500 } }
`;

/** Options of {@link writeStarterConfig}. */
export interface WriteStarterConfigOptions {
  /** Overwrite an existing file. */
  force?: boolean;
}

/**
 * Writes {@link STARTER_CONFIG_YAML} to `<dir>/agentos.config.yaml` (creating `dir`) and returns its absolute path;
 * throws {@link ConflictError} when the file exists and `force` is not set.
 */
export async function writeStarterConfig(
  dir: string,
  { force = false }: WriteStarterConfigOptions = {},
): Promise<string> {
  const file = resolve(dir, STARTER_CONFIG_FILE_NAME);
  await mkdir(dir, { recursive: true });
  try {
    // 'wx' makes the existence check and the write one step, so a concurrent init cannot be clobbered.
    await writeFile(file, STARTER_CONFIG_YAML, { encoding: 'utf8', flag: force ? 'w' : 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new ConflictError(`${file} already exists; remove it or overwrite it with force`, { path: file });
    }
    throw error;
  }
  return file;
}
