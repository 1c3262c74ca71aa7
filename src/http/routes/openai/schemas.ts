/**
 * Request and response shapes of the OpenAI-compatible surface (`/v1`, seed 000, CONTRACT.md §3 and §5).
 * Requests are loose: OpenAI clients send many optional fields (`n`, `top_p`, `seed`, …) that agentos
 * accepts and ignores.
 * @module
 */
import { z } from 'zod';

const textPart = z.object({ type: z.literal('text'), text: z.string() }).loose();

/** Any content part; only text parts are understood (others are refused in `messages.ts`). */
const contentPart = z.object({ type: z.string() }).loose();

/** A message's content: a string, an array of parts, or null (an assistant turn with only tool calls). */
export const messageContent = z.union([z.string(), z.array(z.union([textPart, contentPart])), z.null()]);

const toolCall = z
  .object({
    id: z.string(),
    type: z.literal('function').optional(),
    function: z.object({ name: z.string(), arguments: z.string() }).loose(),
  })
  .loose();

/** One message of `messages`. */
export const chatMessage = z
  .object({
    role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']),
    content: messageContent.optional(),
    name: z.string().optional(),
    tool_calls: z.array(toolCall).optional(),
    tool_call_id: z.string().optional(),
  })
  .loose();
export type ChatMessage = z.infer<typeof chatMessage>;

/** A client-side tool: the model may call it, the client runs it and sends a `tool` message back. */
export const clientTool = z
  .object({
    type: z.literal('function'),
    function: z
      .object({
        name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, { error: 'expected a function name of 1-64 [A-Za-z0-9_-]' }),
        description: z.string().max(4096).optional(),
        parameters: z.record(z.string(), z.unknown()).optional(),
      })
      .loose(),
  })
  .loose();
export type ClientTool = z.infer<typeof clientTool>;

/** OpenAI `tool_choice`. */
export const toolChoice = z.union([
  z.enum(['none', 'auto', 'required']),
  z.object({ type: z.literal('function'), function: z.object({ name: z.string() }).loose() }).loose(),
]);

/** `POST /v1/chat/completions`. */
export const chatCompletionRequest = z
  .object({
    model: z.string().min(1).max(256),
    messages: z.array(chatMessage).min(1),
    stream: z.boolean().nullish(),
    stream_options: z.object({ include_usage: z.boolean().optional() }).loose().nullish(),
    temperature: z.number().min(0).max(2).nullish(),
    max_tokens: z.number().int().positive().nullish(),
    max_completion_tokens: z.number().int().positive().nullish(),
    user: z.string().max(256).nullish(),
    tools: z.array(clientTool).max(128).nullish(),
    tool_choice: toolChoice.nullish(),
  })
  .loose();
export type ChatCompletionRequest = z.infer<typeof chatCompletionRequest>;

/** Optional headers of `POST /v1/chat/completions`. */
export const chatCompletionHeaders = z.object({ 'x-session-id': z.string().min(1).max(128).optional() }).loose();

const usage = z.object({
  prompt_tokens: z.number().int(),
  completion_tokens: z.number().int(),
  total_tokens: z.number().int(),
});

/** A non-streamed answer (`object: "chat.completion"`). */
export const chatCompletion = z.object({
  id: z.string(),
  object: z.literal('chat.completion'),
  created: z.number().int(),
  model: z.string(),
  choices: z.array(
    z.object({
      index: z.number().int(),
      message: z.object({
        role: z.literal('assistant'),
        content: z.string().nullable(),
        refusal: z.null(),
        tool_calls: z
          .array(
            z.object({
              id: z.string(),
              type: z.literal('function'),
              function: z.object({ name: z.string(), arguments: z.string() }),
            }),
          )
          .optional(),
      }),
      logprobs: z.null(),
      finish_reason: z.enum(['stop', 'length', 'content_filter', 'tool_calls']),
    }),
  ),
  usage,
  system_fingerprint: z.null(),
});
export type ChatCompletion = z.infer<typeof chatCompletion>;

/** `GET /v1/models`. */
export const modelList = z.object({
  object: z.literal('list'),
  data: z.array(
    z.object({ id: z.string(), object: z.literal('model'), created: z.number().int(), owned_by: z.string() }),
  ),
});
