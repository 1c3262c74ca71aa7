/**
 * Conversation messages: what a run stores (AI SDK `ModelMessage`s, provider-neutral, replayed as
 * session history) and the simple `{role, content}` view the run API returns (seed 001).
 * @module
 */
import type { ModelMessage } from 'ai';

/** A message as the run API shows it. */
export interface DisplayMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
  tool_calls?: { id: string; type: 'function'; function: { name: string; arguments: string } }[];
  tool_call_id?: string;
  tool_name?: string;
}

function stringify(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function toolOutputText(output: unknown): string {
  // AI SDK tool outputs are `{ type: 'text' | 'json' | 'error-text' | …, value }`.
  if (output && typeof output === 'object' && 'value' in output) return stringify((output as { value: unknown }).value);
  return stringify(output);
}

/** The `tool` messages that end a history: the results a continuation of tool calls answers. */
export function trailingToolResults(history: readonly ModelMessage[]): ModelMessage[] {
  let start = history.length;
  while (start > 0 && history[start - 1]?.role === 'tool') start -= 1;
  return history.slice(start);
}

/** Renders stored model messages for the API. */
export function toDisplayMessages(messages: readonly ModelMessage[]): DisplayMessage[] {
  const display: DisplayMessage[] = [];
  for (const message of messages) {
    if (message.role === 'system') {
      display.push({ role: 'system', content: message.content });
    } else if (message.role === 'user') {
      const content =
        typeof message.content === 'string'
          ? message.content
          : message.content.map((part) => (part.type === 'text' ? part.text : `[${part.type}]`)).join('');
      display.push({ role: 'user', content });
    } else if (message.role === 'assistant') {
      if (typeof message.content === 'string') {
        display.push({ role: 'assistant', content: message.content });
        continue;
      }
      const text = message.content
        .filter((part) => part.type === 'text')
        .map((part) => part.text)
        .join('');
      const calls = message.content.filter((part) => part.type === 'tool-call');
      display.push({
        role: 'assistant',
        content: text,
        ...(calls.length > 0
          ? {
              tool_calls: calls.map((call) => ({
                id: call.toolCallId,
                type: 'function' as const,
                function: { name: call.toolName, arguments: stringify(call.input) },
              })),
            }
          : {}),
      });
    } else if (message.role === 'tool') {
      for (const part of message.content) {
        if (part.type !== 'tool-result') continue;
        display.push({
          role: 'tool',
          content: toolOutputText(part.output),
          tool_call_id: part.toolCallId,
          tool_name: part.toolName,
        });
      }
    }
  }
  return display;
}
