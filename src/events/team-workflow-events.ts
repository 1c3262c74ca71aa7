/**
 * Team and workflow event names (research/agno.md §2.3). A team's leader speaks in `Team…` events;
 * its members' agent events are interleaved unchanged, marked with `role: "member"`, their `agent_id`
 * and the `parent_run_id` of the run that called them. Workflows add `Workflow…` and `Step…` events
 * and the structural events of loops, parallel groups, conditions and routers.
 * @module
 */

/** Events of a team run (the leader's side). */
export const TEAM_EVENT_NAMES = [
  'TeamRunStarted',
  'TeamModelRequestStarted',
  'TeamRunContent',
  'TeamToolCallStarted',
  'TeamToolCallCompleted',
  'TeamToolCallError',
  'TeamModelRequestCompleted',
  'TeamRunContentCompleted',
  'TeamRunPaused',
  'TeamRunContinued',
  'TeamRunCancelled',
  'TeamRunError',
  'TeamRunCompleted',
] as const;

/** Events of a workflow run. */
export const WORKFLOW_EVENT_NAMES = [
  'WorkflowStarted',
  'WorkflowResumed',
  'WorkflowPaused',
  'WorkflowContinued',
  'WorkflowCancelled',
  'WorkflowError',
  'WorkflowCompleted',
  'StepStarted',
  'StepRetry',
  'StepError',
  'StepSkipped',
  'StepCompleted',
  'StepPaused',
  'StepContinued',
  'ParallelExecutionStarted',
  'ParallelExecutionCompleted',
  'ConditionExecutionStarted',
  'ConditionExecutionCompleted',
  'LoopExecutionStarted',
  'LoopIterationStarted',
  'LoopIterationCompleted',
  'LoopExecutionCompleted',
  'RouterExecutionStarted',
  'RouterExecutionCompleted',
] as const;
