/**
 * Declarative webhook tools (`tools:` in the config): the tool's arguments are POSTed as JSON to the
 * configured URL and the reply becomes the tool result.
 *
 * There is deliberately no SSRF guard here, unlike `http_request`: the URL is written by the operator
 * in the config file (CONTRACT §2), not chosen by the model, so an internal address is a legitimate
 * choice (a sidecar, an intranet service). The model controls only the JSON body.
 * @module
 */
import { AgentOsError } from '../../../errors/index.js';
import type { JsonSchemaObject, ToolDefinition } from '../types.js';

/** A declarative tool with a webhook, as the config describes it. */
export interface WebhookToolConfig {
  name: string;
  description: string;
  /** JSON Schema of the arguments (`type: object`). */
  parameters: JsonSchemaObject;
  webhook: {
    url: string;
    /** Sent with every call, `${VAR}` references already filled in by the config loader. */
    headers?: Record<string, string> | undefined;
    /** Deadline of one call (default 30 000 ms). */
    timeout_ms?: number | undefined;
  };
}

/** Options of {@link createWebhookTool}. */
export interface WebhookToolOptions {
  /** The fetch implementation (tests, proxies); default the global one. */
  fetch?: typeof fetch;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const ERROR_SNIPPET_CHARS = 300;

function failed(name: string, message: string, options: { cause?: unknown; details?: unknown } = {}): AgentOsError {
  return new AgentOsError('AOS_TOOL_FAILED', `Webhook tool "${name}" ${message}`, options);
}

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > ERROR_SNIPPET_CHARS ? `${flat.slice(0, ERROR_SNIPPET_CHARS)}…` : flat;
}

/**
 * Creates a tool that POSTs its arguments as JSON to `config.webhook.url` and returns the parsed JSON
 * reply (or the reply text); a non-2xx answer or a timeout becomes an `AOS_TOOL_FAILED` error.
 * @example createWebhookTool({ name: 'send_email', description: 'Send an email.', parameters: { type: 'object' },
 *   webhook: { url: 'https://hooks.example.com/send-email', timeout_ms: 30000 } })
 */
export function createWebhookTool(config: WebhookToolConfig, options: WebhookToolOptions = {}): ToolDefinition {
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const timeoutMs = config.webhook.timeout_ms ?? DEFAULT_TIMEOUT_MS;
  const { name } = config;

  return {
    name,
    description: config.description,
    inputSchema: config.parameters,
    async execute(args, context) {
      const timeout = AbortSignal.timeout(timeoutMs);
      let response: Response;
      let text: string;
      try {
        response = await fetchImpl(config.webhook.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'application/json, text/plain;q=0.9, */*;q=0.8',
            ...config.webhook.headers,
          },
          body: JSON.stringify(args),
          signal: AbortSignal.any([context.abortSignal, timeout]),
        });
        text = await response.text();
      } catch (error) {
        // A cancelled run is not a tool failure: let the abort propagate as such.
        if (context.abortSignal.aborted) throw context.abortSignal.reason ?? error;
        if (timeout.aborted) throw failed(name, `did not answer within ${timeoutMs} ms`, { cause: error });
        const message = error instanceof Error ? error.message : String(error);
        throw failed(name, `could not be called: ${message}`, { cause: error });
      }

      if (!response.ok) {
        const body = snippet(text);
        const status = `${response.status} ${response.statusText}`.trim();
        throw failed(name, `answered ${status}${body === '' ? '' : `: ${body}`}`, {
          details: { status: response.status },
        });
      }
      const contentType = response.headers.get('content-type') ?? '';
      if (/[/+]json\b/i.test(contentType) && text.trim() !== '') {
        try {
          return JSON.parse(text) as unknown;
        } catch {
          // A reply labelled JSON that does not parse is still useful to the model as text.
          return text;
        }
      }
      return text;
    },
  };
}
