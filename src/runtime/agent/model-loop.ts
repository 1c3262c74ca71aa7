/**
 * The multi-step model/tool loop over a provider's `LanguageModelV3.doStream`, without the AI SDK's
 * `streamText` web-stream pipeline (about fourteen ReadableStreams and hundreds of closures per run,
 * which dominated the heap of open runs and much of the CPU of short ones). It yields the same parts
 * `streamText().fullStream` does, in the same order and with the same content for what the runner
 * reads (`start-step`, `text-delta`, `tool-call`, `tool-result`, `tool-error`, `finish-step`,
 * `error`, `abort`), and builds the response messages with the SDK's rules (`toResponseMessages`):
 * tools run after the model's `finish` chunk when its finish reason allows, concurrently, results in
 * completion order; the loop continues while every call of a step got an output and the step count
 * is below `maxSteps`.
 * @module
 */
import type {
  LanguageModelV3,
  LanguageModelV3CallOptions,
  LanguageModelV3FinishReason,
  LanguageModelV3GenerateResult,
  LanguageModelV3StreamPart,
} from '@ai-sdk/provider';
import {
  type AssistantContent,
  asSchema,
  InvalidToolInputError,
  JSONParseError,
  type ModelMessage,
  NoOutputGeneratedError,
  NoSuchToolError,
  type TextStreamPart,
  ToolChoiceViolationError,
  type ToolContent,
  type ToolSet,
  TypeValidationError,
} from 'ai';
import {
  asLanguageModelUsage,
  convertToLanguageModelPrompt,
  prepareCallSettings,
  prepareRetries,
  prepareToolsAndToolChoice,
  standardizePrompt,
} from 'ai/internal';
import type { PartReader } from '../../models/chat-completions-parts.js';
import { partReaderOf } from '../../models/chat-completions-stream.js';

/** A part of the loop's output: the subset of the SDK's full-stream parts the runner consumes. */
export type ModelLoopPart = TextStreamPart<ToolSet>;

/** What one loop needs. */
export interface ModelLoopOptions {
  model: LanguageModelV3;
  system: string;
  messages: ModelMessage[];
  tools: ToolSet;
  toolChoice?: 'auto' | 'none' | 'required' | { type: 'tool'; toolName: string } | undefined;
  maxSteps: number;
  abortSignal: AbortSignal;
  maxRetries: number;
  temperature?: number | undefined;
  maxOutputTokens?: number | undefined;
  /** Called just before each model call (the SDK's `prepareStep`). */
  onStepRequest?: () => void;
  /**
   * Nobody watches the run live (a blocking request): each step calls `doGenerate`, one upstream
   * answer instead of a stream, and its text arrives as one delta per text part.
   */
  generate?: boolean | undefined;
}

/** The loop's parts, and its response messages once the parts are consumed. */
export interface ModelLoop {
  parts: AsyncGenerator<ModelLoopPart>;
  /** The messages the model and tools added, valid after `parts` ended without error. */
  responseMessages: ModelMessage[];
}

type ToolCallPart = { type: 'tool-call'; toolCallId: string; toolName: string; input: unknown } & {
  invalid?: boolean;
  error?: unknown;
  providerExecuted?: boolean;
  providerMetadata?: unknown;
};
type ToolOutputPart =
  | { type: 'tool-result'; toolCallId: string; toolName: string; input: unknown; output: unknown }
  | { type: 'tool-error'; toolCallId: string; toolName: string; input: unknown; error: unknown };
type StepContent =
  | { type: 'text' | 'reasoning'; text: string; providerMetadata?: unknown }
  | ToolCallPart
  | ToolOutputPart;

function errorText(error: unknown): string {
  if (error == null) return 'unknown error';
  if (typeof error === 'string') return error;
  if (error instanceof Error) return error.message;
  return JSON.stringify(error);
}

/** Parses and validates a tool call's JSON input (the SDK's `parseToolCall`, without repair). */
async function parseToolCall(
  call: { toolCallId: string; toolName: string; input: string; providerExecuted?: boolean; providerMetadata?: unknown },
  tools: ToolSet,
): Promise<ToolCallPart> {
  const base = {
    type: 'tool-call' as const,
    toolCallId: call.toolCallId,
    toolName: call.toolName,
    ...(call.providerExecuted === undefined ? {} : { providerExecuted: call.providerExecuted }),
    ...(call.providerMetadata === undefined ? {} : { providerMetadata: call.providerMetadata }),
  };
  let raw: unknown = call.input;
  try {
    const tool = tools[call.toolName];
    if (!tool) throw new NoSuchToolError({ toolName: call.toolName, availableTools: Object.keys(tools) });
    if (call.input.trim() === '') raw = {};
    else {
      try {
        raw = JSON.parse(call.input);
      } catch (cause) {
        throw new InvalidToolInputError({
          toolName: call.toolName,
          toolInput: call.input,
          cause: new JSONParseError({ text: call.input, cause }),
        });
      }
    }
    const schema = asSchema(tool.inputSchema);
    const result = schema.validate ? await schema.validate(raw) : { success: true as const, value: raw };
    if (!result.success) {
      throw new InvalidToolInputError({
        toolName: call.toolName,
        toolInput: call.input,
        cause: TypeValidationError.wrap({ value: raw, cause: result.error }),
      });
    }
    return { ...base, input: result.value };
  } catch (error) {
    // Like the SDK: an invalid call keeps its input parsed when it is JSON at all, else the raw text.
    if (raw === call.input) {
      try {
        raw = JSON.parse(call.input);
      } catch {
        // not JSON: the raw text stays
      }
    }
    return { ...base, input: raw, invalid: true, error };
  }
}

/** The SDK's tool output encoding for response messages. */
function toolOutput(part: ToolOutputPart, errorMode: 'text' | 'json') {
  if (part.type === 'tool-error') {
    return errorMode === 'text'
      ? { type: 'error-text' as const, value: errorText(part.error) }
      : { type: 'error-json' as const, value: (part.error ?? null) as never };
  }
  return typeof part.output === 'string'
    ? { type: 'text' as const, value: part.output }
    : { type: 'json' as const, value: (part.output === undefined ? null : part.output) as never };
}

/** One step's content as messages (the SDK's `toResponseMessages`). */
function toResponseMessages(content: readonly StepContent[]): ModelMessage[] {
  const messages: ModelMessage[] = [];
  const order = new Map<string, number>();
  const assistant: Exclude<AssistantContent, string> = [];
  for (const part of content) {
    if (part.type === 'text' || part.type === 'reasoning') {
      if (part.type === 'text' && part.text.length === 0) continue;
      assistant.push({ type: part.type, text: part.text, providerOptions: part.providerMetadata as never });
    } else if (part.type === 'tool-call') {
      if (!order.has(part.toolCallId)) order.set(part.toolCallId, order.size);
      assistant.push({
        type: 'tool-call',
        toolCallId: part.toolCallId,
        toolName: part.toolName,
        input: part.invalid && typeof part.input !== 'object' ? {} : part.input,
        providerExecuted: part.providerExecuted,
        providerOptions: part.providerMetadata as never,
      });
    }
  }
  if (assistant.length > 0) messages.push({ role: 'assistant', content: assistant });
  const results: { part: Extract<ToolContent[number], { type: 'tool-result' }>; index: number }[] = [];
  for (const part of content) {
    if (part.type !== 'tool-result' && part.type !== 'tool-error') continue;
    results.push({
      part: {
        type: 'tool-result',
        toolCallId: part.toolCallId,
        toolName: part.toolName,
        output: toolOutput(part, 'text'),
      },
      index: results.length,
    });
  }
  if (results.length > 0) {
    results.sort((a, b) => {
      const left = order.get(a.part.toolCallId);
      const right = order.get(b.part.toolCallId);
      if (left === undefined && right === undefined) return a.index - b.index;
      if (left === undefined) return 1;
      if (right === undefined) return -1;
      return left - right;
    });
    messages.push({ role: 'tool', content: results.map((entry) => entry.part) });
  }
  return messages;
}

/**
 * Messages whose content is all plain text (a new session's one user message, text-only history)
 * are valid as they are; the SDK's schema validation of every message costs about a quarter of a
 * millisecond before the model call, so it runs only for richer content.
 */
function isPlainConversation(messages: readonly ModelMessage[]): boolean {
  if (messages.length === 0) return false;
  for (const message of messages) {
    if ((message.role !== 'user' && message.role !== 'assistant') || typeof message.content !== 'string') return false;
    if (message.providerOptions !== undefined) return false;
  }
  return true;
}

/** A `doGenerate` answer as the stream parts `doStream` would have sent for it. */
function generatedParts(result: LanguageModelV3GenerateResult): LanguageModelV3StreamPart[] {
  const parts: LanguageModelV3StreamPart[] = [{ type: 'stream-start', warnings: result.warnings }];
  if (result.response) parts.push({ type: 'response-metadata', ...result.response });
  result.content.forEach((part, index) => {
    const id = String(index);
    switch (part.type) {
      case 'text':
      case 'reasoning': {
        const kind = part.type;
        parts.push({ type: `${kind}-start`, id });
        parts.push({ type: `${kind}-delta`, id, delta: part.text });
        parts.push({
          type: `${kind}-end`,
          id,
          ...(part.providerMetadata === undefined ? {} : { providerMetadata: part.providerMetadata }),
        });
        break;
      }
      case 'tool-call':
        parts.push(part);
        break;
      default:
        // Files, sources, provider-executed results and approvals: nothing the loop reads.
        break;
    }
  });
  parts.push({
    type: 'finish',
    usage: result.usage,
    finishReason: result.finishReason,
    ...(result.providerMetadata === undefined ? {} : { providerMetadata: result.providerMetadata }),
  });
  return parts;
}

/** Starts the loop; nothing runs until `parts` is iterated. */
export function createModelLoop(options: ModelLoopOptions): ModelLoop {
  const loop: ModelLoop = { parts: run(), responseMessages: [] };

  async function* run(): AsyncGenerator<ModelLoopPart> {
    const { model, tools, abortSignal } = options;
    let prompt: Awaited<ReturnType<typeof standardizePrompt>>;
    let prepared: Awaited<ReturnType<typeof prepareToolsAndToolChoice>>;
    let settings: ReturnType<typeof prepareCallSettings>;
    let retry: ReturnType<typeof prepareRetries>['retry'];
    try {
      ({ retry } = prepareRetries({ maxRetries: options.maxRetries, abortSignal }));
      settings = prepareCallSettings({
        ...(options.temperature === undefined ? {} : { temperature: options.temperature }),
        ...(options.maxOutputTokens === undefined ? {} : { maxOutputTokens: options.maxOutputTokens }),
      });
      prompt = isPlainConversation(options.messages)
        ? { system: options.system, messages: options.messages }
        : await standardizePrompt({ system: options.system, messages: options.messages });
      prepared = await prepareToolsAndToolChoice({
        tools,
        toolChoice: options.toolChoice,
        activeTools: undefined,
      });
    } catch (error) {
      yield { type: 'error', error };
      return;
    }
    const withholdTools = prepared.toolChoice?.type === 'none';
    const responseMessages = loop.responseMessages;
    for (let step = 0; ; step++) {
      options.onStepRequest?.();
      let reader: PartReader | undefined;
      let generated: LanguageModelV3StreamPart[] = [];
      const stepMessages = [...prompt.messages, ...responseMessages];
      try {
        const promptMessages = await convertToLanguageModelPrompt({
          prompt: { system: prompt.system, messages: stepMessages },
          supportedUrls: await model.supportedUrls,
          download: undefined,
          abortSignal,
        });
        const call: LanguageModelV3CallOptions = {
          ...settings,
          tools: prepared.tools,
          toolChoice: prepared.toolChoice,
          prompt: promptMessages,
          abortSignal,
          includeRawChunks: false,
        };
        if (options.generate) generated = generatedParts(await retry(() => model.doGenerate(call)));
        // The lean `openai:` stream is read from its own queue, without a web stream per call.
        else reader = partReaderOf(await retry(() => model.doStream(call)));
      } catch (error) {
        yield abortSignal.aborted ? { type: 'abort' } : { type: 'error', error };
        return;
      }

      const content: StepContent[] = [];
      // Open text and reasoning parts by id; made at the first (a tool-only step has none).
      let texts: Map<string, StepContent & { type: 'text' | 'reasoning' }> | undefined;
      const calls: ToolCallPart[] = [];
      const toExecute: ToolCallPart[] = [];
      const outputs: ToolOutputPart[] = [];
      const withheld: ToolCallPart[] = [];
      let started = false;
      let output = false;
      let terminal = false;
      let finishReason: string = 'other';
      let rawFinishReason: string | undefined;
      let usage = asLanguageModelUsage({
        inputTokens: { total: undefined, noCache: undefined, cacheRead: undefined, cacheWrite: undefined },
        outputTokens: { total: undefined, text: undefined, reasoning: undefined },
      });
      let providerMetadata: unknown;
      let responseModelId = model.modelId;
      let responseId: string | undefined;
      let responseTimestamp = new Date();
      let generatedIndex = 0;
      try {
        for (;;) {
          if (abortSignal.aborted) {
            reader?.cancel().catch(() => {});
            yield { type: 'abort' };
            return;
          }
          const chunk = reader ? (await reader.read()).value : generated[generatedIndex++];
          if (chunk === undefined) break;
          if (chunk.type === 'stream-start') continue;
          if (!started) {
            started = true;
            yield { type: 'start-step', request: {}, warnings: [] } as ModelLoopPart;
          }
          switch (chunk.type) {
            case 'text-start': {
              const part = { type: 'text' as const, text: '', providerMetadata: chunk.providerMetadata };
              texts ??= new Map();
              texts.set(`text:${chunk.id}`, part);
              content.push(part);
              output = true;
              break;
            }
            case 'text-delta': {
              output = true;
              const part = texts?.get(`text:${chunk.id}`);
              if (part) {
                part.text += chunk.delta;
                if (chunk.providerMetadata != null) part.providerMetadata = chunk.providerMetadata;
              }
              if (chunk.delta.length > 0 || chunk.providerMetadata != null) {
                yield { type: 'text-delta', id: chunk.id, text: chunk.delta } as ModelLoopPart;
              }
              break;
            }
            case 'text-end':
            case 'reasoning-end': {
              const key = `${chunk.type === 'text-end' ? 'text' : 'reasoning'}:${chunk.id}`;
              const part = texts?.get(key);
              if (part && chunk.providerMetadata != null) part.providerMetadata = chunk.providerMetadata;
              texts?.delete(key);
              break;
            }
            case 'reasoning-start': {
              const part = { type: 'reasoning' as const, text: '', providerMetadata: chunk.providerMetadata };
              texts ??= new Map();
              texts.set(`reasoning:${chunk.id}`, part);
              content.push(part);
              output = true;
              break;
            }
            case 'reasoning-delta': {
              output = true;
              const part = texts?.get(`reasoning:${chunk.id}`);
              if (part) {
                part.text += chunk.delta;
                if (chunk.providerMetadata != null) part.providerMetadata = chunk.providerMetadata;
              }
              break;
            }
            case 'tool-call': {
              output = true;
              const call = await parseToolCall(chunk, tools);
              if (withholdTools) {
                withheld.push(call);
                break;
              }
              calls.push(call);
              content.push(call);
              yield { ...call } as ModelLoopPart;
              if (call.invalid) {
                if (!call.providerExecuted) {
                  const failed: ToolOutputPart = {
                    type: 'tool-error',
                    toolCallId: call.toolCallId,
                    toolName: call.toolName,
                    input: call.input,
                    error: errorText(call.error),
                  };
                  outputs.push(failed);
                  content.push(failed);
                  yield failed as ModelLoopPart;
                }
                break;
              }
              if (tools[call.toolName]?.execute && call.providerExecuted !== true) toExecute.push(call);
              break;
            }
            case 'response-metadata':
              if (chunk.id !== undefined) responseId = chunk.id;
              if (chunk.modelId !== undefined) responseModelId = chunk.modelId;
              if (chunk.timestamp !== undefined) responseTimestamp = chunk.timestamp;
              break;
            case 'finish': {
              terminal = true;
              const reason = chunk.finishReason as LanguageModelV3FinishReason;
              usage = asLanguageModelUsage(chunk.usage);
              providerMetadata = chunk.providerMetadata;
              rawFinishReason = reason.raw;
              finishReason = reason.unified;
              if (withheld.length > 0) {
                finishReason = 'error';
                yield {
                  type: 'error',
                  error: new ToolChoiceViolationError({
                    toolChoice: { type: 'none' },
                    finishReason: reason.unified,
                    provider: model.provider,
                    modelId: model.modelId,
                    content: withheld as never,
                  }),
                };
              }
              break;
            }
            case 'error':
              terminal = true;
              finishReason = 'error';
              yield { type: 'error', error: chunk.error };
              break;
            default:
              // tool-input-*, files, sources and raw chunks carry nothing the runner reads.
              if (chunk.type === 'file' || chunk.type === 'source') output = true;
              break;
          }
        }
      } catch (error) {
        yield abortSignal.aborted ? { type: 'abort' } : { type: 'error', error };
        return;
      } finally {
        reader?.releaseLock();
      }

      // Tools run once the model finished its step, as the SDK does, and only for a stop or tool-calls finish.
      if (terminal && (finishReason === 'stop' || finishReason === 'tool-calls') && toExecute.length > 0) {
        const running = new Map<string, Promise<ToolOutputPart>>();
        for (const call of toExecute) {
          const tool = tools[call.toolName];
          const execute = tool?.execute as (input: unknown, options: unknown) => unknown;
          running.set(
            call.toolCallId,
            (async (): Promise<ToolOutputPart> => {
              try {
                const result = await execute(call.input, {
                  toolCallId: call.toolCallId,
                  messages: stepMessages,
                  abortSignal,
                });
                return {
                  type: 'tool-result',
                  toolCallId: call.toolCallId,
                  toolName: call.toolName,
                  input: call.input,
                  output: result,
                };
              } catch (error) {
                return {
                  type: 'tool-error',
                  toolCallId: call.toolCallId,
                  toolName: call.toolName,
                  input: call.input,
                  error,
                };
              }
            })(),
          );
        }
        while (running.size > 0) {
          const done = await Promise.race(running.values());
          running.delete(done.toolCallId);
          outputs.push(done);
          content.push(done);
          yield done as ModelLoopPart;
        }
      }

      if (!terminal && !output) {
        yield {
          type: 'error',
          error: new NoOutputGeneratedError({
            message: 'No output generated. The model stream ended without a finish chunk.',
          }),
        };
        return;
      }
      yield {
        type: 'finish-step',
        finishReason,
        rawFinishReason,
        usage,
        providerMetadata,
        response: { id: responseId ?? '', timestamp: responseTimestamp, modelId: responseModelId },
      } as ModelLoopPart;

      const stepResponse = toResponseMessages(content);
      const clientCalls = calls.filter((call) => call.providerExecuted !== true);
      const continues = clientCalls.length > 0 && outputs.length === clientCalls.length && step + 1 < options.maxSteps;
      responseMessages.push(...stepResponse);
      if (!continues) return;
    }
  }

  return loop;
}
