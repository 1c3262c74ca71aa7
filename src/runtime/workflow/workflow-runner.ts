/**
 * Workflow runs: start, resume after a restart (registered with the run manager's recovery, so an
 * interrupted run continues after its last completed step instead of being marked `error`), continue
 * after a confirmation pause, with `Workflow…` and `Step…` events in the run's one sequence.
 *
 * Honest limits: a step that was running when the process died runs again from its start (its model
 * call is repeated); what a code function did outside the state before a crash is not undone.
 * @module
 */
import type { ModelMessage } from 'ai';
import type { AgentConfig } from '../../config/index.js';
import { AgentOsError, NotFoundError } from '../../errors/index.js';
import type { RunRecord } from '../../store/types.js';
import {
  assertMayRunReferences,
  loadComponentVersion,
  stepReferences,
  workflowOfComponent,
} from '../component-definitions.js';
import {
  abortReason,
  type ComponentRunDeps,
  type ExecutionContext,
  type ExecutionResult,
  launchComponentRun,
} from '../component-run.js';
import type { RunHandle } from '../run-manager.js';
import { runMemberAgent } from '../team/member-run.js';
import type { TeamRunner } from '../team/team-runner.js';
import { configWorkflow, storedWorkflow, type WorkflowDefinition } from './definitions.js';
import { type StepExecutors, StepFailure, WorkflowExecution, WorkflowPause } from './engine.js';
import { asText } from './template.js';

/** What a caller asks for. */
export interface StartWorkflowRunRequest {
  workspaceId: string;
  workflowId: string;
  message: string;
  sessionId?: string | undefined;
  userId?: string | null | undefined;
  userPinned?: boolean | undefined;
  /** Who asked, for usage accounting (quotas). */
  principal?: string | undefined;
  /** iii: the agent that answers `agent::*` steps of an API-created workflow. */
  agentId?: string | undefined;
  /** A config version of a workflow component (other workflows have none). */
  version?: number | undefined;
  /**
   * The conversation before `message` (an OpenAI request's earlier turns) and its system text: every
   * agent step gets them as an agent run does, as history and extra instructions (a step's own message
   * is its input).
   */
  history?: ModelMessage[] | undefined;
  extraInstructions?: string | undefined;
  /**
   * Whether the caller may run an agent or team: a workflow component runs only when its caller may run
   * every agent and team its steps name (absent: refused, fail closed).
   */
  mayRun?: ((resource: 'agents' | 'teams', id: string) => boolean) | undefined;
}

/** What a workflow run carries from its request into every agent step (stored in the run's input). */
interface WorkflowConversation {
  history?: ModelMessage[] | undefined;
  instructions?: string | undefined;
}

/** The conversation a run started with, from its stored input. */
function storedConversation(run: RunRecord): WorkflowConversation {
  return ((run.input as { conversation?: WorkflowConversation }).conversation ?? {}) as WorkflowConversation;
}

/** How an execution entered the run. */
type Entry = { kind: 'start' } | { kind: 'resume' } | { kind: 'continue'; stepName: string; confirmed: boolean };

/** Starts, resumes and continues workflow runs. */
export class WorkflowRunner {
  constructor(
    private readonly deps: ComponentRunDeps,
    private readonly teams: TeamRunner,
  ) {}

  /**
   * The workflow of the config, else one created over the API in this workspace, else the workspace's
   * workflow component at `version` (else its current one); `AOS_NOT_FOUND` when none.
   */
  async definition(
    workspaceId: string,
    workflowId: string,
    agentId?: string,
    version?: number,
  ): Promise<WorkflowDefinition> {
    const unversioned = (definition: WorkflowDefinition) => {
      if (version !== undefined) {
        throw new AgentOsError('AOS_BAD_REQUEST', `Workflow ${workflowId} is not a component and has no versions`);
      }
      return definition;
    };
    const configured = configWorkflow(this.deps.config, workflowId);
    if (configured) return unversioned(configured);
    const stored = await this.deps.store.workflows.getDefinition(workspaceId, workflowId);
    if (stored) return unversioned(storedWorkflow(stored, this.deps.config, agentId));
    const component = await loadComponentVersion(this.deps.store, workspaceId, 'workflow', workflowId, version);
    if (!component) throw new NotFoundError('Workflow not found', { workflowId });
    const workflow = workflowOfComponent(component.component, component.config.config);
    return {
      id: workflow.id,
      name: workflow.name ?? workflow.id,
      description: workflow.description,
      steps: workflow.steps,
      source: 'component',
      version: component.config.version,
    };
  }

  /** Creates the run (and its session when new) and starts it off the caller's stack. */
  async start(request: StartWorkflowRunRequest): Promise<RunHandle> {
    const definition = await this.definition(request.workspaceId, request.workflowId, request.agentId, request.version);
    if (definition.source === 'component') {
      assertMayRunReferences(stepReferences(definition.steps), request.mayRun, `workflow ${definition.id}`);
    }
    const conversation: WorkflowConversation = {
      ...(request.history === undefined || request.history.length === 0 ? {} : { history: request.history }),
      ...(request.extraInstructions === undefined ? {} : { instructions: request.extraInstructions }),
    };
    return launchComponentRun(
      this.deps,
      {
        workspaceId: request.workspaceId,
        componentType: 'workflow',
        componentId: definition.id,
        fields: { workflow_id: definition.id, workflow_name: definition.name },
        input: {
          message: request.message,
          source: definition.source,
          ...(request.agentId === undefined ? {} : { agent_id: request.agentId }),
          // Resume and continue run the version the run started with, whatever is current by then.
          ...(definition.version === undefined ? {} : { version: definition.version }),
          ...(Object.keys(conversation).length === 0 ? {} : { conversation }),
        },
        sessionId: request.sessionId,
        userId: request.userId,
        userPinned: request.userPinned,
        principal: request.principal,
      },
      (context) => this.execute(definition, request.message, context, { kind: 'start' }, conversation),
    );
  }

  /**
   * Takes over a run whose process died (the run manager's recovery calls this): the run goes on after
   * its last completed step, in this process. `false` when its workflow no longer exists.
   */
  async resumeInterrupted(run: RunRecord): Promise<boolean> {
    const input = run.input as { message?: string; agent_id?: string; version?: number };
    let definition: WorkflowDefinition;
    try {
      definition = await this.definition(run.workspaceId, run.componentId, input.agent_id, input.version);
    } catch {
      return false;
    }
    const message = input.message ?? '';
    // Of several replicas sweeping at once, only the one that claims this incarnation of the run resumes it;
    // the others report it handled (it is, by the winner) rather than marking it failed.
    const claimed = await this.deps.store.workflows.claimStep(
      run.runId,
      `__takeover/${run.owner ?? 'none'}/${run.heartbeatAt ?? run.updatedAt}`,
    );
    if (!claimed) return true;
    const handle = await launchComponentRun(
      this.deps,
      {
        workspaceId: run.workspaceId,
        componentType: 'workflow',
        componentId: definition.id,
        fields: { workflow_id: definition.id, workflow_name: definition.name },
        input: run.input,
        existing: { run, from: ['pending', 'running'] },
      },
      (context) => this.execute(definition, message, context, { kind: 'resume' }, storedConversation(run)),
    );
    this.deps.logger.warn({ run_id: handle.runId, workflow_id: definition.id }, 'resuming an interrupted workflow run');
    return true;
  }

  /**
   * Continues a paused run: the step that waited is confirmed (it runs) or rejected (it is skipped).
   * `AOS_CONFLICT` when the run is not paused. A workflow component goes on only when `mayRun` (the
   * continuing caller's rights) allows every agent and team its steps name, as at start.
   */
  async continue(run: RunRecord, confirmed: boolean, mayRun?: StartWorkflowRunRequest['mayRun']): Promise<RunHandle> {
    if (run.status !== 'paused')
      throw new AgentOsError('AOS_CONFLICT', `Run ${run.runId} is ${run.status}, not paused`);
    const input = run.input as { message?: string; agent_id?: string; version?: number };
    const definition = await this.definition(run.workspaceId, run.componentId, input.agent_id, input.version);
    if (definition.source === 'component') {
      assertMayRunReferences(stepReferences(definition.steps), mayRun, `workflow ${definition.id}`);
    }
    const paused = run.output as { paused_step_key?: string; paused_step_name?: string };
    if (paused.paused_step_key === undefined) throw new AgentOsError('AOS_CONFLICT', 'The run has no paused step');
    return launchComponentRun(
      this.deps,
      {
        workspaceId: run.workspaceId,
        componentType: 'workflow',
        componentId: definition.id,
        fields: { workflow_id: definition.id, workflow_name: definition.name },
        input: run.input,
        existing: { run, from: ['paused'] },
      },
      async (context) => {
        await this.deps.store.workflows.saveStep(run.runId, {
          stepKey: paused.paused_step_key as string,
          stepName: paused.paused_step_name ?? (paused.paused_step_key as string),
          status: confirmed ? 'confirmed' : 'rejected',
        });
        return this.execute(
          definition,
          input.message ?? '',
          context,
          { kind: 'continue', stepName: paused.paused_step_name ?? '', confirmed },
          storedConversation(run),
        );
      },
    );
  }

  /** Agent steps name config agents, or (in workflow components) database agents of the workspace. */
  private executors(conversation: WorkflowConversation = {}): StepExecutors {
    const context = { history: conversation.history, extraInstructions: conversation.instructions };
    return {
      agent: async (agentId, message, scope) => {
        let agent: AgentConfig | undefined = this.deps.config.agents.find((candidate) => candidate.id === agentId);
        if (!agent) {
          agent = await this.deps.runs.resolveAgent(scope.workspaceId, agentId).catch((error: unknown) => {
            if (error instanceof NotFoundError) return undefined;
            throw error;
          });
        }
        if (!agent) throw new StepFailure(agentId, `Unknown agent ${JSON.stringify(agentId)}`);
        return runMemberAgent(this.deps, scope, agent, message, context);
      },
      team: (teamId, message, scope) => this.teams.runNestedTeam(this.teams.team(teamId), message, scope),
    };
  }

  private async execute(
    definition: WorkflowDefinition,
    message: string,
    context: ExecutionContext,
    entry: Entry,
    conversation: WorkflowConversation = {},
  ): Promise<ExecutionResult> {
    const { store } = this.deps;
    const session = await store.sessions.get(context.workspaceId, context.sessionId);
    const state: Record<string, unknown> = { ...(session?.sessionState ?? {}) };
    const checkpoints = await store.workflows.listSteps(context.runId);
    const execution = new WorkflowExecution({
      config: this.deps.config,
      store: store.workflows,
      executors: this.executors(conversation),
      runId: context.runId,
      workspaceId: context.workspaceId,
      sessionId: context.sessionId,
      userId: context.userId,
      principal: context.principal,
      message,
      state,
      checkpoints,
      emit: context.emit,
      abortSignal: context.abortSignal,
    });
    const completedSteps = checkpoints
      .filter((checkpoint) => checkpoint.status === 'completed' || checkpoint.status === 'skipped')
      .map((checkpoint) => checkpoint.stepKey);
    if (entry.kind === 'start') context.emit({ event: 'WorkflowStarted', content: message });
    else if (entry.kind === 'resume') context.emit({ event: 'WorkflowResumed', completed_steps: completedSteps });
    else {
      context.emit({ event: 'WorkflowContinued' });
      context.emit({ event: 'StepContinued', step_name: entry.stepName, confirmed: entry.confirmed });
    }

    const results = async () =>
      (await store.workflows.listSteps(context.runId))
        .filter((checkpoint) => !checkpoint.stepKey.startsWith('__'))
        .map((checkpoint) => ({
          step_name: checkpoint.stepName,
          step_key: checkpoint.stepKey,
          status: checkpoint.status,
          output: checkpoint.output,
          attempts: checkpoint.attempts,
          duration_ms: checkpoint.durationMs,
          ...(checkpoint.error === null ? {} : { error: checkpoint.error }),
        }));
    const saveState = () => store.sessions.update(context.workspaceId, context.sessionId, { sessionState: state });

    try {
      const output = await execution.run(definition.steps);
      const content = asText(output);
      await saveState();
      context.emit({ event: 'WorkflowCompleted', content, session_state: state });
      return {
        status: 'completed',
        patch: { content, output: { workflow_output: output, step_results: await results(), session_state: state } },
      };
    } catch (error) {
      if (error instanceof WorkflowPause) {
        await saveState();
        context.emit({
          event: 'StepPaused',
          step_name: error.stepName,
          step_key: error.stepKey,
          requires_confirmation: true,
          ...(error.confirmationMessage === undefined ? {} : { confirmation_message: error.confirmationMessage }),
        });
        context.emit({ event: 'WorkflowPaused', paused_step_name: error.stepName, paused_step_key: error.stepKey });
        return {
          status: 'paused',
          patch: {
            output: {
              paused_step_key: error.stepKey,
              paused_step_name: error.stepName,
              step_results: await results(),
              session_state: state,
            },
          },
        };
      }
      if (context.abortSignal.aborted) {
        const reason = abortReason(context.abortSignal);
        if (reason === 'shutdown') {
          // Checkpointed, not failed: the next start of a server resumes the run after its last completed step.
          return { status: 'running', patch: {} };
        }
        context.emit({ event: 'WorkflowCancelled', reason: 'Run cancelled' });
        return { status: 'cancelled', patch: { output: { step_results: await results(), session_state: state } } };
      }
      const text = error instanceof Error ? error.message : String(error);
      await saveState();
      context.emit({
        event: 'WorkflowError',
        content: text,
        error_type: error instanceof StepFailure ? 'StepFailure' : 'Error',
        ...(error instanceof StepFailure ? { step_name: error.stepName } : {}),
      });
      return {
        status: 'error',
        patch: { error: text, output: { step_results: await results(), session_state: state } },
      };
    }
  }
}
