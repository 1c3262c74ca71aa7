// The heap floor of measurement 5 in run.ts: what one open streaming call of @ai-sdk/openai's Chat Completions model
// holds by itself (no agentos around it), read up to its first text delta against the scripted upstream that then hangs.
// Four ways: the bare global fetch of the same request (no provider), the provider over the global fetch, the provider
// over agentos's node:http fetch (src/models/http-fetch.ts), and the provider with its streamed answers parsed by
// agentos (src/models/chat-completions-stream.ts, what agentos uses for `openai:` models). The upstream runs in its
// own process (upstream.ts --hang), so its connections do not count.
// Usage: node --expose-gc --import tsx bench/runs/provider-floor.ts [open calls, default 300]
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { createOpenAI } from '@ai-sdk/openai';
import type { LanguageModelV3 } from '@ai-sdk/provider';
import { withLeanStreaming } from '../../src/models/chat-completions-stream.js';
import { createHttpFetch } from '../../src/models/http-fetch.js';
import { SYSTEM_PROMPT } from './constants.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  console.error('run with node --expose-gc');
  process.exit(1);
}
const count = Number(process.argv[2] ?? 300);
const upstream = spawn(
  process.execPath,
  ['--import', 'tsx', new URL('./upstream.ts', import.meta.url).pathname, '--hang'],
  {
    stdio: ['pipe', 'pipe', 'inherit'],
  },
);
const lines = createInterface({ input: upstream.stdout });
const [first] = (await once(lines, 'line')) as [string];
const fake = { url: first.replace(/^URL /, '') };
const prompt = [
  { role: 'system' as const, content: SYSTEM_PROMPT },
  { role: 'user' as const, content: [{ type: 'text' as const, text: 'Say something.' }] },
];

type Open = () => Promise<unknown>;
const http = createHttpFetch();

function viaProvider(fetch?: typeof globalThis.fetch, wrap = (model: LanguageModelV3) => model): Open {
  const model = wrap(
    createOpenAI({ baseURL: fake.url, apiKey: 'bench', ...(fetch ? { fetch } : {}) }).chat('gpt-4o-mini'),
  );
  return async () => {
    const { stream } = await model.doStream({ prompt });
    const reader = stream.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done || value.type === 'text-delta') return reader;
    }
  };
}

const bareFetch: Open = async () => {
  const response = await fetch(`${fake.url}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer bench' },
    body: JSON.stringify({
      model: 'gpt-4o-mini',
      stream: true,
      messages: [{ role: 'user', content: 'Say something.' }],
    }),
  });
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  await reader.read();
  return reader;
};

async function perCallKb(open: Open): Promise<number> {
  await Promise.all(Array.from({ length: 5 }, open));
  gc?.();
  gc?.();
  const before = process.memoryUsage().heapUsed;
  const held = await Promise.all(Array.from({ length: count }, open));
  gc?.();
  gc?.();
  const after = process.memoryUsage().heapUsed;
  if (held.length !== count) throw new Error('not every call opened');
  return (after - before) / count / 1024;
}

const rows: [string, Open][] = [
  ['global fetch alone', bareFetch],
  ['@ai-sdk/openai doStream over the global fetch', viaProvider()],
  ['@ai-sdk/openai doStream over src/models/http-fetch.ts', viaProvider(createHttpFetch())],
  [
    'agentos: the same model, lean stream (chat-completions-stream.ts)',
    viaProvider(http, (model) => withLeanStreaming(model, http)),
  ],
];
console.log(`heap per open streaming call, ${count} open (KB)`);
for (const [name, open] of rows) console.log(`${name.padEnd(68)} ${(await perCallKb(open)).toFixed(1)}`);
upstream.kill('SIGTERM');
process.exit(0);
