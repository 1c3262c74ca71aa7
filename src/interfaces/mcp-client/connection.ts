/**
 * One configured MCP server (`mcp_servers[]`) as agentos sees it: a client connection (Streamable HTTP or a
 * stdio child process), the server's tools as agentos tool definitions, and a reconnect loop with
 * exponential backoff. A server that is down never throws at start-up or at resolve time: its tools are
 * simply not offered, and health reports it as "tools unavailable".
 * @module
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { type McpServerConfig, toolPrefixOf } from '../../config/mcp-schema.js';
import type { Logger } from '../../logging/logger.js';
import type { ToolDefinition } from '../../runtime/tools/types.js';
import { VERSION } from '../../version.js';

/**
 * The MCP SDK's client pieces, imported when the first configured server connects: a config without
 * `mcp_servers` never loads the SDK (or the ajv it brings), which keeps an idle server small (bench/startup).
 */
async function loadClientSdk() {
  const [{ Client }, { StdioClientTransport }, { StreamableHTTPClientTransport }, { McpError }] = await Promise.all([
    import('@modelcontextprotocol/sdk/client/index.js'),
    import('@modelcontextprotocol/sdk/client/stdio.js'),
    import('@modelcontextprotocol/sdk/client/streamableHttp.js'),
    import('@modelcontextprotocol/sdk/types.js'),
  ]);
  return { Client, StdioClientTransport, StreamableHTTPClientTransport, McpError };
}

type ClientSdk = Awaited<ReturnType<typeof loadClientSdk>>;

/** Where a connection stands. */
export type McpConnectionState = 'connecting' | 'ready' | 'unavailable' | 'closed';

/** Backoff between reconnect attempts. */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 30_000 };

/** Provider tool names allow 64 characters. */
const MAX_TOOL_NAME = 64;

/** The text a tool result carries (text parts joined; structured content as JSON when there is no text). */
function resultText(result: { content?: unknown; structuredContent?: unknown }): string {
  const parts = Array.isArray(result.content) ? (result.content as { type?: string; text?: string }[]) : [];
  const text = parts
    .filter((part) => part.type === 'text' && typeof part.text === 'string')
    .map((part) => part.text)
    .join('\n');
  if (text !== '' || result.structuredContent === undefined) return text;
  return JSON.stringify(result.structuredContent);
}

/** A live (or reconnecting) connection to one MCP server. */
export class McpServerConnection {
  private client: Client | undefined;
  private tools: ToolDefinition[] = [];
  private stateValue: McpConnectionState = 'connecting';
  private lastError: string | undefined;
  private attempts = 0;
  private timer: NodeJS.Timeout | undefined;
  private connecting: Promise<void> | undefined;

  constructor(
    readonly config: McpServerConfig,
    private readonly logger: Logger,
    private readonly backoff: BackoffOptions = DEFAULT_BACKOFF,
  ) {}

  get state(): McpConnectionState {
    return this.stateValue;
  }

  /** Why the server is unavailable, when it is. */
  get error(): string | undefined {
    return this.lastError;
  }

  /** The server's tools, prefixed; empty while it is unavailable. */
  get toolDefinitions(): readonly ToolDefinition[] {
    return this.stateValue === 'ready' ? this.tools : [];
  }

  /** Connects (once at a time); failures schedule the next attempt instead of throwing. */
  connect(): Promise<void> {
    if (this.stateValue === 'closed') return Promise.resolve();
    this.connecting ??= this.attempt().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  /** Stops reconnecting and closes the client (and its child process). */
  async close(): Promise<void> {
    this.stateValue = 'closed';
    clearTimeout(this.timer);
    const client = this.client;
    this.client = undefined;
    await client?.close().catch(() => {});
  }

  private transport({ StdioClientTransport, StreamableHTTPClientTransport }: ClientSdk): Transport {
    const { config } = this;
    if (config.url !== undefined) {
      return new StreamableHTTPClientTransport(new URL(config.url), {
        requestInit: { headers: { ...config.headers } },
        // agentos owns the retry policy (below), not the transport.
        reconnectionOptions: {
          maxReconnectionDelay: 30_000,
          initialReconnectionDelay: 1000,
          reconnectionDelayGrowFactor: 2,
          maxRetries: 0,
        },
      });
    }
    return new StdioClientTransport({
      command: config.command as string,
      args: config.args,
      env: { ...(process.env as Record<string, string>), ...config.env },
      stderr: 'ignore',
    });
  }

  private async attempt(): Promise<void> {
    clearTimeout(this.timer);
    const previous = this.client;
    this.client = undefined;
    await previous?.close().catch(() => {});
    const sdk = await loadClientSdk();
    const client = new sdk.Client({ name: 'agentos', version: VERSION });
    try {
      await client.connect(this.transport(sdk), { timeout: this.config.timeout_ms });
      const listed: Tool[] = [];
      let cursor: string | undefined;
      do {
        const page = await client.listTools(cursor === undefined ? {} : { cursor }, {
          timeout: this.config.timeout_ms,
        });
        listed.push(...page.tools);
        cursor = page.nextCursor;
      } while (cursor !== undefined);
      if (this.state === 'closed') {
        await client.close().catch(() => {});
        return;
      }
      this.client = client;
      this.tools = listed.map((tool) => this.definitionOf(tool, sdk));
      this.stateValue = 'ready';
      this.lastError = undefined;
      this.attempts = 0;
      // A stdio child that exits, or a transport that closes, sends the connection back to reconnecting.
      client.onclose = () => {
        if (this.client === client) this.markDown('connection closed');
      };
      this.logger.info({ mcp_server: this.config.id, tools: this.tools.length }, 'MCP server connected');
    } catch (error) {
      await client.close().catch(() => {});
      this.markDown(error instanceof Error ? error.message : String(error));
    }
  }

  /** Marks the server unavailable and schedules a reconnect with exponential backoff. */
  private markDown(reason: string): void {
    if (this.stateValue === 'closed') return;
    const wasReady = this.stateValue === 'ready';
    this.stateValue = 'unavailable';
    this.lastError = reason;
    this.client = undefined;
    const delay = Math.min(this.backoff.maxMs, this.backoff.initialMs * 2 ** this.attempts);
    this.attempts += 1;
    const log = wasReady || this.attempts === 1 ? 'warn' : 'debug';
    this.logger[log]({ mcp_server: this.config.id, reason, retry_in_ms: delay }, 'MCP server tools unavailable');
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.connect(), delay);
    this.timer.unref();
  }

  private definitionOf(tool: Tool, { McpError }: ClientSdk): ToolDefinition {
    const name = `${toolPrefixOf(this.config)}${tool.name.replace(/[^A-Za-z0-9_-]/g, '_')}`.slice(0, MAX_TOOL_NAME);
    return {
      name,
      description: tool.description ?? tool.title ?? `${tool.name} (MCP server ${this.config.id})`,
      inputSchema: { ...tool.inputSchema, type: 'object' },
      execute: async (args, context) => {
        const client = this.client;
        if (!client || this.stateValue !== 'ready') {
          throw new Error(`MCP server ${this.config.id} is unavailable: ${this.lastError ?? 'not connected'}`);
        }
        let result: Awaited<ReturnType<Client['callTool']>>;
        try {
          result = await client.callTool({ name: tool.name, arguments: args }, undefined, {
            signal: context.abortSignal,
            timeout: this.config.timeout_ms,
          });
        } catch (error) {
          // A protocol error is the tool's answer; anything else means the server went away.
          if (!(error instanceof McpError) && !context.abortSignal.aborted && this.client === client) {
            this.markDown(error instanceof Error ? error.message : String(error));
          }
          throw error;
        }
        const text = resultText(result as { content?: unknown; structuredContent?: unknown });
        if (result.isError) throw new Error(text || `${tool.name} failed`);
        return text;
      },
    };
  }
}
