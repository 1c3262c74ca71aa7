/**
 * Runs one eval against an agent, a team or a workflow and stores the result (research/agno.md §1.7):
 * - `accuracy`: the agent answers `input` `num_iterations` times; a judge model scores each answer
 *   1–10 against `expected_output`; passes when the average reaches `threshold` (default 7).
 * - `agent_as_judge`: the judge rates the answer against `criteria`, numeric (1–10, pass at
 *   `threshold`, default 7) or binary (pass/fail).
 * - `performance`: `warmup_runs` unmeasured runs, then `num_iterations` measured ones: wall time and
 *   heap growth per run; passes unless the average exceeds `threshold` ms.
 * - `reliability`: the tools the agent called against `expected_tool_calls` (and their arguments); for
 *   a team or workflow, the tools its members and steps called (their runs, found by `parentRunId`).
 * Runs go through the run manager and the team and workflow runners, so they are ordinary stored,
 * traced runs.
 * @module
 */
import type { AgentOsConfig } from '../config/index.js';
import { AgentOsError } from '../errors/index.js';
import type { ModelRegistry } from '../models/registry.js';
import type { RunManager } from '../runtime/run-manager.js';
import type { TeamRunner } from '../runtime/team/team-runner.js';
import type { WorkflowRunner } from '../runtime/workflow/workflow-runner.js';
import type { EvalRunRecord, ObservabilityStore } from '../store/observability-types.js';
import type { RunRecord, RunStore } from '../store/types.js';
import { judge, type Verdict } from './judge.js';
import type { EvalRequest } from './types.js';

/** Default pass mark of scored evals. */
export const DEFAULT_SCORE_THRESHOLD = 7;

/** What running an eval needs. */
export interface EvalDeps {
  config: AgentOsConfig;
  runs: Pick<RunManager, 'start'>;
  models: Pick<ModelRegistry, 'languageModel'>;
  store: ObservabilityStore;
  /** Evals of teams (`team_id`); absent, they are refused. */
  teams?: Pick<TeamRunner, 'resolve' | 'start'> | undefined;
  /** Evals of workflows (`workflow_id`); absent, they are refused. */
  workflows?: Pick<WorkflowRunner, 'definition' | 'start'> | undefined;
  /** Run rows: the members' and steps' tool calls of a team or workflow (reliability). */
  runStore?: Pick<RunStore, 'list'> | undefined;
  /**
   * Whether the caller may run an agent or team, for team and workflow components, which run only when
   * the caller may run every member (absent: such components are refused, fail closed).
   */
  mayRun?: ((resource: 'agents' | 'teams', id: string) => boolean) | undefined;
  /** Who asked: the eval's runs count against that caller's budget (and are refused when it is used up). */
  principal?: string | undefined;
}

/** What an eval runs: an agent, a team or a workflow. */
interface EvalTarget {
  kind: 'agent' | 'team' | 'workflow';
  id: string;
  name: string;
  /** `provider:model` of the agent or team leader (the judge's default); workflows have none. */
  modelId: string | undefined;
  /** One run of the target with the eval's input, to its end. */
  run(): Promise<RunRecord>;
}

function stats(values: readonly number[]) {
  if (values.length === 0) return { avg: 0, min: 0, max: 0, std_dev: 0, median: 0, p95: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const avg = values.reduce((sum, value) => sum + value, 0) / values.length;
  const variance = values.reduce((sum, value) => sum + (value - avg) ** 2, 0) / values.length;
  const at = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] as number;
  const round = (value: number) => Math.round(value * 1000) / 1000;
  return {
    avg: round(avg),
    min: round(sorted[0] as number),
    max: round(sorted[sorted.length - 1] as number),
    std_dev: round(Math.sqrt(variance)),
    median: round(at(0.5)),
    p95: round(at(0.95)),
  };
}

/** An unknown id in the request body is the request's fault (400), as for agents. */
function unknown(kind: string, id: string) {
  return (error: unknown): never => {
    if (error instanceof AgentOsError && error.status === 404) {
      throw new AgentOsError('AOS_BAD_REQUEST', `Unknown ${kind} "${id}"`);
    }
    throw error;
  };
}

/** The agent, team or workflow the eval names (exactly one, as the request schema checks). */
async function targetOf(deps: EvalDeps, workspaceId: string, request: EvalRequest): Promise<EvalTarget> {
  const common = { workspaceId, message: request.input, userId: request.user_id ?? null, principal: deps.principal };
  if (request.team_id !== undefined) {
    const teamId = request.team_id;
    if (!deps.teams) throw new AgentOsError('AOS_BAD_REQUEST', 'Evals of teams are not available here');
    const { team } = await deps.teams.resolve(workspaceId, teamId).catch(unknown('team', teamId));
    const teams = deps.teams;
    return {
      kind: 'team',
      id: team.id,
      name: team.name ?? team.id,
      modelId: team.model ?? deps.config.models.default,
      run: async () => (await teams.start({ ...common, teamId, mayRun: deps.mayRun })).done,
    };
  }
  if (request.workflow_id !== undefined) {
    const workflowId = request.workflow_id;
    if (!deps.workflows) throw new AgentOsError('AOS_BAD_REQUEST', 'Evals of workflows are not available here');
    const definition = await deps.workflows.definition(workspaceId, workflowId).catch(unknown('workflow', workflowId));
    const workflows = deps.workflows;
    return {
      kind: 'workflow',
      id: definition.id,
      name: definition.name,
      modelId: undefined,
      run: async () => (await workflows.start({ ...common, workflowId, mayRun: deps.mayRun })).done,
    };
  }
  const agentId = request.agent_id as string;
  const agent = deps.config.agents.find((candidate) => candidate.id === agentId);
  if (!agent) throw new AgentOsError('AOS_BAD_REQUEST', `Unknown agent "${agentId}"`);
  return {
    kind: 'agent',
    id: agent.id,
    name: agent.name ?? agent.id,
    modelId: agent.model ?? deps.config.models.default,
    run: async () => (await deps.runs.start({ ...common, agentId })).done,
  };
}

/** `provider:model` of the judge: the request's, else `evals.judge_model`, else the target's (or the default) model. */
function judgeModelId(deps: EvalDeps, request: EvalRequest, targetModel: string | undefined): string {
  if (request.model_id !== undefined) {
    return request.model_id.includes(':') || request.model_provider === undefined
      ? request.model_id
      : `${request.model_provider}:${request.model_id}`;
  }
  return deps.config.evals.judge_model ?? targetModel ?? deps.config.models.default;
}

function toolCallsOf(run: RunRecord): Array<{ tool_name: string; tool_args: Record<string, unknown> }> {
  const tools = Array.isArray(run.output.tools) ? (run.output.tools as Array<Record<string, unknown>>) : [];
  return tools.map((tool) => ({
    tool_name: String(tool.tool_name),
    tool_args: (tool.tool_args ?? {}) as Record<string, unknown>,
  }));
}

/**
 * The tool calls of a run and of every run below it (team members, workflow steps, nested teams), in
 * the order the runs were created. Member runs share their parent's session and name it in `parentRunId`.
 */
async function treeToolCalls(deps: EvalDeps, run: RunRecord) {
  if (run.componentType === 'agent' || !deps.runStore) return toolCallsOf(run);
  const sessionRuns: RunRecord[] = [];
  for (let page = 1; ; page++) {
    const result = await deps.runStore.list({
      workspaceId: run.workspaceId,
      sessionId: run.sessionId,
      page,
      limit: 100,
    });
    sessionRuns.push(...result.items);
    if (result.items.length === 0 || sessionRuns.length >= result.total) break;
  }
  const inTree = new Set([run.runId]);
  const calls = toolCallsOf(run);
  // Oldest first; passes repeat while they find runs, since a child created in its parent's millisecond may list first.
  for (let found = true; found; ) {
    found = false;
    for (const candidate of sessionRuns) {
      if (inTree.has(candidate.runId) || candidate.parentRunId === null || !inTree.has(candidate.parentRunId)) continue;
      inTree.add(candidate.runId);
      calls.push(...toolCallsOf(candidate));
      found = true;
    }
  }
  return calls;
}

function runFailure(run: RunRecord): AgentOsError | undefined {
  if (run.status === 'completed') return undefined;
  return new AgentOsError('AOS_BAD_REQUEST', `The evaluated run ended ${run.status}: ${run.error ?? 'no answer'}`);
}

/** True when `actual` holds every key of `expected` with an equal value (JSON equality). */
function argumentsMatch(expected: Record<string, unknown>, actual: Record<string, unknown>): boolean {
  return Object.entries(expected).every(([key, value]) => JSON.stringify(actual[key]) === JSON.stringify(value));
}

async function judged(deps: EvalDeps, request: EvalRequest, target: EvalTarget) {
  const judgeModel = judgeModelId(deps, request, target.modelId);
  const model = await deps.models.languageModel(judgeModel);
  const strategy = request.eval_type === 'accuracy' ? 'numeric' : request.scoring_strategy;
  const results: Array<Verdict & { input: string; output: string; expected_output?: string; run_id: string }> = [];
  for (let iteration = 0; iteration < request.num_iterations; iteration++) {
    const run = await target.run();
    const failure = runFailure(run);
    if (failure) throw failure;
    const output = run.content ?? '';
    const verdict = await judge({
      model,
      input: request.input,
      output,
      expectedOutput: request.eval_type === 'accuracy' ? request.expected_output : undefined,
      criteria: request.criteria,
      strategy,
      guidelines: request.additional_guidelines,
      context: request.additional_context,
    });
    results.push({
      ...verdict,
      input: request.input,
      output,
      ...(request.expected_output === undefined ? {} : { expected_output: request.expected_output }),
      run_id: run.runId,
    });
  }
  const scores = stats(results.map((result) => result.score));
  const threshold = request.threshold ?? DEFAULT_SCORE_THRESHOLD;
  const passed = strategy === 'binary' ? results.every((result) => result.passed === true) : scores.avg >= threshold;
  return {
    results,
    avg_score: scores.avg,
    min_score: scores.min,
    max_score: scores.max,
    std_dev_score: scores.std_dev,
    scoring_strategy: strategy,
    threshold: strategy === 'binary' ? null : threshold,
    judge_model: judgeModel,
    passed,
  };
}

async function performance(request: EvalRequest, target: EvalTarget) {
  for (let warmup = 0; warmup < request.warmup_runs; warmup++) await target.run();
  const times: number[] = [];
  const memory: number[] = [];
  const runIds: string[] = [];
  for (let iteration = 0; iteration < request.num_iterations; iteration++) {
    const heapBefore = process.memoryUsage().heapUsed;
    const started = performance_now();
    const run = await target.run();
    times.push(performance_now() - started);
    memory.push(Math.max(0, process.memoryUsage().heapUsed - heapBefore) / (1024 * 1024));
    runIds.push(run.runId);
    const failure = runFailure(run);
    if (failure) throw failure;
  }
  const time = stats(times);
  const mem = stats(memory);
  return {
    run_time_ms: time,
    memory_mib: mem,
    avg_run_time: time.avg / 1000,
    avg_memory_usage: mem.avg,
    num_iterations: request.num_iterations,
    warmup_runs: request.warmup_runs,
    run_ids: runIds,
    threshold_ms: request.threshold ?? null,
    passed: request.threshold === undefined || time.avg <= request.threshold,
  };
}

const performance_now = () => globalThis.performance.now();

async function reliability(deps: EvalDeps, request: EvalRequest, target: EvalTarget) {
  const run = await target.run();
  const failure = runFailure(run);
  if (failure) throw failure;
  const calls = await treeToolCalls(deps, run);
  const expected = request.expected_tool_calls ?? [];
  const called = new Set(calls.map((call) => call.tool_name));
  const passedCalls: string[] = [];
  const failedCalls: string[] = [];
  for (const name of expected) {
    const wanted = request.expected_tool_call_arguments?.[name];
    const ok = calls.some((call) => call.tool_name === name && (!wanted || argumentsMatch(wanted, call.tool_args)));
    (ok ? passedCalls : failedCalls).push(name);
  }
  const additional = [...called].filter((name) => !expected.includes(name));
  const passed = failedCalls.length === 0 && (request.allow_additional_tool_calls || additional.length === 0);
  return {
    eval_status: passed ? 'PASSED' : 'FAILED',
    passed,
    passed_tool_calls: passedCalls,
    failed_tool_calls: failedCalls,
    additional_tool_calls: additional,
    tool_calls: calls,
    run_id: run.runId,
  };
}

/** Runs the eval and stores it; the stored record's `eval_data.passed` says whether it passed. */
export async function runEval(deps: EvalDeps, workspaceId: string, request: EvalRequest): Promise<EvalRunRecord> {
  const target = await targetOf(deps, workspaceId, request);
  let evalData: Record<string, unknown>;
  switch (request.eval_type) {
    case 'accuracy':
    case 'agent_as_judge':
      evalData = await judged(deps, request, target);
      break;
    case 'performance':
      evalData = await performance(request, target);
      break;
    case 'reliability':
      evalData = await reliability(deps, request, target);
      break;
  }
  const [provider, ...model] = target.modelId?.split(':') ?? [];
  const { name, eval_type, ...input } = request;
  return deps.store.createEvalRun({
    workspaceId,
    name: name ?? null,
    evalType: eval_type,
    agentId: target.kind === 'agent' ? target.id : null,
    teamId: target.kind === 'team' ? target.id : null,
    workflowId: target.kind === 'workflow' ? target.id : null,
    modelId: target.modelId === undefined ? null : model.join(':') || target.modelId,
    modelProvider: provider ?? null,
    evaluatedComponentName: target.name,
    evalInput: input,
    evalData,
  });
}
