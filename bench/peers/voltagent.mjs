// VoltAgent side of bench/peers: the agent (@voltagent/core) and, run as a script, a server (@voltagent/server-hono)
// on 127.0.0.1. Blocking runs: POST /agents/bench/text; streaming: POST /agents/bench/stream. Needs
// NODE_ENV=production (otherwise it fetches a provider list at start). Prints `URL <base url>` right away (the
// server binds a moment later); stops on SIGTERM or when stdin closes.
// Usage: NODE_ENV=production node voltagent.mjs --upstream <openai base url> --port <port>
import { createOpenAI } from '@ai-sdk/openai';
import { Agent, createTool, VoltAgent } from '@voltagent/core';
import { honoServer } from '@voltagent/server-hono';
import { z } from 'zod';
import { AGENT_ID, argument, INSTRUCTIONS, MODEL_ID, TOOL_DESCRIPTION, TOOL_NAME } from './agent-spec.mjs';

/** The benchmark's one tool (never called: the scripted upstream only answers text). */
export function createCalculator() {
  return createTool({
    name: TOOL_NAME,
    description: TOOL_DESCRIPTION,
    parameters: z.object({ expression: z.string().min(1).describe('The arithmetic expression, e.g. "2 * (3 + 4)"') }),
    execute: async ({ expression }) => ({ expression, result: Number(expression) }),
  });
}

/** The chat model over the OpenAI-compatible upstream. */
export function createModel(baseURL) {
  return createOpenAI({ baseURL, apiKey: 'bench' }).chat(MODEL_ID);
}

/** The benchmark agent; construct.mjs times this call. */
export function createAgent(model, calculator) {
  return new Agent({ id: AGENT_ID, name: AGENT_ID, instructions: INSTRUCTIONS, model, tools: [calculator] });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const upstream = argument('upstream');
  const port = Number(argument('port', '0'));
  if (!upstream || !port) throw new Error('usage: voltagent.mjs --upstream <url> --port <port>');
  new VoltAgent({
    agents: { [AGENT_ID]: createAgent(createModel(upstream), createCalculator()) },
    server: honoServer({ port, hostname: '127.0.0.1' }),
  });
  process.stdout.write(`URL http://127.0.0.1:${port}\n`);
  process.on('SIGTERM', () => process.exit(0));
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
}
