/**
 * Config keys of observability (issue 10): `tracing:` (spans stored and optionally exported over
 * OTLP), `pricing:` (USD per million tokens by `provider:model`) and `evals:` (the judge model).
 * Kept apart from `schema.ts` so that file only names them.
 * @module
 */
import { z } from 'zod';

const strictObject = <T extends z.ZodRawShape>(shape: T) => z.strictObject(shape);

/** `tracing:` — on by default; spans go to the store in batches, off the request path. */
export const tracingSchema = strictObject({
  enabled: z.boolean().default(true),
  /** Prompts, replies and tool arguments on spans; off by default (they may hold personal data). */
  capture_content: z.boolean().default(false),
  /**
   * Carry the active span across awaits with AsyncLocalStorage (OTel's context manager), so spans of
   * other libraries nest without passing parents. Off by default: on Node 20 it slows every promise.
   */
  propagate_context: z.boolean().default(false),
  /**
   * Share of traces recorded (head sampling by trace id, OTel's `TraceIdRatioBased` under `ParentBased`): a
   * run's whole trace is kept or left out, with its team and workflow members. 1 records every run.
   */
  sample_rate: z.number().min(0).max(1).default(1),
  /** How long finished spans wait before a batch is written (ms). */
  batch_delay_ms: z.number().int().min(1).max(60_000).default(1000),
  max_batch_size: z.number().int().min(1).max(10_000).default(512),
  /**
   * Finished spans waiting to be written; beyond this the newest are dropped (OTel's batch processor). Above
   * OTel's 2,048 so a write that falls behind under load (it runs at background priority) loses nothing.
   */
  max_queue_size: z.number().int().min(1).max(1_000_000).default(8192),
  /** Also export to an OpenTelemetry collector (OTLP over HTTP/JSON), e.g. `http://127.0.0.1:4318/v1/traces`. */
  otlp: strictObject({
    endpoint: z.url({ protocol: /^https?$/ }),
    headers: z.record(z.string(), z.string()).default({}),
  }).optional(),
}).prefault({});

/** One price: USD per million input and output tokens. */
export const modelPriceSchema = strictObject({
  input_per_million: z.number().min(0),
  output_per_million: z.number().min(0),
});

/** `pricing:` — merged over the built-in table (`observability/pricing.ts`); keys are `provider:model`. */
export const pricingSchema = z.record(z.string().min(1), modelPriceSchema).default({});

/** `evals:` — defaults of `POST /eval-runs` and `agentos eval`. */
export const evalsSchema = strictObject({
  /** Model that judges accuracy and agent_as_judge evals when a request names none (default: the agent's). */
  judge_model: z.string().min(3).optional(),
}).prefault({});

/** Validated `tracing:` block. */
export type TracingConfig = z.output<typeof tracingSchema>;
/** Validated `pricing:` block. */
export type PricingConfig = z.output<typeof pricingSchema>;
/** One validated price. */
export type ModelPrice = z.output<typeof modelPriceSchema>;
