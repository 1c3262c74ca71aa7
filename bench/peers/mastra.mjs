// Mastra side of bench/peers: the agent (@mastra/core) and, run as a script, a server (@mastra/hono adapter on
// @hono/node-server) on 127.0.0.1. Blocking runs: POST /api/agents/bench/generate; streaming: POST
// /api/agents/bench/stream. Prints `URL <base url>` once listening; stops on SIGTERM or when stdin closes.
// Usage: node mastra.mjs --upstream <openai base url> [--port 0]
import { createOpenAI } from '@ai-sdk/openai';
import { serve } from '@hono/node-server';
import { Agent } from '@mastra/core/agent';
import { Mastra } from '@mastra/core/mastra';
import { createTool } from '@mastra/core/tools';
import { MastraServer } from '@mastra/hono';
import { Hono } from 'hono';
import { z } from 'zod';
import { AGENT_ID, argument, INSTRUCTIONS, MODEL_ID, TOOL_DESCRIPTION, TOOL_NAME } from './agent-spec.mjs';

/** The benchmark's one tool (never called: the scripted upstream only answers text). */
export function createCalculator() {
  return createTool({
    id: TOOL_NAME,
    description: TOOL_DESCRIPTION,
    inputSchema: z.object({ expression: z.string().min(1).describe('The arithmetic expression, e.g. "2 * (3 + 4)"') }),
    execute: async ({ expression }) => ({ expression, result: Number(expression) }),
  });
}

/** The chat model over the OpenAI-compatible upstream. */
export function createModel(baseURL) {
  return createOpenAI({ baseURL, apiKey: 'bench' }).chat(MODEL_ID);
}

/** The benchmark agent; construct.mjs times this call. */
export function createAgent(model, calculator) {
  return new Agent({ id: AGENT_ID, name: AGENT_ID, instructions: INSTRUCTIONS, model, tools: { calculator } });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const upstream = argument('upstream');
  if (!upstream) throw new Error('usage: mastra.mjs --upstream <url> [--port 0]');
  const agent = createAgent(createModel(upstream), createCalculator());
  const mastra = new Mastra({ agents: { [AGENT_ID]: agent }, logger: false });
  const app = new Hono();
  await new MastraServer({ app, mastra }).init();
  serve({ fetch: app.fetch, port: Number(argument('port', '0')), hostname: '127.0.0.1' }, (info) => {
    process.stdout.write(`URL http://127.0.0.1:${info.port}\n`);
  });
  process.on('SIGTERM', () => process.exit(0));
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
}
