/**
 * The store contract: one suite every adapter runs against a real database
 * (SQLite `:memory:` always, Postgres when `AGENTOS_TEST_PG=1`).
 * @module
 */

import { createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isAgentOsError } from '../../errors/index.js';
import type { AuditSeal, Store } from '../types.js';
import { runAgentsContract } from './agents.contract.js';
import { runApprovalsContract } from './approvals.contract.js';
import { runKnowledgeContract } from './knowledge.contract.js';
import { runMemoryContract } from './memory.contract.js';
import { runObservabilityContract } from './observability.contract.js';
import { runSchedulesContract } from './schedules.contract.js';
import { runServiceAccountsContract } from './service-accounts.contract.js';
import { runUsageContract } from './usage.contract.js';
import { runWorkflowContract } from './workflow.contract.js';

/** How a contract run gets a fresh, migrated store. */
export interface StoreContractOptions {
  name: string;
  createStore: () => Promise<Store>;
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(isAgentOsError(error), `expected AgentOsError ${code}, got ${String(error)}`).toBe(true);
  expect((error as { code: string }).code).toBe(code);
}

/** Registers the store contract suite for one adapter. */
export function runStoreContract({ name, createStore }: StoreContractOptions): void {
  describe(`store contract: ${name}`, () => {
    let store: Store;

    beforeAll(async () => {
      store = await createStore();
    });
    beforeEach(async () => {
      await store.dangerouslyClearAll();
    });
    afterAll(async () => {
      await store?.close();
    });

    describe('migrations', () => {
      it('are idempotent: a second migrate applies nothing', async () => {
        const result = await store.migrate();
        expect(result.applied).toEqual([]);
        expect(result.migrations.length).toBeGreaterThan(0);
        expect(result.migrations.every((migration) => migration.applied)).toBe(true);
      });

      it('dry run reports nothing pending on a migrated store', async () => {
        const result = await store.migrate({ dryRun: true });
        expect(result).toMatchObject({ dryRun: true, applied: [] });
      });

      it('ping answers', async () => {
        await expect(store.ping()).resolves.toBeUndefined();
      });
    });

    describe('sessions', () => {
      it('creates, reads back JSON fields and defaults the workspace', async () => {
        const created = await store.sessions.create({
          sessionId: 's1',
          sessionType: 'agent',
          componentId: 'assistant',
          userId: 'u1',
          sessionState: { step: 2, tags: ['a'] },
        });
        expect(created.workspaceId).toBe('default');
        const read = await store.sessions.get('default', 's1');
        expect(read).toEqual(created);
        expect(read?.sessionState).toEqual({ step: 2, tags: ['a'] });
        expect(read?.metadata).toEqual({});
      });

      it('rejects a duplicate id with AOS_CONFLICT', async () => {
        await store.sessions.create({ sessionId: 's1', sessionType: 'agent', componentId: 'a' });
        await expectCode(
          store.sessions.create({ sessionId: 's1', sessionType: 'team', componentId: 'b' }),
          'AOS_CONFLICT',
        );
      });

      it('hides a session from another workspace', async () => {
        await store.sessions.create({ sessionId: 's1', sessionType: 'agent', componentId: 'a', workspaceId: 'w1' });
        expect(await store.sessions.get('w2', 's1')).toBeNull();
        expect(await store.sessions.update('w2', 's1', { sessionName: 'x' })).toBeNull();
        expect(await store.sessions.delete('w2', 's1')).toBe(false);
        expect((await store.sessions.list({ workspaceId: 'w2' })).total).toBe(0);
        expect(await store.sessions.get('w1', 's1')).not.toBeNull();
      });

      it('keeps the same session id in two workspaces apart, with their runs, summaries and episodes', async () => {
        for (const workspaceId of ['w1', 'w2']) {
          await store.sessions.create({
            sessionId: 'shared',
            sessionType: 'agent',
            componentId: 'a',
            workspaceId,
            sessionName: `name-${workspaceId}`,
          });
          await store.runs.create({
            runId: `run-${workspaceId}`,
            sessionId: 'shared',
            workspaceId,
            componentType: 'agent',
            componentId: 'a',
          });
          await store.memory.putSessionSummary({
            sessionId: 'shared',
            workspaceId,
            userId: null,
            agentId: 'a',
            summary: `summary-${workspaceId}`,
            topics: [],
          });
          await store.memory.putEpisode({
            sessionId: 'shared',
            workspaceId,
            userId: null,
            agentId: 'a',
            summary: `episode-${workspaceId}`,
            keywords: [],
            topic: 't',
            importance: 0.5,
            type: 'conversation',
          });
        }
        expect((await store.sessions.get('w1', 'shared'))?.sessionName).toBe('name-w1');
        expect((await store.sessions.get('w2', 'shared'))?.sessionName).toBe('name-w2');
        await store.sessions.update('w1', 'shared', { sessionName: 'renamed' });
        expect((await store.sessions.get('w2', 'shared'))?.sessionName).toBe('name-w2');
        expect((await store.memory.getSessionSummary('w2', 'shared'))?.summary).toBe('summary-w2');
        const w1Runs = await store.runs.list({ workspaceId: 'w1', sessionId: 'shared' });
        expect(w1Runs.items.map((run) => run.runId)).toEqual(['run-w1']);
        // Same id again in one workspace is still a conflict.
        await expectCode(
          store.sessions.create({ sessionId: 'shared', sessionType: 'agent', componentId: 'a', workspaceId: 'w1' }),
          'AOS_CONFLICT',
        );
        // Deleting one workspace's session cascades only within that workspace.
        expect(await store.sessions.delete('w1', 'shared')).toBe(true);
        expect(await store.runs.get('w1', 'run-w1')).toBeNull();
        expect(await store.memory.getSessionSummary('w1', 'shared')).toBeNull();
        expect(await store.runs.get('w2', 'run-w2')).not.toBeNull();
        expect((await store.memory.getSessionSummary('w2', 'shared'))?.summary).toBe('summary-w2');
        expect((await store.memory.listEpisodes('w2', { limit: 10 })).map((episode) => episode.summary)).toEqual([
          'episode-w2',
        ]);
        // A run cannot attach to the session of another workspace.
        await expectCode(
          store.runs.create({
            runId: 'run-cross',
            sessionId: 'shared',
            workspaceId: 'w1',
            componentType: 'agent',
            componentId: 'a',
          }),
          'AOS_NOT_FOUND',
        );
      });

      it('lists newest first with filters and pagination', async () => {
        let clock = 1000;
        for (const [id, user] of [
          ['a', 'u1'],
          ['b', 'u2'],
          ['c', 'u1'],
        ] as const) {
          await store.sessions.create({ sessionId: id, sessionType: 'agent', componentId: 'x', userId: user });
          await store.sessions.update('default', id, { metadata: { order: clock++ } });
        }
        const all = await store.sessions.list({ workspaceId: 'default' });
        expect(all.total).toBe(3);
        const byUser = await store.sessions.list({ workspaceId: 'default', userId: 'u1' });
        expect(byUser.items.map((session) => session.sessionId).sort()).toEqual(['a', 'c']);
        const page2 = await store.sessions.list({ workspaceId: 'default', limit: 2, page: 2 });
        expect(page2.items).toHaveLength(1);
        expect(page2.total).toBe(3);
      });

      it('updates fields and bumps updatedAt', async () => {
        const created = await store.sessions.create({ sessionId: 's1', sessionType: 'agent', componentId: 'a' });
        await new Promise((resolve) => setTimeout(resolve, 5));
        const updated = await store.sessions.update('default', 's1', {
          sessionName: 'Renamed',
          sessionState: { k: 1 },
        });
        expect(updated?.sessionName).toBe('Renamed');
        expect(updated?.sessionState).toEqual({ k: 1 });
        expect(updated?.updatedAt).toBeGreaterThan(created.updatedAt);
        expect(await store.sessions.update('default', 'missing', { sessionName: 'x' })).toBeNull();
      });

      it('delete cascades to runs and events', async () => {
        await store.sessions.create({ sessionId: 's1', sessionType: 'agent', componentId: 'a' });
        await store.runs.create({ runId: 'r1', sessionId: 's1', componentType: 'agent', componentId: 'a' });
        await store.runEvents.append('r1', [{ eventIndex: 0, event: 'RunStarted', payload: {} }]);
        expect(await store.sessions.delete('default', 's1')).toBe(true);
        expect(await store.runs.get('default', 'r1')).toBeNull();
        expect(await store.runEvents.list('r1')).toEqual([]);
        expect(await store.sessions.delete('default', 's1')).toBe(false);
      });
    });

    describe('runs', () => {
      beforeEach(async () => {
        await store.sessions.create({ sessionId: 's1', sessionType: 'agent', componentId: 'a', userId: 'u1' });
      });

      it('creates pending by default and updates status, content and metrics', async () => {
        const run = await store.runs.create({
          runId: 'r1',
          sessionId: 's1',
          componentType: 'agent',
          componentId: 'a',
          input: { message: 'hi' },
        });
        expect(run.status).toBe('pending');
        const updated = await store.runs.update('default', 'r1', {
          status: 'completed',
          content: 'hello',
          metrics: { total_tokens: 3 },
        });
        expect(updated).toMatchObject({ status: 'completed', content: 'hello', metrics: { total_tokens: 3 } });
        expect((await store.runs.get('default', 'r1'))?.input).toEqual({ message: 'hi' });
      });

      it('refuses a run without its session, or in another workspace', async () => {
        await expectCode(
          store.runs.create({ runId: 'r1', sessionId: 'nope', componentType: 'agent', componentId: 'a' }),
          'AOS_NOT_FOUND',
        );
        await expectCode(
          store.runs.create({
            runId: 'r1',
            sessionId: 's1',
            componentType: 'agent',
            componentId: 'a',
            workspaceId: 'w2',
          }),
          'AOS_NOT_FOUND',
        );
      });

      it('rejects a duplicate run id', async () => {
        await store.runs.create({ runId: 'r1', sessionId: 's1', componentType: 'agent', componentId: 'a' });
        await expectCode(
          store.runs.create({ runId: 'r1', sessionId: 's1', componentType: 'agent', componentId: 'a' }),
          'AOS_CONFLICT',
        );
      });

      it('lists oldest first, filtered by session and status', async () => {
        for (const id of ['r1', 'r2', 'r3']) {
          await store.runs.create({ runId: id, sessionId: 's1', componentType: 'agent', componentId: 'a' });
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
        await store.runs.update('default', 'r2', { status: 'running' });
        const all = await store.runs.list({ workspaceId: 'default', sessionId: 's1' });
        expect(all.items.map((run) => run.runId)).toEqual(['r1', 'r2', 'r3']);
        const newest = await store.runs.list({ workspaceId: 'default', sessionId: 's1', order: 'desc', limit: 2 });
        expect(newest.items.map((run) => run.runId)).toEqual(['r3', 'r2']);
        const running = await store.runs.list({ workspaceId: 'default', status: 'running' });
        expect(running.items.map((run) => run.runId)).toEqual(['r2']);
        expect((await store.runs.list({ workspaceId: 'other' })).total).toBe(0);
      });

      it('transition is compare-and-set on the status', async () => {
        await store.runs.create({ runId: 'r1', sessionId: 's1', componentType: 'agent', componentId: 'a' });
        const running = await store.runs.transition('default', 'r1', ['pending'], { status: 'running' });
        expect(running?.status).toBe('running');
        expect(await store.runs.transition('default', 'r1', ['pending'], { status: 'running' })).toBeNull();
        const done = await store.runs.transition('default', 'r1', ['running'], {
          status: 'completed',
          content: 'ok',
          messages: [{ role: 'user', content: 'hi' }],
          output: { model: 'm' },
        });
        expect(done).toMatchObject({
          status: 'completed',
          messages: [{ role: 'user', content: 'hi' }],
          output: { model: 'm' },
        });
        expect(await store.runs.transition('other', 'r1', ['completed'], { status: 'error' })).toBeNull();
      });

      it('creates a run with its new session in one transaction, both or neither', async () => {
        const run = await store.runs.create(
          { runId: 'r1', sessionId: 's2', componentType: 'agent', componentId: 'a', status: 'running', owner: 'p1' },
          { session: { sessionId: 's2', sessionType: 'agent', componentId: 'a', userId: 'u2' } },
        );
        expect(run).toMatchObject({ sessionId: 's2', status: 'running', owner: 'p1' });
        expect(await store.sessions.get('default', 's2')).toMatchObject({ componentId: 'a', userId: 'u2' });
        expect((await store.runs.get('default', 'r1'))?.status).toBe('running');
        // The session exists: nothing is written, not even the run.
        await expectCode(
          store.runs.create(
            { runId: 'r2', sessionId: 's1', componentType: 'agent', componentId: 'a' },
            { session: { sessionId: 's1', sessionType: 'agent', componentId: 'a' } },
          ),
          'AOS_CONFLICT',
        );
        expect(await store.runs.get('default', 'r2')).toBeNull();
        // The run id is taken: the new session is not kept either.
        await expectCode(
          store.runs.create(
            { runId: 'r1', sessionId: 's3', componentType: 'agent', componentId: 'a' },
            { session: { sessionId: 's3', sessionType: 'agent', componentId: 'a' } },
          ),
          'AOS_CONFLICT',
        );
        expect(await store.sessions.get('default', 's3')).toBeNull();
      });

      it('transition with events appends them in the same transaction, or writes nothing', async () => {
        await store.runs.create({ runId: 'r1', sessionId: 's1', componentType: 'agent', componentId: 'a' });
        await store.runEvents.append('r1', [{ eventIndex: 0, event: 'RunStarted', payload: {} }]);
        // A used index: neither the events nor the status change are written.
        await expectCode(
          store.runs.transition(
            'default',
            'r1',
            ['pending'],
            { status: 'completed' },
            {
              events: [
                { eventIndex: 1, event: 'RunContent', payload: { content: 'x' } },
                { eventIndex: 0, event: 'RunStarted', payload: {} },
              ],
            },
          ),
          'AOS_CONFLICT',
        );
        expect((await store.runs.get('default', 'r1'))?.status).toBe('pending');
        expect(await store.runEvents.lastIndex('r1')).toBe(0);
        const done = await store.runs.transition(
          'default',
          'r1',
          ['pending'],
          { status: 'completed', content: 'x' },
          {
            events: [
              { eventIndex: 1, event: 'RunContent', payload: { content: 'x' } },
              { eventIndex: 2, event: 'RunCompleted', payload: { content: 'x' } },
            ],
          },
        );
        expect(done).toMatchObject({ status: 'completed', content: 'x' });
        const events = await store.runEvents.list('r1');
        expect(events.map((event) => event.event)).toEqual(['RunStarted', 'RunContent', 'RunCompleted']);
        expect(events[1]?.payload).toEqual({ content: 'x' });
        // Another status: the events are stored, the status is not changed.
        expect(
          await store.runs.transition(
            'default',
            'r1',
            ['running'],
            { status: 'error' },
            {
              events: [{ eventIndex: 3, event: 'RunError', payload: {} }],
            },
          ),
        ).toBeNull();
        expect(await store.runEvents.lastIndex('r1')).toBe(3);
        expect((await store.runs.get('default', 'r1'))?.status).toBe('completed');
        await expectCode(
          store.runs.transition(
            'default',
            'nope',
            ['pending'],
            { status: 'completed' },
            {
              events: [{ eventIndex: 0, event: 'RunStarted', payload: {} }],
            },
          ),
          'AOS_NOT_FOUND',
        );
      });

      it('transition with usage adds it in the same transaction, also when the status no longer matches', async () => {
        await store.runs.create({ runId: 'r1', sessionId: 's1', componentType: 'agent', componentId: 'a' });
        await store.runEvents.append('r1', [{ eventIndex: 0, event: 'RunStarted', payload: {} }]);
        const usage = {
          day: '2026-11-23',
          workspaceId: 'default',
          principal: 'key-1',
          agentId: 'a',
          modelId: 'openai:gpt-4o-mini',
          inputTokens: 20,
          outputTokens: 12,
          costUsd: 0.5,
        };
        const totals = () => store.usage.totals({ principal: 'key-1', fromDay: '2026-11-23', toDay: '2026-11-23' });
        // A failing event append rolls the usage back with everything else.
        await expectCode(
          store.runs.transition(
            'default',
            'r1',
            ['pending'],
            { status: 'completed' },
            { events: [{ eventIndex: 0, event: 'RunStarted', payload: {} }], usage },
          ),
          'AOS_CONFLICT',
        );
        expect((await totals()).totalTokens).toBe(0);
        const done = await store.runs.transition('default', 'r1', ['pending'], { status: 'completed' }, { usage });
        expect(done?.status).toBe('completed');
        expect(await totals()).toMatchObject({ inputTokens: 20, outputTokens: 12, totalTokens: 32, costUsd: 0.5 });
        // The tokens were spent even if another writer moved the run first.
        expect(await store.runs.transition('default', 'r1', ['running'], { status: 'error' }, { usage })).toBeNull();
        expect((await totals()).totalTokens).toBe(64);
      });

      it('transition with an owner condition lets exactly one of two claimers take a run', async () => {
        await store.runs.create({
          runId: 'r1',
          sessionId: 's1',
          componentType: 'agent',
          componentId: 'a',
          owner: 'dead',
          status: 'running',
        });
        const claims = await Promise.all(
          ['p1', 'p2'].map((owner) =>
            store.runs.transition('default', 'r1', ['running'], { owner, heartbeatAt: 1 }, { owner: 'dead' }),
          ),
        );
        expect(claims.filter((claim) => claim !== null)).toHaveLength(1);
        const winner = claims.find((claim) => claim !== null)?.owner;
        expect((await store.runs.get('default', 'r1'))?.owner).toBe(winner);
        await store.runs.create({ runId: 'r2', sessionId: 's1', componentType: 'agent', componentId: 'a' });
        expect(await store.runs.transition('default', 'r2', ['pending'], { owner: 'x' }, { owner: 'y' })).toBeNull();
        expect(
          await store.runs.transition('default', 'r2', ['pending'], { owner: 'x' }, { owner: null }),
        ).toMatchObject({ owner: 'x' });
      });

      it('lists unfinished runs across workspaces, heartbeats and cancel requests by owner', async () => {
        await store.sessions.create({ sessionId: 's2', sessionType: 'agent', componentId: 'a', workspaceId: 'w2' });
        await store.runs.create({
          runId: 'r1',
          sessionId: 's1',
          componentType: 'agent',
          componentId: 'a',
          owner: 'p1',
          status: 'running',
        });
        await store.runs.create({
          runId: 'r2',
          sessionId: 's2',
          componentType: 'agent',
          componentId: 'a',
          workspaceId: 'w2',
          owner: 'p2',
        });
        await store.runs.create({
          runId: 'r3',
          sessionId: 's1',
          componentType: 'agent',
          componentId: 'a',
          status: 'completed',
        });
        expect((await store.runs.listUnfinished()).map((run) => run.runId).sort()).toEqual(['r1', 'r2']);
        await store.runs.heartbeat('p1', 99_999);
        expect((await store.runs.get('default', 'r1'))?.heartbeatAt).toBe(99_999);
        expect((await store.runs.get('w2', 'r2'))?.heartbeatAt).not.toBe(99_999);
        expect(await store.runs.listCancelRequested('p1')).toEqual([]);
        expect(await store.runs.requestCancel('default', 'r1', 5)).toBe(true);
        expect(await store.runs.requestCancel('default', 'missing', 5)).toBe(false);
        expect(await store.runs.listCancelRequested('p1')).toEqual(['r1']);
        expect(await store.runs.listCancelRequested('p2')).toEqual([]);
      });

      it('records the lease owner and heartbeat', async () => {
        await store.runs.create({
          runId: 'r1',
          sessionId: 's1',
          componentType: 'agent',
          componentId: 'a',
          owner: 'n1',
        });
        const updated = await store.runs.update('default', 'r1', { heartbeatAt: 1234 });
        expect(updated).toMatchObject({ owner: 'n1', heartbeatAt: 1234 });
      });
    });

    describe('run events', () => {
      beforeEach(async () => {
        await store.sessions.create({ sessionId: 's1', sessionType: 'agent', componentId: 'a' });
        await store.runs.create({ runId: 'r1', sessionId: 's1', componentType: 'agent', componentId: 'a' });
      });

      it('appends and replays in index order after an index', async () => {
        await store.runEvents.append('r1', [
          { eventIndex: 0, event: 'RunStarted', payload: { a: 1 } },
          { eventIndex: 1, event: 'RunContent', payload: { content: 'x' } },
        ]);
        await store.runEvents.append('r1', [{ eventIndex: 2, event: 'RunCompleted', payload: {} }]);
        const all = await store.runEvents.list('r1');
        expect(all.map((event) => event.eventIndex)).toEqual([0, 1, 2]);
        expect(all[1]?.payload).toEqual({ content: 'x' });
        const after = await store.runEvents.list('r1', { afterIndex: 0 });
        expect(after.map((event) => event.event)).toEqual(['RunContent', 'RunCompleted']);
        expect(await store.runEvents.list('r1', { afterIndex: 0, limit: 1 })).toHaveLength(1);
      });

      it('rejects a duplicate index and writes nothing of that batch', async () => {
        await store.runEvents.append('r1', [{ eventIndex: 0, event: 'RunStarted', payload: {} }]);
        await expectCode(
          store.runEvents.append('r1', [
            { eventIndex: 1, event: 'RunContent', payload: {} },
            { eventIndex: 0, event: 'RunStarted', payload: {} },
          ]),
          'AOS_CONFLICT',
        );
        expect((await store.runEvents.list('r1')).map((event) => event.eventIndex)).toEqual([0]);
      });

      it('reports the last stored index', async () => {
        expect(await store.runEvents.lastIndex('r1')).toBe(-1);
        await store.runEvents.append('r1', [
          { eventIndex: 0, event: 'RunStarted', payload: {} },
          { eventIndex: 1, event: 'RunContent', payload: {} },
        ]);
        expect(await store.runEvents.lastIndex('r1')).toBe(1);
      });

      it('refuses events of an unknown run', async () => {
        await expectCode(
          store.runEvents.append('nope', [{ eventIndex: 0, event: 'RunStarted', payload: {} }]),
          'AOS_NOT_FOUND',
        );
      });
    });

    describe('rate limits (GCRA)', () => {
      const rule = { limit: 5, windowMs: 1000 };

      it('admits exactly `limit` in a burst, with decreasing remaining, then refuses', async () => {
        const decisions = [];
        for (let index = 0; index < 8; index += 1) decisions.push(await store.rateLimits.consume('k', rule, 10_000));
        expect(decisions.map((decision) => decision.allowed)).toEqual([
          true,
          true,
          true,
          true,
          true,
          false,
          false,
          false,
        ]);
        expect(decisions.slice(0, 5).map((decision) => decision.remaining)).toEqual([4, 3, 2, 1, 0]);
        expect(decisions[0]).toMatchObject({ limit: 5, resetMs: 200, retryAfterMs: 0 });
        expect(decisions[4]).toMatchObject({ resetMs: 1000 });
        expect(decisions[5]).toMatchObject({ allowed: false, remaining: 0, resetMs: 1000, retryAfterMs: 200 });
      });

      it('admits exactly `limit` of many concurrent calls', async () => {
        const decisions = await Promise.all(
          Array.from({ length: 50 }, () => store.rateLimits.consume('k', { limit: 7, windowMs: 60_000 }, 5_000)),
        );
        expect(decisions.filter((decision) => decision.allowed)).toHaveLength(7);
      });

      it('refills one request per window/limit, and fully after the window', async () => {
        for (let index = 0; index < 5; index += 1) await store.rateLimits.consume('k', rule, 10_000);
        expect((await store.rateLimits.consume('k', rule, 10_199)).allowed).toBe(false);
        const refilled = await store.rateLimits.consume('k', rule, 10_200);
        expect(refilled).toMatchObject({ allowed: true, remaining: 0 });
        expect((await store.rateLimits.consume('k', rule, 10_200)).allowed).toBe(false);
        const later = await store.rateLimits.consume('k', rule, 20_000);
        expect(later).toMatchObject({ allowed: true, remaining: 4 });
      });

      it('keeps keys apart and prunes full buckets', async () => {
        for (let index = 0; index < 5; index += 1) await store.rateLimits.consume('a', rule, 10_000);
        expect((await store.rateLimits.consume('a', rule, 10_000)).allowed).toBe(false);
        expect((await store.rateLimits.consume('b', rule, 10_000)).allowed).toBe(true);
        expect(await store.rateLimits.prune(10_100)).toBe(0);
        expect(await store.rateLimits.prune(11_000)).toBe(2);
        expect((await store.rateLimits.consume('a', rule, 11_000)).remaining).toBe(4);
      });

      it('admits a burst of exactly `limit` when the window does not divide evenly', async () => {
        const odd = { limit: 7, windowMs: 3_600_000 };
        const decisions = [];
        for (let index = 0; index < 9; index += 1) decisions.push(await store.rateLimits.consume('k', odd, 1));
        expect(decisions.filter((decision) => decision.allowed)).toHaveLength(7);
      });
    });

    runAgentsContract(() => store);
    runApprovalsContract(() => store);
    runKnowledgeContract(() => store);
    runMemoryContract(() => store);
    runObservabilityContract(() => store);
    runSchedulesContract(() => store);
    runServiceAccountsContract(() => store);
    runWorkflowContract(() => store);
    runUsageContract(() => store);

    describe('audit log', () => {
      // A keyless digest is enough to test the chain; the server seals with an HMAC.
      const seal: AuditSeal = (record) => createHash('sha256').update(JSON.stringify(record)).digest('hex');

      it('appends chained entries and lists them newest first, filtered by kind', async () => {
        const first = await store.audit.append({ kind: 'auth.failed', details: { path: '/x' }, at: 1 }, seal);
        const second = await store.audit.append(
          { kind: 'api_key.created', principal: 'cli', workspaceId: 'default', details: { id: 'k1' } },
          seal,
        );
        expect(first).toMatchObject({ kind: 'auth.failed', principal: null, workspaceId: null, at: 1 });
        expect(first.prevHash).toBe('0'.repeat(64));
        expect(second.prevHash).toBe(first.hash);
        expect(second.seq).toBeGreaterThan(first.seq);
        const page = await store.audit.list();
        expect(page.total).toBe(2);
        expect(page.items.map((entry) => entry.kind)).toEqual(['api_key.created', 'auth.failed']);
        expect(page.items[0]).toEqual(second);
        const filtered = await store.audit.list({ kind: 'auth.failed', order: 'asc' });
        expect(filtered.items).toEqual([first]);
        expect((await store.audit.list({ limit: 1, page: 2 })).items).toEqual([first]);
      });

      it('serializes concurrent appends into one unbroken chain that verifies', async () => {
        await Promise.all(
          Array.from({ length: 40 }, (_, index) => store.audit.append({ kind: 'test', details: { index } }, seal)),
        );
        const result = await store.audit.verify(seal);
        expect(result).toEqual({ valid: true, entries: 40, violations: [] });
        const other: AuditSeal = (record) => seal({ ...record, kind: 'x' });
        const wrongKey = await store.audit.verify(other);
        expect(wrongKey.valid).toBe(false);
        expect(wrongKey.violations).toHaveLength(40);
      });

      it('verifies an empty log as valid', async () => {
        expect(await store.audit.verify(seal)).toEqual({ valid: true, entries: 0, violations: [] });
      });
    });

    describe('api keys', () => {
      const base = { keyPrefix: 'aos_abcd', scopes: ['agents:read'] };

      it('creates, finds an active key by hash, and revokes it', async () => {
        await store.apiKeys.create({ id: 'k1', name: 'ci', keyHash: 'h1', ...base });
        expect((await store.apiKeys.getActiveByHash('h1'))?.scopes).toEqual(['agents:read']);
        expect(await store.apiKeys.count()).toBe(1);
        expect(await store.apiKeys.revoke('k1')).toBe(true);
        expect(await store.apiKeys.revoke('k1')).toBe(false);
        expect(await store.apiKeys.getActiveByHash('h1')).toBeNull();
        expect(await store.apiKeys.count()).toBe(0);
        expect(await store.apiKeys.count({ includeRevoked: true })).toBe(1);
        expect((await store.apiKeys.get('k1'))?.revokedAt).not.toBeNull();
      });

      it('lists active keys unless asked for revoked ones', async () => {
        await store.apiKeys.create({ id: 'k1', name: 'a', keyHash: 'h1', ...base });
        await store.apiKeys.create({ id: 'k2', name: 'b', keyHash: 'h2', ...base });
        await store.apiKeys.revoke('k1');
        expect((await store.apiKeys.list()).items.map((key) => key.id)).toEqual(['k2']);
        expect((await store.apiKeys.list({ includeRevoked: true })).total).toBe(2);
      });

      it('rejects a duplicate hash', async () => {
        await store.apiKeys.create({ id: 'k1', name: 'a', keyHash: 'h1', ...base });
        await expectCode(store.apiKeys.create({ id: 'k2', name: 'b', keyHash: 'h1', ...base }), 'AOS_CONFLICT');
      });

      it('records the last use', async () => {
        await store.apiKeys.create({ id: 'k1', name: 'a', keyHash: 'h1', ...base });
        await store.apiKeys.touch('k1', 42);
        expect((await store.apiKeys.get('k1'))?.lastUsedAt).toBe(42);
      });
    });
  });
}
