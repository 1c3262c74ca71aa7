/**
 * Health checkers for `/api/health` (agtOS: one checker per service, each with `responseTime`): the
 * database, and each model provider the config uses. A provider check builds the model (a missing key
 * fails here) and asks the provider's `GET …/models` through the SDK's own URL and headers, so a wrong
 * base URL or a revoked key shows up; `local` needs no request.
 * @module
 */
import type { Services } from '../../../services.js';

/** One checker's verdict. */
export interface ServiceCheck {
  status: 'healthy' | 'unhealthy';
  responseTime: number;
  error?: string;
}

const PROBE_TIMEOUT_MS = 2_000;

/** The SDK model internals used to reach the provider (present on the AI SDK 6 provider models). */
interface ProbeableModel {
  config?: {
    url?: (options: { path: string; modelId: string }) => string;
    baseURL?: string;
    headers?: () => Record<string, string | undefined> | Promise<Record<string, string | undefined>>;
    fetch?: typeof fetch;
  };
  modelId?: string;
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 100) / 100;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function probeProvider(services: Services, modelId: string): Promise<void> {
  if (modelId.startsWith('local:')) return;
  const model = (await services.models.languageModel(modelId)) as unknown as ProbeableModel;
  const config = model.config;
  const url = config?.url
    ? config.url({ path: '/models', modelId: model.modelId ?? '' })
    : config?.baseURL
      ? `${config.baseURL.replace(/\/$/, '')}/models`
      : undefined;
  // Without a URL the check stops at "the model can be built" (its key is configured).
  if (url === undefined) return;
  const headers = Object.fromEntries(
    Object.entries((await config?.headers?.()) ?? {}).filter(
      (entry): entry is [string, string] => entry[1] !== undefined,
    ),
  );
  const response = await (config?.fetch ?? fetch)(url, { headers, signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
  await response.body?.cancel();
  if (!response.ok) throw new Error(`GET ${new URL(url).pathname} answered ${response.status}`);
}

/** The model ids the config uses, one per provider (the default model first). */
export function providerModels(services: Services): Map<string, string> {
  const byProvider = new Map<string, string>();
  const ids = [services.config.models.default, ...services.config.agents.map((agent) => agent.model)];
  for (const id of ids) {
    if (id === undefined) continue;
    const provider = id.slice(0, id.indexOf(':'));
    if (!byProvider.has(provider)) byProvider.set(provider, id);
  }
  return byProvider;
}

/**
 * Provider verdicts are reused for this long: `/api/health` is public, and each uncached call would make
 * an outbound request per provider.
 */
const PROVIDER_CACHE_MS = 15_000;
const providerCache = new WeakMap<Services, Map<string, { at: number; check: Promise<ServiceCheck | undefined> }>>();

/** Runs one named checker: `db` or `provider-<name>`; undefined for an unknown name. */
export async function checkService(services: Services, name: string): Promise<ServiceCheck | undefined> {
  if (!name.startsWith('provider-')) return runCheck(services, name);
  let cache = providerCache.get(services);
  if (!cache) {
    cache = new Map();
    providerCache.set(services, cache);
  }
  const cached = cache.get(name);
  if (cached && Date.now() - cached.at < PROVIDER_CACHE_MS) return cached.check;
  const check = runCheck(services, name);
  cache.set(name, { at: Date.now(), check });
  return check;
}

async function runCheck(services: Services, name: string): Promise<ServiceCheck | undefined> {
  let run: (() => Promise<void>) | undefined;
  if (name === 'db') run = () => services.store.ping();
  else if (name.startsWith('mcp-') && services.mcp.health(name.slice('mcp-'.length))) {
    // An MCP server that is down degrades health ("tools unavailable"); the server keeps serving.
    const health = services.mcp.health(name.slice('mcp-'.length));
    run = async () => {
      if (health && !health.available) throw new Error(health.error);
    };
  } else if (name.startsWith('provider-')) {
    const modelId = providerModels(services).get(name.slice('provider-'.length));
    if (modelId !== undefined) run = () => probeProvider(services, modelId);
  }
  if (run === undefined) return undefined;
  const started = performance.now();
  try {
    await run();
    return { status: 'healthy', responseTime: elapsed(started) };
  } catch (error) {
    return { status: 'unhealthy', responseTime: elapsed(started), error: message(error) };
  }
}

/** The names of every checker. */
export function serviceNames(services: Services): string[] {
  return [
    'db',
    ...[...providerModels(services).keys()].map((provider) => `provider-${provider}`),
    ...services.mcp.serverIds().map((id) => `mcp-${id}`),
  ];
}
