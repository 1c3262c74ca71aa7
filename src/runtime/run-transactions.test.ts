import { describe, expect, it, vi } from 'vitest';
import { useTestApp } from '../../test/helpers.js';

const CONFIG = { agents: [{ id: 'assistant', name: 'Assistant', model: 'local:default' }] };

describe("a run's start and end writes (one transaction each)", () => {
  const test = useTestApp(CONFIG, { clearEachTest: true });
  const run = (payload: Record<string, unknown>) =>
    test.app.inject({ method: 'POST', url: '/agents/assistant/runs', payload });

  it('concurrent first runs of one new session all succeed in that one session', async () => {
    const responses = await Promise.all(
      Array.from({ length: 6 }, (_, index) => run({ message: `hello ${index}`, session_id: 'fresh' })),
    );
    expect(responses.map((response) => response.statusCode)).toEqual(Array(6).fill(200));
    const { store } = test.services;
    const sessions = await store.sessions.list({ workspaceId: 'default' });
    expect(sessions.items.map((session) => session.sessionId)).toEqual(['fresh']);
    const runs = await store.runs.list({ workspaceId: 'default', sessionId: 'fresh' });
    expect(runs.total).toBe(6);
    expect(runs.items.every((stored) => stored.status === 'completed')).toBe(true);
  });

  it('a first run that lost the race for its new session runs in the session the other created', async () => {
    const { store } = test.services;
    expect((await run({ message: 'first', session_id: 'raced' })).statusCode).toBe(200);
    // The second run looked before the first had created the session.
    const get = vi.spyOn(store.sessions, 'get').mockResolvedValueOnce(null);
    const create = vi.spyOn(store.runs, 'create');
    try {
      const response = await run({ message: 'second', session_id: 'raced' });
      expect(response.statusCode).toBe(200);
      expect(create.mock.calls.map((call) => call[1]?.session?.sessionId ?? null)).toEqual(['raced', null]);
      expect(response.json().session_id).toBe('raced');
    } finally {
      get.mockRestore();
      create.mockRestore();
    }
    const runs = await store.runs.list({ workspaceId: 'default', sessionId: 'raced' });
    expect(runs.items.map((stored) => stored.status)).toEqual(['completed', 'completed']);
  });

  it('stores every event of a blocking run, through RunCompleted, with its final status', async () => {
    const response = await run({ message: 'hello' });
    expect(response.statusCode).toBe(200);
    const { run_id: runId } = response.json();
    const { store } = test.services;
    const events = await store.runEvents.list(runId);
    expect(events[0]?.event).toBe('RunStarted');
    expect(events.at(-1)?.event).toBe('RunCompleted');
    expect(events.map((event) => event.eventIndex)).toEqual([...events.keys()]);
    expect((await store.runs.get('default', runId))?.status).toBe('completed');
  });

  it('when the end transaction fails, the events are written on their own and the run still completes', async () => {
    const { store } = test.services;
    const transition = store.runs.transition.bind(store.runs);
    const spy = vi.spyOn(store.runs, 'transition').mockImplementationOnce(async (...args) => {
      if (args[4]?.events?.length) throw new Error('disk I/O error');
      return transition(...args);
    });
    try {
      const response = await run({ message: 'hello' });
      expect(response.statusCode).toBe(200);
      const { run_id: runId } = response.json();
      expect(spy.mock.calls[0]?.[4]?.events?.length).toBeGreaterThan(0);
      const events = await store.runEvents.list(runId);
      expect(events.at(-1)?.event).toBe('RunCompleted');
      expect(events.map((event) => event.eventIndex)).toEqual([...events.keys()]);
      expect((await store.runs.get('default', runId))?.status).toBe('completed');
    } finally {
      spy.mockRestore();
    }
  });
});
