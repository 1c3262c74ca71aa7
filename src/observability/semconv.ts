/**
 * Attribute names of the spans agentos writes: the OpenTelemetry GenAI semantic conventions
 * (research/ts-peers.md §9) plus a few `agentos.*` keys that tie a trace to its run and workspace.
 * Written out here rather than imported from the conventions' incubating entry point, whose module
 * is large and whose names still move between releases.
 * @module
 */
import { ATTR_ERROR_TYPE } from '@opentelemetry/semantic-conventions';

/** GenAI semantic-convention attribute keys. */
export const GEN_AI = {
  operationName: 'gen_ai.operation.name',
  providerName: 'gen_ai.provider.name',
  requestModel: 'gen_ai.request.model',
  responseModel: 'gen_ai.response.model',
  responseFinishReasons: 'gen_ai.response.finish_reasons',
  inputTokens: 'gen_ai.usage.input_tokens',
  outputTokens: 'gen_ai.usage.output_tokens',
  conversationId: 'gen_ai.conversation.id',
  agentId: 'gen_ai.agent.id',
  agentName: 'gen_ai.agent.name',
  toolName: 'gen_ai.tool.name',
  toolCallId: 'gen_ai.tool.call.id',
  toolArguments: 'gen_ai.tool.call.arguments',
  toolResult: 'gen_ai.tool.call.result',
  inputMessages: 'gen_ai.input.messages',
  outputMessages: 'gen_ai.output.messages',
  dataSourceId: 'gen_ai.data_source.id',
  embeddingDimensions: 'gen_ai.embeddings.dimension.count',
} as const;

/** `error.type` (stable semantic convention). */
export const ERROR_TYPE = ATTR_ERROR_TYPE;

/** agentos' own keys; the store reads the identity ones off a trace's root span. */
export const AGENTOS = {
  workspaceId: 'agentos.workspace_id',
  runId: 'agentos.run_id',
  spanType: 'agentos.span_type',
  teamId: 'agentos.team_id',
  workflowId: 'agentos.workflow_id',
  userId: 'user.id',
  /** The run's input and output: only with `tracing.capture_content`. */
  input: 'agentos.input',
  output: 'agentos.output',
  costUsd: 'agentos.cost_usd',
  /** Texts one `embeddings` call asked for, and how many of them the cache answered. */
  embeddingInputs: 'agentos.embeddings.inputs',
  embeddingCacheHits: 'agentos.embeddings.cache_hits',
} as const;

/** The `gen_ai.operation.name` values agentos emits. */
export type GenAiOperation = 'invoke_agent' | 'invoke_workflow' | 'chat' | 'execute_tool' | 'embeddings' | 'retrieval';
