/**
 * Workflow storage: step checkpoints (every step transition of a workflow run, so a run survives a
 * restart and resumes after its last completed step) and workflow definitions created over the API
 * (iii `POST /api/workflows`). Timestamps are epoch milliseconds.
 * @module
 */
import type { Page, PageRequest } from './types.js';

/** Where a step of a run stands. `running` rows are what a crash leaves behind; they are re-run. */
export type StepCheckpointStatus = 'running' | 'completed' | 'skipped' | 'failed' | 'confirmed' | 'rejected';

/** One step of one workflow run, keyed by its path in the step tree (`research`, `review/loop.2/draft`). */
export interface StepCheckpointRecord {
  runId: string;
  stepKey: string;
  stepName: string;
  status: StepCheckpointStatus;
  /** The step output (JSON). */
  output: unknown;
  /** The run's `session_state` right after the step. */
  state: Record<string, unknown>;
  attempts: number;
  durationMs: number;
  error: string | null;
  /** Order of completion within the run (1, 2, …), for listings such as iii's `results`. */
  seq: number;
  createdAt: number;
  updatedAt: number;
}

export type StepCheckpointWrite = Pick<StepCheckpointRecord, 'stepKey' | 'stepName' | 'status'> &
  Partial<Pick<StepCheckpointRecord, 'output' | 'state' | 'attempts' | 'durationMs' | 'error'>>;

/** A workflow definition stored in the database (created over the API rather than in the config). */
export interface WorkflowDefinitionRecord {
  workspaceId: string;
  workflowId: string;
  name: string;
  description: string | null;
  /** The definition as created (iii JSON steps), kept verbatim. */
  definition: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
}

export type WorkflowDefinitionCreate = Pick<WorkflowDefinitionRecord, 'workspaceId' | 'workflowId' | 'name'> &
  Partial<Pick<WorkflowDefinitionRecord, 'description' | 'definition'>>;

/** Step checkpoints and stored workflow definitions. */
export interface WorkflowStore {
  /**
   * Records a step transition (insert or overwrite of the run's row for `stepKey`); a step written again
   * keeps its first `seq` unless it moves to a new terminal status. The run must exist (foreign key).
   */
  saveStep(runId: string, step: StepCheckpointWrite): Promise<StepCheckpointRecord>;
  /**
   * Inserts a marker row once: `true` for the one caller that inserted it, `false` for every other
   * (an insert that conflicts on the primary key, atomic on SQLite and Postgres alike). Replicas use it
   * to decide which of them takes over an interrupted run. Marker keys start with `__` and are not steps.
   */
  claimStep(runId: string, stepKey: string): Promise<boolean>;
  /** Every checkpoint of a run, in `seq` order (markers of {@link claimStep} included). */
  listSteps(runId: string): Promise<StepCheckpointRecord[]>;
  /** Creates a definition; `ConflictError` when the id exists in the workspace. */
  createDefinition(input: WorkflowDefinitionCreate): Promise<WorkflowDefinitionRecord>;
  getDefinition(workspaceId: string, workflowId: string): Promise<WorkflowDefinitionRecord | null>;
  /** Oldest first. */
  listDefinitions(workspaceId: string, page?: PageRequest): Promise<Page<WorkflowDefinitionRecord>>;
  deleteDefinition(workspaceId: string, workflowId: string): Promise<boolean>;
  /** Tests only. */
  dangerouslyClearAll(): Promise<void>;
}
