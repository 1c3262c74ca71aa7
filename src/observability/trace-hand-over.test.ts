/**
 * Traces of a file store's server (issue 10): finished spans go to the trace worker in small hand-overs as
 * they end, not after the batch delay; the worker writes them without being asked to read; the routes see
 * every run's trace; and closing the server writes what was still queued, so a restart finds it all.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../test/helpers.js';
import { traceFilePath } from '../store/sqlite/trace-client.js';

const dir = mkdtempSync(join(tmpdir(), 'agentos-trace-hand-over-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const RUNS = 100;

function storedSpans(file: string): number {
  if (!existsSync(file)) return 0;
  const database = new Database(file, { readonly: true });
  try {
    // The worker may not have made its tables yet.
    const made = database.prepare("select 1 from sqlite_master where type = 'table' and name = 'trace_spans'").get();
    return made ? (database.prepare('select count(*) as n from trace_spans').get() as { n: number }).n : 0;
  } finally {
    database.close();
  }
}

async function waitFor(check: () => boolean, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!check() && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 25));
}

describe('tracing over a file store', () => {
  const path = join(dir, 'agentos.db');
  const open = () =>
    buildTestApp({
      database: { url: `sqlite:${path}` },
      agents: [{ id: 'assistant', name: 'Assistant', model: 'local:default' }],
      // Only full hand-overs leave before a minute: the rest waits for a flush or the close.
      tracing: { batch_delay_ms: 60_000 },
    });

  it('hands spans to the worker as they end, lists every run, and keeps queued spans across a restart', async () => {
    let test: TestApp = await open();
    try {
      const runs = await Promise.all(
        Array.from({ length: RUNS }, (_, index) =>
          test.app.inject({ method: 'POST', url: '/agents/assistant/runs', payload: { message: `hello ${index}` } }),
        ),
      );
      expect(runs.every((response) => response.statusCode === 200)).toBe(true);
      // Each run ends at least its agent span; full hand-overs of 64 are written by the worker on its own.
      await waitFor(() => storedSpans(traceFilePath(path)) >= 64, 3_000);
      const written = storedSpans(traceFilePath(path));
      expect(written).toBeGreaterThanOrEqual(64);
      expect(written % 64).toBe(0);

      const listed = await test.app.inject({ method: 'GET', url: '/traces?limit=1' });
      expect(listed.statusCode, listed.body).toBe(200);
      expect(listed.json().meta.total_count).toBe(RUNS);
    } finally {
      await test.close();
    }

    // Spans still queued at the close were written by it.
    test = await open();
    try {
      await test.app.inject({ method: 'POST', url: '/agents/assistant/runs', payload: { message: 'one more' } });
      await test.close();
      test = await open();
      const listed = await test.app.inject({ method: 'GET', url: '/traces?limit=1' });
      expect(listed.json().meta.total_count).toBe(RUNS + 1);
    } finally {
      await test.close();
    }
  });
});
