/**
 * Config changes and approval decisions in the hash-chained audit log (issue 5): component, API agent
 * and schedule CRUD, service accounts, approval resolve and continue each leave an entry with actor,
 * action and target; the chain verifies, and a tampered entry is named by the verify route.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../test/helpers.js';
import type { KyselyStore } from '../store/index.js';

const ADMIN_KEY = 'aos_config_audit_admin_key_0123456789';
const EDITOR_KEY = 'aos_config_audit_editor_key_012345678';

// biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field
type Json = any;

interface Details {
  action?: string;
  target?: { type?: string; id?: string | null };
  via?: string;
}

describe('audit of config changes and approval decisions', () => {
  let test: TestApp;

  async function call(key: string, method: string, url: string, payload?: unknown) {
    const response = await test.app.inject({
      method: method as 'GET',
      url,
      headers: { authorization: `Bearer ${key}` },
      ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
    });
    return { status: response.statusCode, body: (response.body === '' ? null : response.json()) as Json };
  }

  async function entries(kind?: string) {
    const page = await test.services.audit.list({ limit: 1000, order: 'asc', ...(kind ? { kind } : {}) });
    return page.items.map((entry) => ({ ...entry, details: entry.details as Details }));
  }

  beforeAll(async () => {
    test = await buildTestApp(
      {
        agents: [
          { id: 'assistant', name: 'Assistant', model: 'local:default' },
          { id: 'guarded', model: 'local:default', tools: [{ name: 'calculator', approval: 'required' }] },
          { id: 'confirming', model: 'local:default', tools: [{ name: 'calculator', requires_confirmation: true }] },
        ],
        auth: {
          api_keys: [
            { name: 'admin', key: ADMIN_KEY, scopes: ['admin'] },
            { name: 'editor', key: EDITOR_KEY, scopes: ['components:write', 'components:read'] },
          ],
        },
      },
      {},
    );
  });
  afterAll(async () => {
    await test.close();
  });

  it('records component create, update and delete with actor, action and target', async () => {
    const created = await call(EDITOR_KEY, 'POST', '/components', { component_type: 'agent', name: 'c1' });
    expect(created.status).toBe(201);
    const id = created.body.component_id as string;
    expect((await call(EDITOR_KEY, 'PATCH', `/components/${id}`, { name: 'c1-renamed' })).status).toBe(200);
    expect((await call(ADMIN_KEY, 'DELETE', `/components/${id}`)).status).toBe(204);
    // A refused change is an auth.denied entry, not a config change.
    expect((await call(EDITOR_KEY, 'DELETE', `/components/${id}`)).status).toBe(403);

    const changes = (await entries('config.changed')).filter((entry) => entry.details.target?.id === id);
    expect(changes.map((entry) => [entry.principal, entry.details.action])).toEqual([
      ['editor', 'component.created'],
      ['editor', 'component.updated'],
      ['admin', 'component.deleted'],
    ]);
    expect(changes[0]?.details.target).toEqual({ type: 'component', id });
    expect(changes.every((entry) => entry.workspaceId === 'default')).toBe(true);
  });

  it('records schedule and API agent changes, and nothing for reads or failures', async () => {
    const schedule = await call(ADMIN_KEY, 'POST', '/schedules', {
      name: 'nightly',
      cron_expr: '0 3 * * *',
      endpoint: '/agents/assistant/runs',
      payload: { message: 'hi' },
    });
    expect(schedule.status).toBe(201);
    await call(ADMIN_KEY, 'PATCH', `/schedules/${schedule.body.id}`, { cron_expr: '0 4 * * *' });
    await call(ADMIN_KEY, 'DELETE', `/schedules/${schedule.body.id}`);
    const agent = await call(ADMIN_KEY, 'POST', '/api/agents', { name: 'Support Bot' });
    expect(agent.status).toBe(201);
    await call(ADMIN_KEY, 'PUT', `/api/agents/${agent.body.id}`, { description: 'now documented' });
    await call(ADMIN_KEY, 'DELETE', `/api/agents/${agent.body.id}`);
    const before = (await entries('config.changed')).length;
    await call(ADMIN_KEY, 'GET', '/schedules');
    await call(ADMIN_KEY, 'PATCH', '/schedules/missing', { cron_expr: '0 4 * * *' });
    expect((await entries('config.changed')).length).toBe(before);

    const actions = (await entries('config.changed')).map((entry) => [entry.details.action, entry.details.target?.id]);
    expect(actions).toEqual(
      expect.arrayContaining([
        ['schedule.created', schedule.body.id],
        ['schedule.updated', schedule.body.id],
        ['schedule.deleted', schedule.body.id],
        ['agent.created', agent.body.id],
        ['agent.updated', agent.body.id],
        ['agent.deleted', agent.body.id],
      ]),
    );
  });

  it('records admin-only writes such as a new plugin', async () => {
    const plugin = await call(ADMIN_KEY, 'POST', '/api/plugins', {
      slug: 'audited-skill',
      name: 'Audited skill',
      content: '# Skill',
    });
    expect(plugin.status).toBe(201);
    const changes = (await entries('config.changed')).filter((entry) => entry.details.target?.type === 'plugin');
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ principal: 'admin', details: { action: 'plugin.created' } });
  });

  it('records approval decisions by resolve and by continue', async () => {
    const guarded = await call(ADMIN_KEY, 'POST', '/agents/guarded/runs', { message: 'What is 6*7?' });
    expect(guarded.body.status).toBe('paused');
    const approvalId = guarded.body.tools[0].approval_id as string;
    expect((await call(ADMIN_KEY, 'POST', `/approvals/${approvalId}/resolve`, { status: 'approved' })).status).toBe(
      200,
    );

    const confirming = await call(ADMIN_KEY, 'POST', '/agents/confirming/runs', { message: 'What is 6*7?' });
    expect(confirming.body.status).toBe('paused');
    const tool = confirming.body.tools[0];
    const continued = await call(ADMIN_KEY, 'POST', `/agents/confirming/runs/${confirming.body.run_id}/continue`, {
      tools: [{ tool_call_id: tool.tool_call_id, confirmed: true }],
      stream: false,
    });
    expect(continued.status).toBe(200);

    const decisions = await entries('approval.resolved');
    expect(decisions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          principal: 'admin',
          details: expect.objectContaining({ target: { type: 'approval', id: approvalId }, via: 'resolve' }),
        }),
        expect.objectContaining({
          principal: 'admin',
          details: expect.objectContaining({
            target: { type: 'approval', id: tool.approval_id },
            via: 'continue',
          }),
        }),
      ]),
    );
  });

  it('the chain verifies, and tampering with a config-change entry is detected', async () => {
    await call(ADMIN_KEY, 'POST', '/service-accounts', { name: 'audit-check' });
    const verified = await call(ADMIN_KEY, 'GET', '/api/security/audit/verify');
    expect(verified.body).toMatchObject({ valid: true, violations: [] });
    expect(verified.body.entries).toBeGreaterThanOrEqual(10);

    const target = (await entries('config.changed'))[0];
    const kysely = (test.services.store as KyselyStore).kysely;
    await kysely
      .updateTable('audit_log')
      .set({ principal: 'someone-else' })
      .where('seq', '=', target?.seq as number)
      .execute();
    const tampered = await call(ADMIN_KEY, 'GET', '/api/security/audit/verify');
    expect(tampered.body.valid).toBe(false);
    expect(tampered.body.violations).toEqual([{ seq: target?.seq, reason: expect.stringMatching(/altered/) }]);
  });
});
