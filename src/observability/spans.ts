/**
 * `withSpan`: the one helper runners use to open a span (team and workflow runners included). The
 * span is the active one inside `fn`, so spans opened below it (agent runs of a workflow step, a
 * retrieval inside a tool) nest under it; a thrown error marks it ERROR with `error.type` and
 * propagates unchanged.
 * @module
 */
import {
  type Attributes,
  type Context,
  context,
  type Span,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import type { SpanType } from '../store/observability-types.js';
import { AGENTOS, ERROR_TYPE, GEN_AI, type GenAiOperation } from './semconv.js';

/** What {@link withSpan} opens. */
export interface SpanOptions {
  /** e.g. `invoke_workflow content`, `retrieval docs`. */
  name: string;
  /** GenAI operation; also decides the node type in `/traces/{id}` unless `type` is given. */
  operation?: GenAiOperation;
  /** Node type in the trace tree (`TEAM` for a team's `invoke_agent`). */
  type?: SpanType;
  /** Filed under this workspace; child spans inherit it. */
  workspaceId?: string;
  attributes?: Attributes;
  /** The parent: the context another `withSpan` handed its callback (else the active context, else a new trace). */
  parent?: Context | undefined;
}

/** The attributes a span starts with. */
export function spanAttributes(options: SpanOptions): Attributes {
  return {
    ...(options.operation ? { [GEN_AI.operationName]: options.operation } : {}),
    ...(options.type ? { [AGENTOS.spanType]: options.type } : {}),
    ...(options.workspaceId ? { [AGENTOS.workspaceId]: options.workspaceId } : {}),
    ...options.attributes,
  };
}

/** Marks a span failed with `error.type` (the error's class name) and its message. */
export function recordFailure(span: Span, error: unknown, type?: string): void {
  const name = type ?? (error instanceof Error ? error.name : 'Error');
  span.setAttribute(ERROR_TYPE, name);
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
}

/**
 * Runs `fn` inside a new span. `fn` gets the span and its context: pass the context on as `parent`
 * (nested `withSpan`) or `traceParent` (agent runs started inside) so their spans nest under it.
 * @example
 * await services.observability.withSpan(
 *   { name: `invoke_workflow ${id}`, operation: 'invoke_workflow', workspaceId, attributes: { 'agentos.workflow_id': id } },
 *   async (_span, traceParent) => (await services.runs.start({ workspaceId, agentId, message, traceParent })).done,
 * );
 */
export async function withSpan<T>(
  tracer: Tracer,
  options: SpanOptions,
  fn: (span: Span, spanContext: Context) => Promise<T>,
): Promise<T> {
  const parent = options.parent ?? context.active();
  const span = tracer.startSpan(options.name, { attributes: spanAttributes(options) }, parent);
  const spanContext = trace.setSpan(parent, span);
  try {
    const result = await context.with(spanContext, () => fn(span, spanContext));
    span.setStatus({ code: SpanStatusCode.OK });
    return result;
  } catch (error) {
    recordFailure(span, error);
    throw error;
  } finally {
    span.end();
  }
}
