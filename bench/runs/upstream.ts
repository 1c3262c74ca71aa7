// Child process of bench/runs/run.ts (which bundles it to plain .mjs): the scripted OpenAI-compatible upstream from
// test/fake-openai.ts with zero delays, on 127.0.0.1. Prints `URL <base url>` on stdout once listening. `--hang`
// answers every request with one streamed content chunk and then never finishes (until the client goes away).
// SIGUSR2 prints `DISCONNECTS <n>` (responses clients abandoned). Stops on SIGTERM or when stdin closes.
import { startFakeOpenAI } from '../../test/fake-openai.js';
import { REPLY_TEXT } from './constants.js';

const hang = process.argv.includes('--hang');
const fake = await startFakeOpenAI({ defaultReply: hang ? { text: REPLY_TEXT, hang: true } : { text: REPLY_TEXT } });

// The fake records every request; a benchmark sends tens of thousands, so keep the records from piling up.
const trim = setInterval(() => {
  fake.requests.length = 0;
  fake.modelRequests.length = 0;
}, 1000);
trim.unref();

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await fake.close().catch(() => {});
  process.exit(0);
}
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
process.stdin.on('end', () => void stop());
// Reports how many responses clients abandoned (agentos cancelling hung upstream calls).
process.on('SIGUSR2', () => process.stdout.write(`DISCONNECTS ${fake.disconnects}\n`));
process.stdin.resume();
process.stdout.write(`URL ${fake.url}\n`);
