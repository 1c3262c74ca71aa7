import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/cli.js';
import { type FakeOpenAI, startFakeOpenAI } from '../../test/fake-openai.js';

describe('agentos eval', () => {
  let fake: FakeOpenAI;
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    dir = mkdtempSync(join(tmpdir(), 'agentos-eval-'));
    env = { OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'test-key' };
    writeFileSync(
      join(dir, 'agentos.config.yaml'),
      [
        'database: { url: "sqlite:./evals.db" }',
        'rate_limits: false',
        'agents:',
        '  - { id: math, name: Math, model: "openai:gpt-4o-mini", tools: [calculator] }',
        '',
      ].join('\n'),
    );
  });
  afterAll(async () => {
    await fake?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('exits 0 when every eval passes and stores the results', async () => {
    writeFileSync(
      join(dir, 'pass.yaml'),
      [
        'evals:',
        '  - { name: speed, agent_id: math, eval_type: performance, input: ping, num_iterations: 2, threshold: 60000 }',
        '',
      ].join('\n'),
    );
    const result = await runCli(['eval', 'pass.yaml'], dir, env);
    expect(result.stderr).toContain('1/1 evals passed');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^PASS performance speed: avg [\d.]+ ms/m);
    const db = new Database(join(dir, 'evals.db'), { readonly: true });
    try {
      const rows = db.prepare("select name, eval_type from eval_runs where workspace_id = 'default'").all();
      expect(rows).toEqual([{ name: 'speed', eval_type: 'performance' }]);
    } finally {
      db.close();
    }
  });

  it('exits 1 when an eval falls under its threshold', async () => {
    fake.reset();
    writeFileSync(
      join(dir, 'fail.yaml'),
      [
        '- { name: speed, agent_id: math, eval_type: performance, input: ping, threshold: 60000 }',
        '- { name: uses-calculator, agent_id: math, eval_type: reliability, input: "2+2?", expected_tool_calls: [calculator] }',
        '',
      ].join('\n'),
    );
    const result = await runCli(['eval', 'fail.yaml'], dir, env);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^PASS performance speed/m);
    expect(result.stdout).toMatch(/^FAIL reliability uses-calculator: FAILED: missing \[calculator\]/m);
    expect(result.stderr).toContain('1/2 evals passed');
  });

  it('names each problem of an invalid suite', async () => {
    writeFileSync(join(dir, 'bad.yaml'), 'evals:\n  - { agent_id: math, eval_type: accuracy, input: x }\n');
    const result = await runCli(['eval', 'bad.yaml'], dir, env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('evals.0.expected_output: accuracy evals need expected_output');
  });
});
