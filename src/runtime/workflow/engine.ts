/**
 * The workflow engine: walks a step tree, chaining each step's output into the next step's input and
 * sharing one `session_state` across steps. Every step transition is checkpointed (`workflow_steps`,
 * keyed by the step's path: `name`, or `loop#2/name` inside loop iteration 2) before the engine moves
 * on, so an interrupted run resumes after its last completed step: a completed or skipped checkpoint
 * is replayed from the database (its output and state restored) instead of executed again. A step
 * that was running when the process died has no completed checkpoint and runs again.
 *
 * Per step: `timeout_ms` per attempt (the attempt's signal is aborted, so a model call stops too),
 * `max_retries` with exponential backoff from `retry_backoff_ms`, then `on_error`: `fail` ends the
 * run, `skip` passes the input on unchanged, `retry` (retries default to 3) fails after the last.
 * @module
 */
import type { AgentOsConfig } from '../../config/index.js';
import {
  stepKind,
  type WorkflowFunction,
  type WorkflowPredicate,
  type WorkflowStep,
} from '../../config/workflow-schema.js';
import type { RunEventInput } from '../../events/index.js';
import type { StepCheckpointRecord, StepCheckpointStatus, WorkflowStore } from '../../store/types.js';
import type { MemberResponse, MemberScope } from '../team/member-run.js';
import { asText, renderTemplate, type TemplateScope } from './template.js';

/** Thrown to stop the run at a step that waits for confirmation. */
export class WorkflowPause extends Error {
  constructor(
    readonly stepKey: string,
    readonly stepName: string,
    readonly confirmationMessage: string | undefined,
  ) {
    super(`Workflow paused before step ${stepName}`);
    this.name = 'WorkflowPause';
  }
}

/** A step that failed for good (after its retries, under `on_error: fail | retry`). */
export class StepFailure extends Error {
  constructor(
    readonly stepName: string,
    message: string,
  ) {
    super(message);
    this.name = 'StepFailure';
  }
}

class StepTimeout extends Error {
  constructor(stepName: string, timeoutMs: number) {
    super(`Step '${stepName}' timed out after ${timeoutMs} ms`);
    this.name = 'StepTimeout';
  }
}

/** How the engine runs agents and teams (the member runners, bound to the run). */
export interface StepExecutors {
  agent(agentId: string, message: string, scope: MemberScope): Promise<MemberResponse>;
  team(teamId: string, message: string, scope: MemberScope): Promise<MemberResponse>;
}

/** Everything one execution needs. */
export interface WorkflowExecutionOptions {
  config: AgentOsConfig;
  store: WorkflowStore;
  executors: StepExecutors;
  runId: string;
  workspaceId: string;
  sessionId: string;
  userId: string | null;
  /** Who started the run, for usage accounting. */
  principal?: string | undefined;
  message: string;
  /** Shared state at the start (the session's `session_state`); mutated as steps run. */
  state: Record<string, unknown>;
  /** Checkpoints from earlier executions of this run (resume, continue). */
  checkpoints: readonly StepCheckpointRecord[];
  emit(event: RunEventInput): void;
  abortSignal: AbortSignal;
}

const REPLAYED: readonly StepCheckpointStatus[] = ['completed', 'skipped'];

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** One execution of a workflow run (a resume or continue is a new execution over the same checkpoints). */
export class WorkflowExecution {
  /** Outputs by step name, for templates and iii's results. */
  readonly steps: Record<string, unknown> = {};
  private readonly checkpoints: Map<string, StepCheckpointRecord>;
  /** Step keys replayed from checkpoints in this execution, in order. */
  readonly replayed: string[] = [];

  constructor(private readonly options: WorkflowExecutionOptions) {
    this.checkpoints = new Map(options.checkpoints.map((checkpoint) => [checkpoint.stepKey, checkpoint]));
    for (const checkpoint of options.checkpoints) {
      if (REPLAYED.includes(checkpoint.status)) this.steps[checkpoint.stepName] = checkpoint.output;
    }
  }

  get state(): Record<string, unknown> {
    return this.options.state;
  }

  /** Runs the top-level steps; resolves with the last output. Throws {@link WorkflowPause} or {@link StepFailure}. */
  run(steps: readonly WorkflowStep[]): Promise<unknown> {
    return this.runSequence(steps, this.options.message, '', this.options.abortSignal);
  }

  private async runSequence(
    steps: readonly WorkflowStep[],
    input: unknown,
    prefix: string,
    signal: AbortSignal,
  ): Promise<unknown> {
    let current = input;
    for (const step of steps) current = await this.runStep(step, current, prefix, signal);
    return current;
  }

  private scope(input: unknown): TemplateScope {
    return { input, message: this.options.message, state: this.options.state, steps: this.steps };
  }

  private save(
    key: string,
    step: WorkflowStep,
    status: StepCheckpointStatus,
    fields: { output?: unknown; attempts?: number; durationMs?: number; error?: string | null } = {},
  ): Promise<StepCheckpointRecord> {
    return this.options.store.saveStep(this.options.runId, {
      stepKey: key,
      stepName: step.name,
      status,
      state: this.options.state,
      ...fields,
    });
  }

  private restoreState(state: Record<string, unknown>): void {
    const target = this.options.state;
    for (const key of Object.keys(target)) delete target[key];
    Object.assign(target, state);
  }

  private async runStep(step: WorkflowStep, input: unknown, prefix: string, signal: AbortSignal): Promise<unknown> {
    const key = `${prefix}${step.name}`;
    const { emit } = this.options;
    const checkpoint = this.checkpoints.get(key);
    if (checkpoint && REPLAYED.includes(checkpoint.status)) {
      // Done before the restart (or before the pause): its result comes from the database.
      this.replayed.push(key);
      this.restoreState(checkpoint.state);
      const output = checkpoint.status === 'skipped' ? input : checkpoint.output;
      this.steps[step.name] = output;
      return output;
    }
    if (signal.aborted) throw signal.reason;
    const kind = stepKind(step);
    if (step.requires_confirmation) {
      if (checkpoint?.status === 'rejected') {
        emit({ event: 'StepSkipped', step_name: step.name, step_key: key, step_type: kind, reason: 'rejected' });
        await this.save(key, step, 'skipped', { output: null });
        return input;
      }
      if (checkpoint?.status !== 'confirmed') {
        await this.save(key, step, 'running');
        throw new WorkflowPause(key, step.name, step.confirmation_message);
      }
    }
    const stepInput = step.input === undefined ? input : renderTemplate(step.input, this.scope(input));
    const retries = step.max_retries ?? (step.on_error === 'retry' ? 3 : 0);
    const started = performance.now();
    emit({ event: 'StepStarted', step_name: step.name, step_key: key, step_type: kind });
    let lastError: Error | undefined;
    for (let attempt = 1; attempt <= retries + 1; attempt++) {
      await this.save(key, step, 'running', { attempts: attempt });
      try {
        const output = await this.attempt(step, key, stepInput, attempt, signal);
        if (step.output_var !== undefined) this.options.state[step.output_var] = output;
        this.steps[step.name] = output;
        const durationMs = performance.now() - started;
        await this.save(key, step, 'completed', { output, attempts: attempt, durationMs });
        emit({
          event: 'StepCompleted',
          step_name: step.name,
          step_key: key,
          step_type: kind,
          content: output,
          attempts: attempt,
          duration_ms: Math.round(durationMs),
        });
        return output;
      } catch (error) {
        // A cancel (or shutdown) of the whole run is not a step failure: no retry, no skip.
        if (signal.aborted || error instanceof WorkflowPause) throw error;
        lastError = error instanceof Error ? error : new Error(String(error));
        if (error instanceof StepFailure && kind !== 'agent' && kind !== 'team' && kind !== 'function') {
          // A composite step fails with the step inside it that failed; retry applies to leaves.
          break;
        }
        if (attempt <= retries) {
          const delayMs = step.retry_backoff_ms * 2 ** (attempt - 1);
          emit({
            event: 'StepRetry',
            step_name: step.name,
            step_key: key,
            attempt,
            error: lastError.message,
            delay_ms: delayMs,
          });
          await sleep(delayMs, signal);
        }
      }
    }
    const message = lastError?.message ?? 'Step failed';
    const durationMs = performance.now() - started;
    emit({ event: 'StepError', step_name: step.name, step_key: key, step_type: kind, error: message });
    if (step.on_error === 'skip') {
      await this.save(key, step, 'skipped', { output: null, error: message, durationMs, attempts: retries + 1 });
      emit({ event: 'StepSkipped', step_name: step.name, step_key: key, step_type: kind, reason: message });
      this.steps[step.name] = input;
      return input;
    }
    await this.save(key, step, 'failed', { error: message, durationMs, attempts: retries + 1 });
    throw lastError instanceof StepFailure ? lastError : new StepFailure(step.name, message);
  }

  /** One attempt of a step under its timeout; the attempt's own signal stops the work when it times out. */
  private async attempt(
    step: WorkflowStep,
    key: string,
    input: unknown,
    attempt: number,
    runSignal: AbortSignal,
  ): Promise<unknown> {
    const controller = new AbortController();
    const forward = () => controller.abort(runSignal.reason);
    runSignal.addEventListener('abort', forward, { once: true });
    let timer: NodeJS.Timeout | undefined;
    try {
      const work = this.execute(step, key, input, attempt, controller.signal);
      if (step.timeout_ms === undefined) return await work;
      const timeoutMs = step.timeout_ms;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          controller.abort('timeout');
          reject(new StepTimeout(step.name, timeoutMs));
        }, timeoutMs);
      });
      // The losing promise may still reject later (an aborted model call); nobody waits for it.
      work.catch(() => {});
      return await Promise.race([work, timeout]);
    } finally {
      clearTimeout(timer);
      runSignal.removeEventListener('abort', forward);
    }
  }

  private memberScope(step: WorkflowStep, signal: AbortSignal): MemberScope {
    return {
      workspaceId: this.options.workspaceId,
      sessionId: this.options.sessionId,
      userId: this.options.userId,
      principal: this.options.principal,
      parentRunId: this.options.runId,
      emit: this.options.emit,
      abortSignal: signal,
      fields: { step_name: step.name },
      role: 'step',
    };
  }

  private callFunction(name: string, input: unknown, attempt: number, signal: AbortSignal): Promise<unknown> {
    const fn = this.options.config.functions[name] as WorkflowFunction | undefined;
    if (!fn) throw new StepFailure(name, `Unknown function ${JSON.stringify(name)}`);
    return Promise.resolve(
      fn({
        input,
        message: this.options.message,
        state: this.options.state,
        steps: this.steps,
        attempt,
        abortSignal: signal,
      }),
    );
  }

  private async test(predicate: WorkflowPredicate, input: unknown, signal: AbortSignal): Promise<boolean> {
    if ('contains' in predicate) return asText(input).toLowerCase().includes(predicate.contains.toLowerCase());
    if ('equals' in predicate) return asText(input).trim() === predicate.equals;
    return Boolean(await this.callFunction(predicate.function, input, 1, signal));
  }

  private async execute(
    step: WorkflowStep,
    key: string,
    input: unknown,
    attempt: number,
    signal: AbortSignal,
  ): Promise<unknown> {
    const { emit } = this.options;
    if (step.agent !== undefined || step.team !== undefined) {
      const response =
        step.agent !== undefined
          ? await this.options.executors.agent(step.agent, asText(input), this.memberScope(step, signal))
          : await this.options.executors.team(step.team as string, asText(input), this.memberScope(step, signal));
      if (signal.reason === 'timeout') throw new StepTimeout(step.name, step.timeout_ms ?? 0);
      if (response.status !== 'completed') throw new Error(response.error ?? `Step ${step.name} ${response.status}`);
      return response.content;
    }
    if (step.function !== undefined) return this.callFunction(step.function, input, attempt, signal);
    if (step.parallel) {
      emit({
        event: 'ParallelExecutionStarted',
        step_name: step.name,
        step_key: key,
        step_count: step.parallel.length,
      });
      const settled = await Promise.allSettled(
        step.parallel.map((child) => this.runStep(child, input, `${key}/`, signal)),
      );
      const failed = settled.find((result) => result.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
      const output: Record<string, unknown> = {};
      step.parallel.forEach((child, index) => {
        output[child.name] = (settled[index] as PromiseFulfilledResult<unknown>).value;
      });
      emit({ event: 'ParallelExecutionCompleted', step_name: step.name, step_key: key });
      return output;
    }
    if (step.condition) {
      const result = await this.test(step.condition.when, input, signal);
      emit({ event: 'ConditionExecutionStarted', step_name: step.name, step_key: key, condition_result: result });
      const branch = result ? step.condition.steps : (step.condition.else ?? []);
      const output = await this.runSequence(branch, input, `${key}/`, signal);
      emit({ event: 'ConditionExecutionCompleted', step_name: step.name, step_key: key, condition_result: result });
      return output;
    }
    if (step.loop) {
      const { max_iterations: maxIterations, until } = step.loop;
      emit({ event: 'LoopExecutionStarted', step_name: step.name, step_key: key, max_iterations: maxIterations });
      let current = input;
      let iterations = 0;
      for (let iteration = 1; iteration <= maxIterations; iteration++) {
        iterations = iteration;
        emit({ event: 'LoopIterationStarted', step_name: step.name, step_key: key, iteration });
        current = await this.runSequence(step.loop.steps, current, `${key}#${iteration}/`, signal);
        const done = until !== undefined && (await this.test(until, current, signal));
        emit({ event: 'LoopIterationCompleted', step_name: step.name, step_key: key, iteration, until_met: done });
        if (done) break;
      }
      emit({ event: 'LoopExecutionCompleted', step_name: step.name, step_key: key, iterations });
      return current;
    }
    if (step.router) {
      const { selector, routes } = step.router;
      let choice: string;
      if ('function' in selector) {
        choice = asText(await this.callFunction(selector.function, input, attempt, signal)).trim();
      } else {
        const answer = await this.options.executors.agent(
          selector.agent,
          `${asText(input)}\n\nAnswer with exactly one of: ${Object.keys(routes).join(', ')}`,
          this.memberScope(step, signal),
        );
        if (answer.status !== 'completed') throw new Error(answer.error ?? 'Router selector failed');
        choice = answer.content.trim();
      }
      const route =
        Object.keys(routes).find((name) => name.toLowerCase() === choice.toLowerCase()) ??
        Object.keys(routes).find((name) => choice.toLowerCase().includes(name.toLowerCase())) ??
        step.router.default;
      if (route === undefined)
        throw new StepFailure(step.name, `Router ${step.name}: no route named ${JSON.stringify(choice)}`);
      emit({ event: 'RouterExecutionStarted', step_name: step.name, step_key: key, selected_route: route });
      const output = await this.runSequence(routes[route] ?? [], input, `${key}/`, signal);
      emit({ event: 'RouterExecutionCompleted', step_name: step.name, step_key: key, selected_route: route });
      return output;
    }
    throw new StepFailure(step.name, `Step ${step.name} has no kind`);
  }
}
