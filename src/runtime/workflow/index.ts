/**
 * Builds the team and workflow runners over one run manager and registers workflow recovery, so the
 * run manager's start-up (and lease) sweep resumes interrupted workflow runs instead of failing them.
 * @module
 */
import type { ComponentRunDeps } from '../component-run.js';
import { TeamRunner } from '../team/team-runner.js';
import { WorkflowRunner } from './workflow-runner.js';

export { TeamRunner } from '../team/team-runner.js';
export { WorkflowRunner } from './workflow-runner.js';

/** The runners of composite components. */
export interface CompositeRunners {
  teams: TeamRunner;
  workflows: WorkflowRunner;
}

/** Creates both runners; call before `runs.recover()` so interrupted workflows are resumed by it. */
export function createCompositeRunners(deps: ComponentRunDeps): CompositeRunners {
  const teams = new TeamRunner(deps);
  const workflows = new WorkflowRunner(deps, teams);
  deps.runs.registerResumer('workflow', (run) => workflows.resumeInterrupted(run));
  return { teams, workflows };
}
