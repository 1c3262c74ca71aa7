/**
 * `agentos eval <suite.yaml>`: runs a suite of evals (the `POST /eval-runs` body, one per entry)
 * against the configured agents, stores each result like the API does, prints one line per eval and
 * exits 1 when any eval fails its threshold or cannot run, so CI can gate on it.
 * @module
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { z } from 'zod';
import { isAgentOsError } from '../errors/index.js';
import { type EvalRequest, evalRequestSchema } from '../evals/types.js';
import type { EvalRunRecord } from '../store/observability-types.js';
import { type ConfigFlags, openServices, withConfigFlags } from './shared.js';

/** A suite file: `evals: [...]`, or the list itself. */
const suiteSchema = z.union([
  z.strictObject({ evals: z.array(evalRequestSchema).min(1) }),
  z.array(evalRequestSchema).min(1),
]);

/** Parses and validates a suite; problems are reported one per line with their path. */
export async function parseSuite(text: string): Promise<EvalRequest[]> {
  // Loaded on demand, as in config/load.ts: every start of the CLI (`serve` too) would parse it otherwise.
  const yaml = await import('yaml');
  const { parse: parseYaml } = 'parse' in yaml ? yaml : (yaml as { default: typeof yaml }).default;
  const result = suiteSchema.safeParse(parseYaml(text));
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `${issue.path.join('.') || '(suite)'}: ${issue.message}`);
    throw new Error(`invalid eval suite:\n${lines.join('\n')}`);
  }
  return Array.isArray(result.data) ? result.data : result.data.evals;
}

/** The one-line result of an eval. */
export function describeResult(record: EvalRunRecord): string {
  const data = record.evalData;
  switch (record.evalType) {
    case 'accuracy':
    case 'agent_as_judge':
      return data.scoring_strategy === 'binary'
        ? `verdict ${data.passed ? 'pass' : 'fail'}`
        : `score ${data.avg_score} (threshold ${data.threshold})`;
    case 'performance': {
      const time = data.run_time_ms as { avg: number; p95: number };
      return `avg ${time.avg} ms, p95 ${time.p95} ms${data.threshold_ms === null ? '' : ` (threshold ${data.threshold_ms} ms)`}`;
    }
    case 'reliability':
      return `${data.eval_status}: missing [${(data.failed_tool_calls as string[]).join(', ')}]`;
  }
}

/** Registers `agentos eval`. */
export function registerEvalCommand(program: Command): void {
  withConfigFlags(program.command('eval').description('run an eval suite; exit 1 when any eval fails'))
    .argument('<file>', 'suite file (YAML or JSON): evals: [{agent_id | team_id | workflow_id, eval_type, input, ...}]')
    .option('-w, --workspace <id>', 'workspace to store the results in', 'default')
    .action(async (file: string, flags: ConfigFlags & { workspace: string }) => {
      const suite = await parseSuite(await readFile(file, 'utf8'));
      const { runEval } = await import('../evals/runner.js');
      const services = await openServices(flags);
      let failed = 0;
      try {
        for (const [index, request] of suite.entries()) {
          const label = `${request.eval_type} ${request.name ?? `#${index + 1}`}`;
          try {
            const record = await runEval(
              {
                config: services.config,
                runs: services.runs,
                models: services.models,
                store: services.store.observability,
                teams: services.teams,
                workflows: services.workflows,
                runStore: services.store.runs,
                // The operator's own suite: every member of a team or workflow component may run.
                mayRun: () => true,
              },
              flags.workspace,
              request,
            );
            const passed = record.evalData.passed === true;
            if (!passed) failed++;
            process.stdout.write(`${passed ? 'PASS' : 'FAIL'} ${label}: ${describeResult(record)} [${record.id}]\n`);
          } catch (error) {
            failed++;
            const message = isAgentOsError(error) ? `${error.code}: ${error.message}` : String(error);
            process.stdout.write(`FAIL ${label}: ${message}\n`);
          }
        }
      } finally {
        await services.close();
      }
      process.stderr.write(`${suite.length - failed}/${suite.length} evals passed\n`);
      if (failed > 0) process.exitCode = 1;
    });
}
