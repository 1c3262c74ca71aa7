/**
 * The agent loop: system instructions and session history in, a multi-step model/tool loop over the
 * provider's `doStream` (`model-loop.ts`), typed events out as the run progresses. Cancellation is one
 * AbortSignal, checked between stream chunks and handed to every tool.
 * @module
 */
import type { LanguageModelV3 } from '@ai-sdk/provider';
import { jsonSchema, type ModelMessage, type ToolSet, tool } from 'ai';
import { z } from 'zod';
import type { RunEventInput, RunMetrics, ToolExecution } from '../../events/index.js';
import type { RunObserver } from '../../observability/agent-trace.js';
import type { ToolDefinition, ToolSpanOpener } from '../tools/types.js';
import { assembleSystemPrompt, type PromptSection } from './context.js';
import { createModelLoop } from './model-loop.js';

/** Everything one agent run needs; the run manager assembles it. */
export interface AgentRunInput {
  runId: string;
  sessionId: string;
  /** Handed to tools that read tenant data (knowledge_search). */
  workspaceId?: string | undefined;
  userId: string | null;
  agentName: string;
  instructions?: string | readonly string[] | undefined;
  /** Persona and skill sections of a database agent (see `context.ts`). */
  promptSections?: readonly PromptSection[] | undefined;
  model: LanguageModelV3;
  /** `provider:model`, as the run reports it. */
  modelId: string;
  tools: readonly ToolDefinition[];
  history: readonly ModelMessage[];
  message: string;
  /**
   * The history already ends with the turn to answer (an OpenAI request ending in tool results), so no
   * user message is added.
   */
  messageInHistory?: boolean | undefined;
  /**
   * Tools the caller executes (OpenAI client-side tools): offered to the model without `execute`, so a
   * call to one ends the loop and comes back to the caller as a tool call.
   */
  clientTools?: readonly { name: string; description?: string | undefined; parameters: Record<string, unknown> }[];
  /** AI SDK tool choice for this run. */
  toolChoice?: 'auto' | 'none' | 'required' | { type: 'tool'; toolName: string } | undefined;
  maxSteps: number;
  /** Appended to the system prompt for this run only. */
  extraInstructions?: string | undefined;
  temperature?: number | undefined;
  maxOutputTokens?: number | undefined;
  abortSignal: AbortSignal;
  /**
   * Nobody watches the run live (a blocking request): each model step is one non-streaming call
   * (`doGenerate`), so a step's text arrives as one `RunContent` and its first token with the answer.
   */
  blocking?: boolean | undefined;
  emit(event: RunEventInput): void;
  now?: () => number;
  /** Tracing of this run (`observability/agent-trace.ts`): sees every stream part and wraps tool calls. */
  observer?: RunObserver | undefined;
}

/** How the loop ended and what it produced. */
export interface AgentRunResult {
  /** `paused`: the loop stopped at calls of human-in-the-loop tools (`pending`), none of them executed. */
  status: 'completed' | 'paused' | 'cancelled' | 'error';
  content: string;
  /** The user message and everything the model and tools added, for history and the API. */
  messages: ModelMessage[];
  tools: ToolExecution[];
  metrics: RunMetrics;
  finishReason?: string;
  error?: { message: string; type: string };
  /** With `paused`: the calls awaiting a human (see `runtime/hitl`). */
  pending?: ToolExecution[];
}

function toAiTools(tools: readonly ToolDefinition[], input: AgentRunInput): ToolSet {
  const set: ToolSet = {};
  for (const definition of tools) {
    const schema =
      definition.inputSchema instanceof z.ZodType
        ? definition.inputSchema
        : jsonSchema(definition.inputSchema as Parameters<typeof jsonSchema>[0]);
    if (definition.hitl) {
      // No `execute`: the SDK ends the loop at a call of this tool, unexecuted, and the run pauses.
      set[definition.name] = tool({
        description: definition.description,
        inputSchema: schema as z.ZodType<Record<string, unknown>>,
      });
      continue;
    }
    set[definition.name] = tool({
      description: definition.description,
      inputSchema: schema as z.ZodType<Record<string, unknown>>,
      execute: (args: Record<string, unknown>, options) => {
        const call = (tracing?: { withSpan: ToolSpanOpener }) =>
          definition.execute(args, {
            ...tracing,
            abortSignal: options.abortSignal ?? input.abortSignal,
            toolCallId: options.toolCallId,
            runId: input.runId,
            sessionId: input.sessionId,
            userId: input.userId,
            ...(input.workspaceId === undefined ? {} : { workspaceId: input.workspaceId }),
          });
        return input.observer ? input.observer.wrapTool(definition.name, options.toolCallId, args, call) : call();
      },
    });
  }
  return set;
}

function resultText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function systemPrompt(input: AgentRunInput): string {
  return assembleSystemPrompt({
    agentName: input.agentName,
    instructions: input.instructions,
    promptSections: input.promptSections,
    extraInstructions: input.extraInstructions,
  }).systemPrompt;
}

function clientToolSet(input: AgentRunInput): ToolSet {
  const set: ToolSet = {};
  for (const definition of input.clientTools ?? []) {
    set[definition.name] = tool({
      ...(definition.description === undefined ? {} : { description: definition.description }),
      inputSchema: jsonSchema(definition.parameters as Parameters<typeof jsonSchema>[0]),
    });
  }
  return set;
}

/** Runs the agent loop to its end; never throws for model or tool failures (they come back as `error`). */
export async function runAgent(input: AgentRunInput): Promise<AgentRunResult> {
  const now = input.now ?? (() => performance.now());
  const started = now();
  const [provider] = input.modelId.split(':');
  const userMessage: ModelMessage = { role: 'user', content: input.message };
  const added: ModelMessage[] = input.messageInHistory ? [] : [userMessage];
  // Made at the first tool call: most runs call none, and an open streaming run should hold little (issue 4).
  let tools: Map<string, { execution: ToolExecution; startedAt: number }> | undefined;
  const executions = () => Array.from(tools?.values() ?? [], (call) => call.execution);
  let content = '';
  let firstTokenAt: number | undefined;
  let stepStarted = started;
  // `start-step` comes only with the first chunk of the response, so the request time is taken in
  // `onStepRequest`, which runs just before each model call.
  let stepRequestedAt: number | undefined;
  let stepFirstTokenAt: number | undefined;
  let inputTokens = 0;
  let outputTokens = 0;
  let finishReason: string | undefined;
  let failure: { message: string; type: string } | undefined;
  let aborted = false;

  const metrics = (): RunMetrics => ({
    input_tokens: inputTokens,
    output_tokens: outputTokens,
    total_tokens: inputTokens + outputTokens,
    time: Math.round(now() - started) / 1000,
    ...(firstTokenAt === undefined ? {} : { time_to_first_token: Math.round(firstTokenAt - started) / 1000 }),
  });

  const loop = createModelLoop({
    model: input.model,
    system: systemPrompt(input),
    messages: [...input.history, ...added],
    tools: { ...toAiTools(input.tools, input), ...clientToolSet(input) },
    ...(input.toolChoice === undefined ? {} : { toolChoice: input.toolChoice }),
    maxSteps: input.maxSteps,
    generate: input.blocking,
    onStepRequest: () => {
      stepRequestedAt = now();
      input.observer?.onModelRequest?.();
    },
    abortSignal: input.abortSignal,
    maxRetries: 1,
    ...(input.temperature === undefined ? {} : { temperature: input.temperature }),
    ...(input.maxOutputTokens === undefined ? {} : { maxOutputTokens: input.maxOutputTokens }),
  });

  try {
    for await (const part of loop.parts) {
      input.observer?.onPart(part);
      switch (part.type) {
        case 'start-step':
          stepStarted = stepRequestedAt ?? now();
          stepRequestedAt = undefined;
          stepFirstTokenAt = undefined;
          input.emit({ event: 'ModelRequestStarted', model: input.modelId, model_provider: provider });
          break;
        case 'text-delta':
          if (part.text === '') break;
          firstTokenAt ??= now();
          stepFirstTokenAt ??= now();
          content += part.text;
          input.emit({ event: 'RunContent', content: part.text, content_type: 'str' });
          break;
        case 'tool-call': {
          const execution: ToolExecution = {
            tool_call_id: part.toolCallId,
            tool_name: part.toolName,
            tool_args: (part.input ?? {}) as Record<string, unknown>,
            created_at: new Date().toISOString(),
          };
          tools ??= new Map();
          tools.set(part.toolCallId, { execution, startedAt: now() });
          input.emit({ event: 'ToolCallStarted', tool: execution });
          break;
        }
        case 'tool-result': {
          const call = tools?.get(part.toolCallId);
          if (!call) break;
          const { execution } = call;
          execution.result = resultText(part.output);
          execution.metrics = { time: Math.round(now() - call.startedAt) / 1000 };
          input.emit({ event: 'ToolCallCompleted', tool: execution, content: execution.result });
          break;
        }
        case 'tool-error': {
          const call = tools?.get(part.toolCallId);
          if (!call) break;
          const { execution } = call;
          execution.tool_call_error = true;
          execution.result = errorMessage(part.error);
          execution.metrics = { time: Math.round(now() - call.startedAt) / 1000 };
          input.emit({ event: 'ToolCallError', tool: execution, error: execution.result });
          break;
        }
        case 'finish-step': {
          const stepInput = part.usage.inputTokens ?? 0;
          const stepOutput = part.usage.outputTokens ?? 0;
          inputTokens += stepInput;
          outputTokens += stepOutput;
          finishReason = part.finishReason;
          input.emit({
            event: 'ModelRequestCompleted',
            model: input.modelId,
            model_provider: provider,
            input_tokens: stepInput,
            output_tokens: stepOutput,
            total_tokens: stepInput + stepOutput,
            finish_reason: part.finishReason,
            ...(stepFirstTokenAt === undefined
              ? {}
              : { time_to_first_token: Math.round(stepFirstTokenAt - stepStarted) / 1000 }),
          });
          break;
        }
        case 'abort':
          aborted = true;
          break;
        case 'error':
          failure = { message: errorMessage(part.error), type: (part.error as Error)?.name ?? 'Error' };
          break;
        default:
          break;
      }
    }
  } catch (error) {
    if (input.abortSignal.aborted) aborted = true;
    else failure = { message: errorMessage(error), type: (error as Error)?.name ?? 'Error' };
  }
  if (input.abortSignal.aborted) aborted = true;

  const responseMessages: ModelMessage[] = aborted || failure ? [] : loop.responseMessages;
  const gated = new Set(input.tools.filter((definition) => definition.hitl).map((definition) => definition.name));
  const pending =
    aborted || failure
      ? []
      : executions().filter(
          (execution) => gated.has(execution.tool_name) && execution.result === undefined && !execution.tool_call_error,
        );
  // A pause ends the stream with RunPaused (Agno), not with the content's completion.
  if (!aborted && !failure && pending.length === 0) input.emit({ event: 'RunContentCompleted' });

  const messages: ModelMessage[] =
    responseMessages.length > 0
      ? [...added, ...responseMessages]
      : [...added, ...(content === '' ? [] : [{ role: 'assistant' as const, content }])];
  return {
    status: aborted ? 'cancelled' : failure ? 'error' : pending.length > 0 ? 'paused' : 'completed',
    content,
    messages,
    tools: executions(),
    metrics: metrics(),
    ...(finishReason === undefined ? {} : { finishReason }),
    ...(failure ? { error: failure } : {}),
    ...(pending.length > 0 ? { pending } : {}),
  };
}
