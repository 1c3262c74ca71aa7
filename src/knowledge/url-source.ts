/**
 * URL ingestion goes through the `http_request` tool itself, so it shares that tool's SSRF guard:
 * every hop (redirects included) is resolved and refused when it lands on a private, loopback or
 * link-local address the operator did not allow (`builtin_tools.http_request.allowed_hosts`).
 * @module
 */
import { AgentOsError } from '../errors/index.js';
import { createHttpRequestTool, type HttpRequestResult } from '../runtime/tools/builtin/index.js';

/** What a URL answered. */
export interface FetchedUrl {
  url: string;
  body: string;
  contentType: string | undefined;
}

/** Fetches a URL for ingestion; throws `AOS_TOOL_BLOCKED_HOST` for internal targets. */
export type UrlFetcher = (url: string, signal: AbortSignal) => Promise<FetchedUrl>;

/** Options of {@link createUrlFetcher}, as the config's `builtin_tools.http_request` gives them. */
export interface UrlFetcherOptions {
  allowedHosts?: readonly string[];
  timeoutMs?: number;
  maxResponseBytes?: number;
}

/** Creates the fetcher over the guarded http_request tool. */
export function createUrlFetcher(options: UrlFetcherOptions = {}): UrlFetcher {
  const tool = createHttpRequestTool({
    ...(options.allowedHosts ? { allowedHosts: options.allowedHosts } : {}),
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.maxResponseBytes ? { maxResponseBytes: options.maxResponseBytes } : {}),
  });
  return async (url, signal) => {
    const result = (await tool.execute(
      { url, method: 'GET' },
      { abortSignal: signal, toolCallId: 'knowledge-ingest', runId: '', sessionId: '', userId: null },
    )) as HttpRequestResult;
    if (result.status < 200 || result.status >= 300) {
      throw new AgentOsError('AOS_TOOL_FAILED', `${result.url} answered ${result.status} ${result.statusText}`.trim());
    }
    return { url: result.url, body: result.body, contentType: result.headers['content-type'] };
  };
}
