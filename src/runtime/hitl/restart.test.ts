/**
 * A paused run survives a restart: paused on one server, continued on a new server process over the
 * same SQLite file (issue 8), with its event sequence carried on.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestServer } from '../../../test/helpers.js';
import { SseReader } from '../../../test/sse.js';
import type { AgentOsConfigInput } from '../../config/index.js';
import type { RunningServer } from '../../main.js';

// biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field
type Json = any;

describe('paused runs across a restart', () => {
  const dir = mkdtempSync(join(tmpdir(), 'agentos-hitl-'));
  const config: AgentOsConfigInput = {
    database: { url: `sqlite:${join(dir, 'agentos.db')}` },
    agents: [{ id: 'clock', model: 'local:default', tools: [{ name: 'current_time', requires_confirmation: true }] }],
  };
  let server: RunningServer | undefined;
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = async (path: string, body: unknown): Promise<Json> => {
    const response = await fetch(`${server?.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(200);
    return response.json();
  };

  it('continues on a new server a run paused before the old one stopped', async () => {
    server = await startTestServer({ config });
    const paused = await post('/agents/clock/runs', { message: 'What time is it in UTC?', session_id: 's-restart' });
    expect(paused).toMatchObject({
      status: 'paused',
      tools: [{ tool_name: 'current_time', requires_confirmation: true }],
    });
    const callId = paused.tools[0].tool_call_id;
    await server.close();

    server = await startTestServer({ config });
    // Start-up recovery leaves paused runs alone: they wait for a human, not for a dead process.
    const reloaded = (await (await fetch(`${server.url}/agents/clock/runs/${paused.run_id}`)).json()) as Json;
    expect(reloaded.status).toBe('paused');
    const done = await post(`/agents/clock/runs/${paused.run_id}/continue`, {
      session_id: 's-restart',
      tools: [{ tool_call_id: callId, confirmed: true }],
    });
    expect(done).toMatchObject({ status: 'completed', run_id: paused.run_id });
    expect(done.content).toMatch(/\d{1,2}:\d{2}/);
    expect(done.tools).toEqual([expect.objectContaining({ tool_call_id: callId, confirmed: true })]);

    const response = await fetch(`${server.url}/agents/clock/runs/${paused.run_id}/resume`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ last_event_index: -1 }),
    });
    const frames = await new SseReader(response).all();
    // One gapless sequence across both processes.
    expect(frames.map((frame) => Number(frame.id))).toEqual(frames.map((_, index) => index));
    const names = frames.map((frame) => frame.event);
    expect(names[0]).toBe('RunStarted');
    expect(names.slice(names.indexOf('RunPaused'), names.indexOf('RunPaused') + 4)).toEqual([
      'RunPaused',
      'RunContinued',
      'ToolCallStarted',
      'ToolCallCompleted',
    ]);
    expect(names.at(-1)).toBe('RunCompleted');
    const approval = await (await fetch(`${server.url}/approvals/${paused.tools[0].approval_id}`)).json();
    expect(approval).toMatchObject({ status: 'approved', run_status: 'completed' });
  });
});
