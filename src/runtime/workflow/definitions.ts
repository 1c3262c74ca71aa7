/**
 * Where workflows come from: the config (YAML/JSON/`defineConfig`, steps validated by
 * `config/workflow-schema.ts`) and the database (iii `POST /api/workflows`, JSON steps in iii's shape,
 * translated here into the same step tree, so one engine runs both).
 * @module
 */
import { z } from 'zod';
import type { AgentOsConfig } from '../../config/index.js';
import type { WorkflowStep, WorkflowStepInput } from '../../config/workflow-schema.js';
import { workflowStepSchema } from '../../config/workflow-schema.js';
import { AgentOsError } from '../../errors/index.js';
import type { WorkflowDefinitionRecord } from '../../store/types.js';

/** A workflow the engine can run. */
export interface WorkflowDefinition {
  id: string;
  name: string;
  description?: string | undefined;
  steps: WorkflowStep[];
  /** `component`: an Agno workflow component at one config version (`runtime/component-definitions.ts`). */
  source: 'config' | 'api' | 'component';
  /** The component config version (components only). */
  version?: number | undefined;
  /** iii definitions: the steps as created, for listings. */
  rawSteps?: Record<string, unknown>[];
}

/** One step as iii writes it (research/iii-agentos.md §6). */
export const iiiStepSchema = z
  .object({
    name: z.string().trim().min(1).max(128),
    functionId: z.string().min(1).max(256).optional(),
    agentId: z.string().min(1).max(128).optional(),
    promptTemplate: z.string().max(100_000).optional(),
    mode: z.enum(['sequential', 'fanout', 'collect', 'conditional', 'loop']).default('sequential'),
    timeoutMs: z.number().int().min(1).max(86_400_000).optional(),
    errorMode: z.enum(['fail', 'skip', 'retry']).default('fail'),
    maxRetries: z.number().int().min(0).max(20).optional(),
    outputVar: z.string().min(1).max(128).optional(),
    condition: z.string().optional(),
    maxIterations: z.number().int().min(1).max(1000).optional(),
    until: z.string().optional(),
  })
  .loose();

/** An iii step after validation. */
export type IiiStep = z.output<typeof iiiStepSchema>;

/** Turns one iii leaf into a step: `agent::*` functions (and none) call an agent, other ids a code function. */
function iiiLeaf(step: IiiStep, name: string, agentId: string | undefined, config: AgentOsConfig): WorkflowStepInput {
  const functionId = step.functionId ?? 'agent::chat';
  const common: WorkflowStepInput = {
    name,
    ...(step.promptTemplate === undefined ? {} : { input: step.promptTemplate }),
    ...(step.timeoutMs === undefined ? {} : { timeout_ms: step.timeoutMs }),
    ...(step.maxRetries === undefined ? {} : { max_retries: step.maxRetries }),
    ...(step.outputVar === undefined ? {} : { output_var: step.outputVar }),
    on_error: step.errorMode,
  };
  if (functionId.startsWith('agent::')) {
    const agent = agentId ?? step.agentId ?? config.default_agent ?? config.agents[0]?.id;
    if (agent === undefined || !config.agents.some((candidate) => candidate.id === agent)) {
      throw new AgentOsError('AOS_BAD_REQUEST', `Step ${name}: unknown agent ${JSON.stringify(agent ?? '')}`);
    }
    return { ...common, agent };
  }
  if (!(functionId in config.functions)) {
    throw new AgentOsError('AOS_BAD_REQUEST', `Step ${name}: unknown function ${JSON.stringify(functionId)}`);
  }
  return { ...common, function: functionId };
}

/**
 * Translates iii steps: consecutive `fanout` steps become one `parallel` group whose output lands in
 * `__fanout`; `collect` reads it (default template `{{__fanout}}`); `conditional` runs its step only when
 * the input contains `condition`; `loop` repeats its step until the output contains `until`.
 * Throws `AOS_BAD_REQUEST` for an unknown agent or function.
 */
export function stepsFromIii(steps: readonly IiiStep[], config: AgentOsConfig, agentId?: string): WorkflowStep[] {
  const out: WorkflowStepInput[] = [];
  let fanout: WorkflowStepInput[] = [];
  const flush = () => {
    if (fanout.length === 0) return;
    out.push({ name: `fanout-${out.length + 1}`, parallel: fanout, output_var: '__fanout' });
    fanout = [];
  };
  for (const step of steps) {
    if (step.mode === 'fanout') {
      fanout.push(iiiLeaf(step, step.name, agentId, config));
      continue;
    }
    flush();
    if (step.mode === 'collect') {
      out.push(iiiLeaf({ ...step, promptTemplate: step.promptTemplate ?? '{{__fanout}}' }, step.name, agentId, config));
    } else if (step.mode === 'conditional') {
      out.push({
        name: `${step.name}.condition`,
        condition: { when: { contains: step.condition ?? '' }, steps: [iiiLeaf(step, step.name, agentId, config)] },
      });
    } else if (step.mode === 'loop') {
      out.push({
        name: `${step.name}.loop`,
        loop: {
          steps: [iiiLeaf(step, step.name, agentId, config)],
          max_iterations: step.maxIterations ?? 10,
          ...(step.until === undefined ? {} : { until: { contains: step.until } }),
        },
      });
    } else {
      out.push(iiiLeaf(step, step.name, agentId, config));
    }
  }
  flush();
  const parsed = z.array(workflowStepSchema).safeParse(out);
  if (!parsed.success) {
    throw new AgentOsError('AOS_BAD_REQUEST', `Invalid workflow steps: ${parsed.error.issues[0]?.message ?? ''}`);
  }
  return parsed.data;
}

/** The config workflow `id`, or undefined. */
export function configWorkflow(config: AgentOsConfig, id: string): WorkflowDefinition | undefined {
  const workflow = config.workflows.find((candidate) => candidate.id === id);
  if (!workflow) return undefined;
  return {
    id: workflow.id,
    name: workflow.name ?? workflow.id,
    description: workflow.description,
    steps: workflow.steps,
    source: 'config',
  };
}

/** A stored iii definition as the engine runs it (agent steps resolved with `agentId` when given). */
export function storedWorkflow(
  record: WorkflowDefinitionRecord,
  config: AgentOsConfig,
  agentId?: string,
): WorkflowDefinition {
  const rawSteps = (record.definition.steps ?? []) as Record<string, unknown>[];
  const steps = z.array(iiiStepSchema).parse(rawSteps);
  return {
    id: record.workflowId,
    name: record.name,
    description: record.description ?? undefined,
    steps: stepsFromIii(steps, config, agentId),
    source: 'api',
    rawSteps,
  };
}
