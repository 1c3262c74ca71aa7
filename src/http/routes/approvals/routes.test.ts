/**
 * The approvals inbox over real HTTP (issue 8): the `approval: required` gate on continue, compare-and-set
 * resolve, expiry, workspace and user isolation, and iii's `/api/approvals` shapes. The offline
 * `local:default` model calls the calculator for "What is 6*7?", which pauses the run.
 */
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer } from '../../../../test/helpers.js';
import { SseReader } from '../../../../test/sse.js';
import type { AgentOsConfigInput } from '../../../config/index.js';
import type { RunningServer } from '../../../main.js';

// biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field
type Json = any;

const ADMIN_KEY = 'aos_approvals_admin_key_0123456789abcdef';
const RUNNER_KEY = 'aos_approvals_runner_key_0123456789abcdef';
const APPROVER_KEY = 'aos_approvals_approver_key_0123456789abcd';
const JWT_SECRET = 'approvals-test-jwt-secret-0123456789abcdef';

const AGENTS: AgentOsConfigInput['agents'] = [
  { id: 'guarded', model: 'local:default', tools: [{ name: 'calculator', approval: 'required' }] },
  { id: 'audited', model: 'local:default', tools: [{ name: 'calculator', requires_confirmation: true }] },
  {
    id: 'expiring',
    model: 'local:default',
    tools: [{ name: 'calculator', approval: 'required', approval_timeout_s: 1 }],
  },
];

function client(server: () => RunningServer) {
  return async (
    token: string,
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: Json }> => {
    const response = await fetch(`${server().url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text === '' ? null : JSON.parse(text) };
  };
}

describe('approvals over HTTP', () => {
  let server: RunningServer;
  const call = client(() => server);

  beforeAll(async () => {
    server = await startTestServer({
      env: { AGENTOS_API_KEY: ADMIN_KEY },
      config: {
        agents: AGENTS,
        auth: {
          api_keys: [
            { name: 'runner', key: RUNNER_KEY, scopes: ['agents:run', 'agents:read'] },
            { name: 'approver', key: APPROVER_KEY, scopes: ['approvals:read', 'approvals:write'] },
          ],
        },
      },
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('reserves continue to approvers while a required approval is pending (403), then applies the resolution', async () => {
    const paused = await call(RUNNER_KEY, 'POST', '/agents/guarded/runs', { message: 'What is 6*7?' });
    expect(paused.body).toMatchObject({
      status: 'paused',
      tools: [{ tool_name: 'calculator', requires_confirmation: true, approval_type: 'required' }],
    });
    const runId = paused.body.run_id;
    const approvalId = paused.body.tools[0].approval_id;
    const callId = paused.body.tools[0].tool_call_id;

    const refused = await call(RUNNER_KEY, 'POST', `/agents/guarded/runs/${runId}/continue`, {
      tools: [{ tool_call_id: callId, confirmed: true }],
    });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ code: 'AOS_APPROVAL_PENDING' });
    // Refusing left everything as it was.
    expect((await call(APPROVER_KEY, 'GET', `/approvals/${approvalId}/status`)).body.status).toBe('pending');
    expect((await call(APPROVER_KEY, 'GET', '/approvals/count')).body.count).toBeGreaterThanOrEqual(1);
    // The runner cannot decide approvals itself.
    expect((await call(RUNNER_KEY, 'GET', '/approvals')).status).toBe(403);

    const inbox = await call(APPROVER_KEY, 'GET', `/approvals?run_id=${runId}&status=pending&approval_type=required`);
    expect(inbox.body).toMatchObject({
      approvals: [{ id: approvalId, tool_name: 'calculator', pause_type: 'confirmation', run_status: 'paused' }],
      meta: { page: 1, total_count: 1, total_pages: 1 },
    });

    const resolved = await call(APPROVER_KEY, 'POST', `/approvals/${approvalId}/resolve`, {
      status: 'approved',
      resolved_by: 'ops-lead',
    });
    expect(resolved.status).toBe(200);
    expect(resolved.body).toMatchObject({ status: 'approved', resolved_by: 'ops-lead' });
    const twice = await call(APPROVER_KEY, 'POST', `/approvals/${approvalId}/resolve`, { status: 'rejected' });
    expect(twice.status).toBe(409);
    expect(twice.body.code).toBe('AOS_APPROVAL_RESOLVED');

    // The resolution is applied on continue: empty tools suffice.
    const done = await call(RUNNER_KEY, 'POST', `/agents/guarded/runs/${runId}/continue`, { tools: [] });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ status: 'completed', content: expect.stringContaining('42') });
    expect((await call(APPROVER_KEY, 'GET', `/approvals/${approvalId}`)).body).toMatchObject({
      status: 'approved',
      run_status: 'completed',
    });
    const audit = await server.services.audit.list({ kind: 'approval.resolved' });
    expect(audit.items.map((entry) => entry.details)).toContainEqual(
      expect.objectContaining({ approval_id: approvalId, status: 'approved', via: 'resolve' }),
    );
  });

  it('lets an approver continue directly, closing the approval as the tools say', async () => {
    const paused = await call(RUNNER_KEY, 'POST', '/agents/guarded/runs', { message: 'What is 6*7?' });
    const [tool] = paused.body.tools;
    const streamed = await fetch(`${server.url}/agents/guarded/runs/${paused.body.run_id}/continue`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ stream: true, tools: [{ tool_call_id: tool.tool_call_id, confirmed: false }] }),
    });
    const frames = await new SseReader(streamed).all();
    expect(frames[0]?.event).toBe('RunContinued');
    expect(frames.at(-1)?.event).toBe('RunCompleted');
    expect(frames.some((frame) => frame.event === 'ToolCallError')).toBe(true);
    const row = await call(APPROVER_KEY, 'GET', `/approvals/${tool.approval_id}`);
    expect(row.body).toMatchObject({ status: 'rejected', resolved_by: expect.any(String) });
  });

  it('expires an approval past expires_at and cancels its run', async () => {
    const paused = await call(RUNNER_KEY, 'POST', '/agents/expiring/runs', { message: 'What is 6*7?' });
    const approvalId = paused.body.tools[0].approval_id;
    const row = await call(APPROVER_KEY, 'GET', `/approvals/${approvalId}`);
    expect(Date.parse(row.body.expires_at) - Date.parse(row.body.created_at)).toBe(1000);
    const deadline = Date.now() + 8000;
    let status = 'pending';
    while (status === 'pending' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      status = (await call(APPROVER_KEY, 'GET', `/approvals/${approvalId}/status`)).body.status;
    }
    expect(status).toBe('expired');
    const run = await call(RUNNER_KEY, 'GET', `/agents/expiring/runs/${paused.body.run_id}`);
    expect(run.body.status).toBe('cancelled');
    const late = await call(ADMIN_KEY, 'POST', `/agents/expiring/runs/${paused.body.run_id}/continue`, {
      tools: [{ tool_call_id: paused.body.tools[0].tool_call_id, confirmed: true }],
    });
    expect(late.status).toBe(409);
    expect((await call(APPROVER_KEY, 'POST', `/approvals/${approvalId}/resolve`, { status: 'approved' })).status).toBe(
      409,
    );
  }, 15_000);

  it('keeps approvals of one workspace invisible from another', async () => {
    const w1 = { 'x-workspace-id': 'ws-one' };
    const w2 = { 'x-workspace-id': 'ws-two' };
    const paused = await call(ADMIN_KEY, 'POST', '/agents/audited/runs', { message: 'What is 6*7?' }, w1);
    const approvalId = paused.body.tools[0].approval_id;
    expect((await call(ADMIN_KEY, 'GET', `/approvals/${approvalId}`, undefined, w1)).status).toBe(200);
    expect((await call(ADMIN_KEY, 'GET', '/approvals', undefined, w2)).body.meta.total_count).toBe(0);
    expect((await call(ADMIN_KEY, 'GET', '/approvals/count', undefined, w2)).body.count).toBe(0);
    expect((await call(ADMIN_KEY, 'GET', `/approvals/${approvalId}`, undefined, w2)).status).toBe(404);
    expect((await call(ADMIN_KEY, 'GET', `/approvals/${approvalId}/status`, undefined, w2)).status).toBe(404);
    const resolve = await call(ADMIN_KEY, 'POST', `/approvals/${approvalId}/resolve`, { status: 'approved' }, w2);
    expect(resolve.status).toBe(404);
    expect(resolve.body.code).toBe('AOS_APPROVAL_NOT_FOUND');
    expect((await call(ADMIN_KEY, 'DELETE', `/approvals/${approvalId}`, undefined, w2)).status).toBe(404);
    expect((await call(ADMIN_KEY, 'GET', '/api/approvals', undefined, w2)).body).toEqual([]);
    expect((await call(ADMIN_KEY, 'GET', `/approvals/${approvalId}/status`, undefined, w1)).body.status).toBe(
      'pending',
    );
    // Deleting in its own workspace removes the row.
    expect((await call(ADMIN_KEY, 'DELETE', `/approvals/${approvalId}`, undefined, w1)).status).toBe(204);
    expect((await call(ADMIN_KEY, 'GET', `/approvals/${approvalId}`, undefined, w1)).status).toBe(404);
  });

  it("speaks iii's shapes under /api: list, pending and decide", async () => {
    const paused = await call(RUNNER_KEY, 'POST', '/agents/audited/runs', { message: 'What is 6*7?' });
    const approvalId = paused.body.tools[0].approval_id;
    const pending = await call(APPROVER_KEY, 'GET', '/api/approvals/pending?agentId=audited');
    expect(pending.status).toBe(200);
    expect(pending.body).toContainEqual(
      expect.objectContaining({
        id: approvalId,
        requestId: approvalId,
        agentId: 'audited',
        toolName: 'calculator',
        params: { expression: expect.any(String) },
        status: 'pending',
        createdAt: expect.any(Number),
        decidedAt: null,
      }),
    );
    const decided = await call(APPROVER_KEY, 'POST', `/api/approvals/${approvalId}/decide`, {
      decision: 'deny',
      decidedBy: 'secops',
      reason: 'not today',
    });
    expect(decided.body).toMatchObject({ status: 'denied', decidedBy: 'secops', reason: 'not today' });
    const again = await call(APPROVER_KEY, 'POST', `/api/approvals/${approvalId}/decide`, { decision: 'approve' });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ error: expect.any(String), code: 'AOS_APPROVAL_RESOLVED' });
    const denied = await call(APPROVER_KEY, 'GET', '/api/approvals?status=denied');
    expect(denied.body.map((row: Json) => row.id)).toContain(approvalId);
    // The denial reaches the model as a rejection with the note on continue.
    const done = await call(RUNNER_KEY, 'POST', `/agents/audited/runs/${paused.body.run_id}/continue`, {});
    expect(done.body.status).toBe('completed');
    expect(done.body.messages.find((message: Json) => message.role === 'tool')?.content).toBe(
      'Function call was rejected by the user: not today',
    );
  });

  it('validates bodies and queries with 4xx, never 500', async () => {
    expect((await call(APPROVER_KEY, 'GET', '/approvals?status=maybe')).status).toBe(422);
    expect((await call(APPROVER_KEY, 'POST', '/approvals/x/resolve', { status: 'pending' })).status).toBe(422);
    expect((await call(APPROVER_KEY, 'POST', '/approvals/nope/resolve', { status: 'approved' })).status).toBe(404);
    expect((await call(APPROVER_KEY, 'POST', '/api/approvals/nope/decide', {})).status).toBe(400);
  });
});

describe('approvals under user isolation', () => {
  let server: RunningServer;
  const call = client(() => server);
  const sign = (sub: string, scopes: string) =>
    new SignJWT({ sub, scopes })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(new TextEncoder().encode(JWT_SECRET));

  beforeAll(async () => {
    server = await startTestServer({
      env: { AGENTOS_JWT_SECRET: JWT_SECRET },
      config: { agents: AGENTS, auth: { user_isolation: true } },
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it("shows and lets decide only the caller's own approvals (404 for another user's)", async () => {
    const scopes = 'agents:run agents:read approvals:read approvals:write';
    const [alice, bob] = await Promise.all([sign('alice', scopes), sign('bob', scopes)]);
    const paused = await call(alice, 'POST', '/agents/audited/runs', { message: 'What is 6*7?' });
    const approvalId = paused.body.tools[0].approval_id;
    expect((await call(alice, 'GET', `/approvals/${approvalId}`)).body.user_id).toBe('alice');
    expect((await call(bob, 'GET', '/approvals')).body.meta.total_count).toBe(0);
    expect((await call(bob, 'GET', '/approvals?user_id=alice')).body.meta.total_count).toBe(0);
    expect((await call(bob, 'GET', '/approvals/count')).body.count).toBe(0);
    expect((await call(bob, 'GET', '/api/approvals')).body).toEqual([]);
    expect((await call(bob, 'GET', `/approvals/${approvalId}`)).status).toBe(404);
    expect((await call(bob, 'POST', `/approvals/${approvalId}/resolve`, { status: 'approved' })).status).toBe(404);
    expect((await call(bob, 'DELETE', `/approvals/${approvalId}`)).status).toBe(403);
    const resolved = await call(alice, 'POST', `/approvals/${approvalId}/resolve`, {
      status: 'approved',
      resolved_by: 'someone-else',
    });
    // A JWT caller is recorded as its subject.
    expect(resolved.body).toMatchObject({ status: 'approved', resolved_by: 'alice' });
  });
});
