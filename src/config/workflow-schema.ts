/**
 * Workflow steps as a config (YAML, JSON or `defineConfig`) writes them: one kind per step (`agent`, `team`,
 * `function`, `parallel`, `condition`, `loop`, `router`), nested freely, each with its own input template,
 * timeout, retries and error policy. Code functions (`functions:` of a `.ts` config) are named by steps,
 * conditions, loop exits and routers. The runtime is `runtime/workflow/`.
 * @module
 */
import { z } from 'zod';

// The id pattern of `schema.ts`, repeated here because that module imports this one.
const ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;
const idString = z.string().regex(ID, { error: 'invalid id' });

/** What a code function receives: the step input, the run's message, shared state and earlier outputs. */
export interface WorkflowFunctionContext {
  /** The previous step's output (or the rendered `input` template). */
  input: unknown;
  /** The message the workflow run started with. */
  message: string;
  /** The run's shared `session_state`; functions may change it, the change is checkpointed with the step. */
  state: Record<string, unknown>;
  /** Outputs of the steps completed so far, by step name. */
  steps: Record<string, unknown>;
  /** 1 on the first attempt, then 2, 3, … on retries. */
  attempt: number;
  /** Aborted when the run is cancelled or the step times out. */
  abortSignal: AbortSignal;
}

/** A code step, condition, loop exit test or router: its return value is the step output, the test or the route. */
export type WorkflowFunction = (context: WorkflowFunctionContext) => unknown;

/**
 * A test on the current input: `contains` / `equals` compare the text (case-insensitive for `contains`, as iii),
 * `function` calls a code function and takes its truthiness.
 */
export type WorkflowPredicate = { contains: string } | { equals: string } | { function: string };

/** What an error policy does once a step failed (timeouts included) after its retries. */
export const STEP_ERROR_POLICIES = ['fail', 'skip', 'retry'] as const;

/** One workflow step after validation. Exactly one of the kind keys is set. */
export interface WorkflowStep {
  name: string;
  description?: string | undefined;
  agent?: string | undefined;
  team?: string | undefined;
  function?: string | undefined;
  parallel?: WorkflowStep[] | undefined;
  condition?: { when: WorkflowPredicate; steps: WorkflowStep[]; else?: WorkflowStep[] | undefined } | undefined;
  loop?: { steps: WorkflowStep[]; max_iterations: number; until?: WorkflowPredicate | undefined } | undefined;
  router?:
    | {
        /** Picks the route: a code function, or an agent whose answer names it. */
        selector: { function: string } | { agent: string };
        routes: Record<string, WorkflowStep[]>;
        default?: string | undefined;
      }
    | undefined;
  /** A template rendered as the step input: `{{input}}`, `{{message}}`, `{{steps.<name>}}`, `{{state.<key>}}`, `{{<key>}}`. */
  input?: string | undefined;
  /** Also store the output under this `session_state` key (iii `outputVar`). */
  output_var?: string | undefined;
  /** One attempt may take this long; then it fails with a timeout (and may be retried). */
  timeout_ms?: number | undefined;
  /** Attempts after the first; `on_error: retry` defaults it to 3. */
  max_retries?: number | undefined;
  /** Delay before the first retry, doubled before each later one. */
  retry_backoff_ms: number;
  on_error: (typeof STEP_ERROR_POLICIES)[number];
  /** Pause the run before this step until a caller continues it (Agno step confirmation). */
  requires_confirmation?: boolean | undefined;
  confirmation_message?: string | undefined;
}

/** A step as written, before defaults. */
export type WorkflowStepInput = Omit<
  WorkflowStep,
  'retry_backoff_ms' | 'on_error' | 'parallel' | 'condition' | 'loop' | 'router'
> & {
  retry_backoff_ms?: number | undefined;
  on_error?: (typeof STEP_ERROR_POLICIES)[number] | undefined;
  parallel?: WorkflowStepInput[] | undefined;
  condition?:
    | { when: WorkflowPredicate; steps: WorkflowStepInput[]; else?: WorkflowStepInput[] | undefined }
    | undefined;
  loop?: { steps: WorkflowStepInput[]; max_iterations?: number | undefined; until?: WorkflowPredicate | undefined };
  router?:
    | {
        selector: { function: string } | { agent: string };
        routes: Record<string, WorkflowStepInput[]>;
        default?: string | undefined;
      }
    | undefined;
};

const KINDS = ['agent', 'team', 'function', 'parallel', 'condition', 'loop', 'router'] as const;

/** The kind of a validated step. */
export type WorkflowStepKind = (typeof KINDS)[number];

/** Which kind a step is (validation guarantees exactly one). */
export function stepKind(step: WorkflowStep): WorkflowStepKind {
  return KINDS.find((kind) => step[kind] !== undefined) ?? 'agent';
}

const predicateSchema: z.ZodType<WorkflowPredicate, WorkflowPredicate> = z.union([
  z.strictObject({ contains: z.string() }),
  z.strictObject({ equals: z.string() }),
  z.strictObject({ function: z.string().min(1) }),
]);

const stepList = (): z.ZodType<WorkflowStep[], WorkflowStepInput[]> => z.array(workflowStepSchema).min(1);

/** One workflow step, recursively. */
export const workflowStepSchema: z.ZodType<WorkflowStep, WorkflowStepInput> = z.lazy(() =>
  z
    .strictObject({
      name: z.string().min(1).max(128),
      description: z.string().optional(),
      agent: idString.optional(),
      team: idString.optional(),
      function: z.string().min(1).optional(),
      parallel: stepList().optional(),
      condition: z.strictObject({ when: predicateSchema, steps: stepList(), else: stepList().optional() }).optional(),
      loop: z
        .strictObject({
          steps: stepList(),
          max_iterations: z.number().int().min(1).max(1000).default(10),
          until: predicateSchema.optional(),
        })
        .optional(),
      router: z
        .strictObject({
          selector: z.union([z.strictObject({ function: z.string().min(1) }), z.strictObject({ agent: idString })]),
          routes: z.record(z.string().min(1), stepList()),
          default: z.string().optional(),
        })
        .optional(),
      input: z.string().optional(),
      output_var: z.string().min(1).optional(),
      timeout_ms: z.number().int().min(1).max(86_400_000).optional(),
      max_retries: z.number().int().min(0).max(20).optional(),
      retry_backoff_ms: z.number().int().min(0).max(600_000).default(200),
      on_error: z.enum(STEP_ERROR_POLICIES).default('fail'),
      requires_confirmation: z.boolean().optional(),
      confirmation_message: z.string().optional(),
    })
    .superRefine((step, context) => {
      const kinds = KINDS.filter((kind) => step[kind] !== undefined);
      if (kinds.length !== 1) {
        context.addIssue({
          code: 'custom',
          message: `set exactly one of ${KINDS.join(', ')}${kinds.length > 1 ? ` (found ${kinds.join(', ')})` : ''}`,
        });
      }
      const router = step.router;
      if (router?.default !== undefined && !(router.default in router.routes)) {
        context.addIssue({ code: 'custom', path: ['router', 'default'], message: 'default names no route' });
      }
    }),
);

/** `functions:` of a config: code functions by name (only a `.ts` config or the library can pass them). */
export const workflowFunctionsSchema = z
  .record(
    z.string().min(1),
    z.custom<WorkflowFunction>((value) => typeof value === 'function', { error: 'expected a function' }),
  )
  .default({});

type Report = (path: PropertyKey[], message: string) => void;

/** Names known to a workflow's steps: agents, teams and code functions. */
export interface WorkflowReferences {
  agents: ReadonlySet<string>;
  teams: ReadonlySet<string>;
  functions: ReadonlySet<string>;
}

/**
 * Checks the references of a step tree (agents, teams, functions) and that step names are unique in the whole
 * workflow: checkpoints and step events are keyed by name.
 */
export function checkWorkflowSteps(
  steps: readonly WorkflowStep[],
  path: PropertyKey[],
  references: WorkflowReferences,
  report: Report,
  names: Set<string> = new Set(),
): void {
  const checkFunction = (name: string, at: PropertyKey[]) => {
    if (!references.functions.has(name)) report(at, `unknown function ${JSON.stringify(name)}`);
  };
  const checkPredicate = (predicate: WorkflowPredicate | undefined, at: PropertyKey[]) => {
    if (predicate && 'function' in predicate) checkFunction(predicate.function, [...at, 'function']);
  };
  steps.forEach((step, index) => {
    const at = [...path, index];
    if (names.has(step.name)) report([...at, 'name'], `duplicate step name ${JSON.stringify(step.name)}`);
    names.add(step.name);
    if (step.agent !== undefined && !references.agents.has(step.agent)) {
      report([...at, 'agent'], `unknown agent ${JSON.stringify(step.agent)}`);
    }
    if (step.team !== undefined && !references.teams.has(step.team)) {
      report([...at, 'team'], `unknown team ${JSON.stringify(step.team)}`);
    }
    if (step.function !== undefined) checkFunction(step.function, [...at, 'function']);
    if (step.parallel) checkWorkflowSteps(step.parallel, [...at, 'parallel'], references, report, names);
    if (step.condition) {
      checkPredicate(step.condition.when, [...at, 'condition', 'when']);
      checkWorkflowSteps(step.condition.steps, [...at, 'condition', 'steps'], references, report, names);
      if (step.condition.else) {
        checkWorkflowSteps(step.condition.else, [...at, 'condition', 'else'], references, report, names);
      }
    }
    if (step.loop) {
      checkPredicate(step.loop.until, [...at, 'loop', 'until']);
      checkWorkflowSteps(step.loop.steps, [...at, 'loop', 'steps'], references, report, names);
    }
    if (step.router) {
      const selector = step.router.selector;
      if ('function' in selector) checkFunction(selector.function, [...at, 'router', 'selector', 'function']);
      else if (!references.agents.has(selector.agent)) {
        report([...at, 'router', 'selector', 'agent'], `unknown agent ${JSON.stringify(selector.agent)}`);
      }
      for (const [route, routeSteps] of Object.entries(step.router.routes)) {
        checkWorkflowSteps(routeSteps, [...at, 'router', 'routes', route], references, report, names);
      }
    }
  });
}
