/**
 * The Kysely implementation of {@link WorkflowStore}, dialect-neutral (SQLite and Postgres). JSON
 * values go through the json codec wrapped in `{value}`, so a bare string output reads back the same
 * from SQLite text and Postgres jsonb; numbers through `Number()` (Postgres returns bigint as text).
 * @module
 */
import type { Kysely, Selectable } from 'kysely';
import { ConflictError } from '../../errors/index.js';
import type { Page, PageRequest } from '../types.js';
import type {
  StepCheckpointRecord,
  StepCheckpointStatus,
  StepCheckpointWrite,
  WorkflowDefinitionCreate,
  WorkflowDefinitionRecord,
  WorkflowStore,
} from '../workflow-types.js';
import { isUniqueViolation } from './constraint-errors.js';
import { decodeJson, encodeJson } from './json-codec.js';
import { DEFAULT_LIMIT, MAX_LIMIT } from './paging.js';

/** Row types of migration 010. */
export interface WorkflowTables {
  workflow_steps: {
    run_id: string;
    step_key: string;
    step_name: string;
    status: string;
    output: unknown;
    state: unknown;
    attempts: number;
    duration_ms: number;
    error: string | null;
    seq: number;
    created_at: number;
    updated_at: number;
  };
  workflow_definitions: {
    workspace_id: string;
    workflow_id: string;
    name: string;
    description: string | null;
    definition: unknown;
    created_at: number;
    updated_at: number;
  };
}

function toStep(row: Selectable<WorkflowTables['workflow_steps']>): StepCheckpointRecord {
  return {
    runId: row.run_id,
    stepKey: row.step_key,
    stepName: row.step_name,
    status: row.status as StepCheckpointStatus,
    output: decodeJson<{ value?: unknown }>(row.output, {}).value ?? null,
    state: decodeJson(row.state, {}),
    attempts: Number(row.attempts),
    durationMs: Number(row.duration_ms),
    error: row.error,
    seq: Number(row.seq),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

function toDefinition(row: Selectable<WorkflowTables['workflow_definitions']>): WorkflowDefinitionRecord {
  return {
    workspaceId: row.workspace_id,
    workflowId: row.workflow_id,
    name: row.name,
    description: row.description,
    definition: decodeJson(row.definition, {}),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

/** Step checkpoints and API-created workflow definitions over Kysely. */
export class KyselyWorkflowStore implements WorkflowStore {
  private readonly db: Kysely<WorkflowTables>;

  constructor(
    db: Kysely<unknown>,
    private readonly now: () => number = Date.now,
  ) {
    this.db = db as Kysely<WorkflowTables>;
  }

  async saveStep(runId: string, step: StepCheckpointWrite): Promise<StepCheckpointRecord> {
    const at = this.now();
    return this.db.transaction().execute(async (transaction) => {
      const existing = await transaction
        .selectFrom('workflow_steps')
        .select(['seq'])
        .where('run_id', '=', runId)
        .where('step_key', '=', step.stepKey)
        .executeTakeFirst();
      const values = {
        step_name: step.stepName,
        status: step.status,
        output: encodeJson({ value: step.output ?? null }),
        state: encodeJson(step.state ?? {}),
        attempts: step.attempts ?? 0,
        duration_ms: Math.round(step.durationMs ?? 0),
        error: step.error ?? null,
        updated_at: at,
      };
      if (existing) {
        await transaction
          .updateTable('workflow_steps')
          .set(values)
          .where('run_id', '=', runId)
          .where('step_key', '=', step.stepKey)
          .execute();
      } else {
        const last = await transaction
          .selectFrom('workflow_steps')
          .select((builder) => builder.fn.max('seq').as('seq'))
          .where('run_id', '=', runId)
          .executeTakeFirst();
        await transaction
          .insertInto('workflow_steps')
          .values({ run_id: runId, step_key: step.stepKey, seq: Number(last?.seq ?? 0) + 1, created_at: at, ...values })
          .execute();
      }
      const row = await transaction
        .selectFrom('workflow_steps')
        .selectAll()
        .where('run_id', '=', runId)
        .where('step_key', '=', step.stepKey)
        .executeTakeFirstOrThrow();
      return toStep(row);
    });
  }

  async claimStep(runId: string, stepKey: string): Promise<boolean> {
    const at = this.now();
    const inserted = await this.db
      .insertInto('workflow_steps')
      .values({
        run_id: runId,
        step_key: stepKey,
        step_name: stepKey,
        status: 'running',
        output: encodeJson({ value: null }),
        state: encodeJson({}),
        attempts: 0,
        duration_ms: 0,
        error: null,
        // Markers are not steps: seq 0, which no step has.
        seq: 0,
        created_at: at,
        updated_at: at,
      })
      .onConflict((conflict) => conflict.columns(['run_id', 'step_key']).doNothing())
      .returning('step_key')
      .executeTakeFirst();
    return inserted !== undefined;
  }

  async listSteps(runId: string): Promise<StepCheckpointRecord[]> {
    const rows = await this.db
      .selectFrom('workflow_steps')
      .selectAll()
      .where('run_id', '=', runId)
      .orderBy('seq', 'asc')
      .execute();
    return rows.map(toStep);
  }

  async createDefinition(input: WorkflowDefinitionCreate): Promise<WorkflowDefinitionRecord> {
    const at = this.now();
    const row = {
      workspace_id: input.workspaceId,
      workflow_id: input.workflowId,
      name: input.name,
      description: input.description ?? null,
      definition: encodeJson(input.definition ?? {}),
      created_at: at,
      updated_at: at,
    };
    try {
      await this.db.insertInto('workflow_definitions').values(row).execute();
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictError(`Workflow ${input.workflowId} already exists`);
      throw error;
    }
    return toDefinition(row);
  }

  async getDefinition(workspaceId: string, workflowId: string): Promise<WorkflowDefinitionRecord | null> {
    const row = await this.db
      .selectFrom('workflow_definitions')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('workflow_id', '=', workflowId)
      .executeTakeFirst();
    return row ? toDefinition(row) : null;
  }

  async listDefinitions(workspaceId: string, page: PageRequest = {}): Promise<Page<WorkflowDefinitionRecord>> {
    const limit = Math.min(Math.max(Math.trunc(page.limit ?? DEFAULT_LIMIT), 1), MAX_LIMIT);
    const offset = (Math.max(Math.trunc(page.page ?? 1), 1) - 1) * limit;
    const [rows, total] = await Promise.all([
      this.db
        .selectFrom('workflow_definitions')
        .selectAll()
        .where('workspace_id', '=', workspaceId)
        .orderBy('created_at', 'asc')
        .orderBy('workflow_id', 'asc')
        .limit(limit)
        .offset(offset)
        .execute(),
      this.db
        .selectFrom('workflow_definitions')
        .select((builder) => builder.fn.countAll().as('count'))
        .where('workspace_id', '=', workspaceId)
        .executeTakeFirst(),
    ]);
    return { items: rows.map(toDefinition), total: Number(total?.count ?? 0) };
  }

  async deleteDefinition(workspaceId: string, workflowId: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('workflow_definitions')
      .where('workspace_id', '=', workspaceId)
      .where('workflow_id', '=', workflowId)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async dangerouslyClearAll(): Promise<void> {
    await this.db.deleteFrom('workflow_steps').execute();
    await this.db.deleteFrom('workflow_definitions').execute();
  }
}
