/**
 * Human in the loop over real HTTP (issue 8): runs pause at gated tool calls of the scripted fake
 * upstream, and `/continue` confirms, rejects, fills user input or hands in an external result.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeOpenAI, type RequestBody, startFakeOpenAI } from '../../../test/fake-openai.js';
import { startTestServer } from '../../../test/helpers.js';
import { SseReader } from '../../../test/sse.js';
import type { AgentOsConfigInput } from '../../config/index.js';
import type { RunningServer } from '../../main.js';

const MODEL = 'openai:gpt-4o-mini';
const AGENTS: AgentOsConfigInput['agents'] = [
  { id: 'confirm', model: MODEL, tools: [{ name: 'calculator', requires_confirmation: true }] },
  {
    id: 'ask',
    model: MODEL,
    tools: [{ name: 'calculator', requires_user_input: true, user_input_fields: ['expression'] }],
  },
  { id: 'external', model: MODEL, tools: ['lookup_order'] },
  { id: 'mixed', model: MODEL, tools: ['current_time', { name: 'calculator', requires_confirmation: true }] },
];
const TOOLS: AgentOsConfigInput['tools'] = [
  {
    name: 'lookup_order',
    description: 'Look an order up in the shop system.',
    parameters: { type: 'object', properties: { order_id: { type: 'string' } }, required: ['order_id'] },
  },
];

// biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field
type Json = any;

/** The tool results the model was sent in one request, by tool call id. */
function toolResults(body: RequestBody | undefined): Record<string, string> {
  const results: Record<string, string> = {};
  for (const message of body?.messages ?? []) {
    if (message.role === 'tool') results[String(message.tool_call_id)] = String(message.content);
  }
  return results;
}

describe('human in the loop: pause and continue over HTTP', () => {
  let fake: FakeOpenAI;
  let server: RunningServer;
  const post = async (path: string, body: unknown): Promise<{ status: number; body: Json }> => {
    const response = await fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: await response.json() };
  };
  const get = async (path: string): Promise<{ status: number; body: Json }> => {
    const response = await fetch(`${server.url}${path}`);
    return { status: response.status, body: await response.json() };
  };
  const events = async (agent: string, runId: string): Promise<Json[]> => {
    const response = await fetch(`${server.url}/agents/${agent}/runs/${runId}/resume`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ last_event_index: -1 }),
    });
    return (await new SseReader(response).all()).map((frame) => frame.data);
  };

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    server = await startTestServer({
      env: { OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'test-key' },
      config: { agents: AGENTS, tools: TOOLS },
    });
  });
  afterAll(async () => {
    await server?.close();
    await fake?.close();
  });
  beforeEach(() => fake.reset());

  it('pauses at a confirmation tool, then runs it once confirmed and finishes', async () => {
    fake.script({ toolCalls: [{ id: 'call_c1', name: 'calculator', arguments: { expression: '6*7' } }] });
    const paused = await post('/agents/confirm/runs', { message: 'What is 6*7?' });
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({
      status: 'paused',
      tools: [
        { tool_call_id: 'call_c1', tool_name: 'calculator', requires_confirmation: true, approval_type: 'audit' },
      ],
      requirements: [{ tool_execution: { tool_call_id: 'call_c1', requires_confirmation: true } }],
    });
    expect(paused.body.tools[0].result).toBeUndefined();
    const approvalId = paused.body.tools[0].approval_id;
    expect((await get(`/approvals/${approvalId}`)).body).toMatchObject({
      status: 'pending',
      pause_type: 'confirmation',
      approval_type: 'audit',
      run_id: paused.body.run_id,
      tool_name: 'calculator',
      tool_args: { expression: '6*7' },
      run_status: 'paused',
    });
    expect(fake.modelRequests).toHaveLength(1);

    fake.script({ text: 'It is 42.' });
    const done = await post(`/agents/confirm/runs/${paused.body.run_id}/continue`, {
      tools: [{ tool_call_id: 'call_c1', confirmed: true }],
    });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ status: 'completed', content: 'It is 42.' });
    expect(JSON.parse(toolResults(fake.modelRequests[1]?.body).call_c1 ?? '')).toEqual({
      expression: '6*7',
      result: 42,
    });
    expect(done.body.messages.map((message: Json) => message.role)).toEqual(['user', 'assistant', 'tool', 'assistant']);
    const names = (await events('confirm', paused.body.run_id)).map((event) => event.event);
    expect(names.slice(names.indexOf('RunPaused'))).toEqual([
      'RunPaused',
      'RunContinued',
      'ToolCallStarted',
      'ToolCallCompleted',
      'ModelRequestStarted',
      'RunContent',
      'RunContent',
      'RunContent',
      'ModelRequestCompleted',
      'RunContentCompleted',
      'RunCompleted',
    ]);
    // Continuing closes the row.
    expect((await get(`/approvals/${approvalId}/status`)).body).toMatchObject({
      status: 'approved',
      resolved_by: 'dev',
    });
    // A run continues once.
    const again = await post(`/agents/confirm/runs/${paused.body.run_id}/continue`, {
      tools: [{ tool_call_id: 'call_c1', confirmed: true }],
    });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('AOS_RUN_INVALID_TRANSITION');
  });

  it('does not run a rejected tool and tells the model why', async () => {
    fake.script({ toolCalls: [{ id: 'call_r1', name: 'calculator', arguments: { expression: '6*7' } }] });
    const paused = await post('/agents/confirm/runs', { message: 'What is 6*7?' });
    fake.script({ text: 'Understood, I will not calculate.' });
    const done = await post(`/agents/confirm/runs/${paused.body.run_id}/continue`, {
      tools: [{ tool_call_id: 'call_r1', confirmed: false, confirmation_note: 'not during the audit' }],
    });
    expect(done.body).toMatchObject({ status: 'completed', content: 'Understood, I will not calculate.' });
    expect(toolResults(fake.modelRequests[1]?.body)).toEqual({
      call_r1: 'Function call was rejected by the user: not during the audit',
    });
    const all = await events('confirm', paused.body.run_id);
    // The calculator never produced its result.
    expect(all.some((event) => event.event === 'ToolCallCompleted')).toBe(false);
    expect(all.find((event) => event.event === 'RunContinued')?.tools).toEqual([
      expect.objectContaining({ tool_call_id: 'call_r1', confirmed: false, confirmation_note: 'not during the audit' }),
    ]);
    const approval = await get(`/approvals?run_id=${paused.body.run_id}`);
    expect(approval.body.approvals[0]).toMatchObject({
      status: 'rejected',
      resolution_data: { note: 'not during the audit' },
    });
  });

  it('pauses for user input and runs the tool with the values the human gave', async () => {
    fake.script({ toolCalls: [{ id: 'call_u1', name: 'calculator', arguments: { expression: '1+1' } }] });
    const paused = await post('/agents/ask/runs', { message: 'Compute something for me' });
    expect(paused.body.tools[0]).toMatchObject({
      requires_user_input: true,
      user_input_schema: [{ name: 'expression', field_type: 'string', value: '1+1' }],
    });
    expect((await get(`/approvals/${paused.body.tools[0].approval_id}`)).body.pause_type).toBe('user_input');
    // Without the values the decision is incomplete.
    const incomplete = await post(`/agents/ask/runs/${paused.body.run_id}/continue`, { tools: [] });
    expect(incomplete.status).toBe(400);
    expect((await get(`/agents/ask/runs/${paused.body.run_id}`)).body.status).toBe('paused');

    fake.script({ text: 'The result is 42.' });
    const done = await post(`/agents/ask/runs/${paused.body.run_id}/continue`, {
      tools: [{ tool_call_id: 'call_u1', user_input_schema: [{ name: 'expression', value: '6*7' }] }],
    });
    expect(done.body).toMatchObject({ status: 'completed', content: 'The result is 42.' });
    // The human's expression ran, not the model's.
    expect(JSON.parse(toolResults(fake.modelRequests[1]?.body).call_u1 ?? '')).toEqual({
      expression: '6*7',
      result: 42,
    });
    expect(done.body.tools).toEqual([expect.objectContaining({ tool_args: { expression: '6*7' }, answered: true })]);
  });

  it('pauses at a declared tool without a webhook and passes the external result to the model', async () => {
    fake.script({ toolCalls: [{ id: 'call_e1', name: 'lookup_order', arguments: { order_id: 'A-17' } }] });
    const paused = await post('/agents/external/runs', { message: 'Where is order A-17?' });
    expect(paused.body.tools[0]).toMatchObject({ external_execution_required: true, tool_args: { order_id: 'A-17' } });
    expect((await get(`/approvals/${paused.body.tools[0].approval_id}`)).body.pause_type).toBe('external_execution');
    fake.script({ text: 'Order A-17 has shipped.' });
    // Agno's form body: `tools` as a JSON string, streamed.
    const form = new URLSearchParams({
      tools: JSON.stringify([{ tool_call_id: 'call_e1', result: { status: 'shipped' } }]),
      stream: 'true',
    });
    const response = await fetch(`${server.url}/agents/external/runs/${paused.body.run_id}/continue`, {
      method: 'POST',
      body: form,
    });
    expect(response.headers.get('content-type')).toMatch(/text\/event-stream/);
    const frames = await new SseReader(response).all();
    const pausedEvents = await events('external', paused.body.run_id);
    const pausedAt = pausedEvents.find((event) => event.event === 'RunPaused')?.event_index;
    // The continued stream carries the run's sequence on.
    expect(frames[0]).toMatchObject({ event: 'RunContinued', id: String(pausedAt + 1) });
    expect(frames.at(-1)).toMatchObject({ event: 'RunCompleted', data: { content: 'Order A-17 has shipped.' } });
    expect(frames.map((frame) => Number(frame.id))).toEqual(frames.map((_, index) => pausedAt + 1 + index));
    expect(toolResults(fake.modelRequests[1]?.body)).toEqual({ call_e1: '{"status":"shipped"}' });
  });

  it('runs the ungated calls of a step and pauses only for the gated one', async () => {
    fake.script({
      toolCalls: [
        { id: 'call_t', name: 'current_time', arguments: {} },
        { id: 'call_g', name: 'calculator', arguments: { expression: '2+2' } },
      ],
    });
    const paused = await post('/agents/mixed/runs', { message: 'time and 2+2' });
    expect(paused.body.status).toBe('paused');
    expect(paused.body.requirements.map((requirement: Json) => requirement.tool_execution.tool_call_id)).toEqual([
      'call_g',
    ]);
    fake.script({ text: 'Done.' });
    const done = await post(`/agents/mixed/runs/${paused.body.run_id}/continue`, {
      tools: [{ tool_call_id: 'call_g', confirmed: true }],
    });
    expect(done.body.status).toBe('completed');
    const results = toolResults(fake.modelRequests[1]?.body);
    expect(JSON.parse(results.call_g ?? '')).toMatchObject({ result: 4 });
    expect(results.call_t).toMatch(/\d{4}-\d{2}-\d{2}/);
  });

  it('answers 400 for malformed tools, an unknown call id, and 409 for a run that is not paused', async () => {
    fake.script({ toolCalls: [{ id: 'call_b', name: 'calculator', arguments: { expression: '1' } }] });
    const paused = await post('/agents/confirm/runs', { message: 'x' });
    const path = `/agents/confirm/runs/${paused.body.run_id}/continue`;
    const bad = await fetch(`${server.url}${path}`, { method: 'POST', body: new URLSearchParams({ tools: '[{' }) });
    expect(bad.status).toBe(400);
    expect((await post(path, { tools: [{ tool_call_id: 'nope', confirmed: true }] })).status).toBe(400);
    expect((await post(path, { tools: [{ tool_call_id: 'call_b' }] })).status).toBe(400);
    fake.script({ text: 'ok' });
    const completed = await post('/agents/confirm/runs', { message: 'hello' });
    expect(completed.body.status).toBe('completed');
    const notPaused = await post(`/agents/confirm/runs/${completed.body.run_id}/continue`, { tools: [] });
    expect(notPaused.status).toBe(409);
    expect((await post(`/agents/confirm/runs/missing-run/continue`, { tools: [] })).status).toBe(404);
  });

  it('accepts a continue sent while the paused stream is still open', async () => {
    fake.script({ toolCalls: [{ id: 'call_s1', name: 'calculator', arguments: { expression: '2*3' } }] });
    const response = await fetch(`${server.url}/agents/confirm/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'What is 2*3?', stream: true }),
    });
    const reader = new SseReader(response);
    const pausedFrame = (await reader.until((frame) => frame.event === 'RunPaused')).at(-1);
    expect(pausedFrame?.data.tools[0]).toMatchObject({ tool_call_id: 'call_s1', requires_confirmation: true });
    fake.script({ text: 'Six.' });
    const done = await post(`/agents/confirm/runs/${pausedFrame?.data.run_id}/continue`, {
      tools: [{ tool_call_id: 'call_s1', confirmed: true }],
    });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ status: 'completed', content: 'Six.' });
    await reader.all();
  });

  it('cancelling a paused run ends it and closes its approvals', async () => {
    fake.script({ toolCalls: [{ id: 'call_x', name: 'calculator', arguments: { expression: '1' } }] });
    const paused = await post('/agents/confirm/runs', { message: 'x' });
    const cancelled = await post(`/agents/confirm/runs/${paused.body.run_id}/cancel`, {});
    expect(cancelled.status).toBe(200);
    expect((await get(`/agents/confirm/runs/${paused.body.run_id}`)).body.status).toBe('cancelled');
    expect((await get(`/approvals/${paused.body.tools[0].approval_id}`)).body.status).toBe('cancelled');
    const names = (await events('confirm', paused.body.run_id)).map((event) => event.event);
    expect(names.slice(-3)).toEqual(['RunPaused', 'RunCancelled', 'RunCompleted']);
  });
});
