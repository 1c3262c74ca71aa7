/**
 * The console's only way to the server: the public API with the API key the user signed in with,
 * kept in sessionStorage (gone when the tab closes). No private endpoints.
 */

const KEY_STORAGE = 'agentos.console.key';

export function storedKey(): string | null {
  return sessionStorage.getItem(KEY_STORAGE);
}

export function storeKey(key: string): void {
  sessionStorage.setItem(KEY_STORAGE, key);
}

export function forgetKey(): void {
  sessionStorage.removeItem(KEY_STORAGE);
}

/** An error answered by the API, with the root surface's `detail` as message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function headers(extra: Record<string, string> = {}): Record<string, string> {
  const key = storedKey();
  return { ...(key ? { authorization: `Bearer ${key}` } : {}), ...extra };
}

async function failure(response: Response): Promise<ApiError> {
  const text = await response.text();
  let message = `${response.status} ${response.statusText}`;
  try {
    const body = JSON.parse(text) as { detail?: unknown };
    if (typeof body.detail === 'string') message = body.detail;
    else if (Array.isArray(body.detail)) message = body.detail.map((issue) => issue.msg).join('; ');
  } catch {
    // Not JSON: keep the status line.
  }
  return new ApiError(response.status, message);
}

/** Calls the API; JSON bodies are sent as JSON, FormData as multipart. */
// biome-ignore lint/suspicious/noExplicitAny: API responses are read field by field by the pages
export async function api<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  const isForm = body instanceof FormData;
  const response = await fetch(path, {
    method,
    headers: headers(body === undefined || isForm ? {} : { 'content-type': 'application/json' }),
    ...(body === undefined ? {} : { body: isForm ? body : JSON.stringify(body) }),
  });
  if (!response.ok) throw await failure(response);
  const text = await response.text();
  return (text === '' ? null : JSON.parse(text)) as T;
}

/** One run event as the SSE stream sends it (CONTRACT §5). */
export interface RunEvent {
  event: string;
  event_index: number;
  run_id: string;
  session_id: string;
  [field: string]: unknown;
}

/**
 * POSTs a JSON body with `stream: true` and hands each SSE event to `onEvent` as it arrives
 * (EventSource cannot POST nor send the Authorization header).
 */
export async function stream(path: string, body: Record<string, unknown>, onEvent: (event: RunEvent) => void) {
  const response = await fetch(path, {
    method: 'POST',
    headers: headers({ 'content-type': 'application/json', accept: 'text/event-stream' }),
    body: JSON.stringify({ ...body, stream: true }),
  });
  if (!response.ok || !response.body) throw await failure(response);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = frame
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).trimStart())
        .join('\n');
      if (data !== '') onEvent(JSON.parse(data) as RunEvent);
    }
  }
}
