/**
 * Turns an OpenAI `messages` array into what a run takes: the earlier turns as AI SDK messages, the
 * system (and developer) messages as extra instructions, and the last user message as the run's message.
 * @module
 */
import type { AssistantContent, ModelMessage } from 'ai';
import { AgentOsError } from '../../../errors/index.js';
import type { ChatMessage } from './schemas.js';

/** The parts of a run taken from a request's `messages`. */
export interface ConversationInput {
  /** The turns before the last user message. */
  history: ModelMessage[];
  /** The system and developer messages, joined; undefined when there are none. */
  extraInstructions: string | undefined;
  /** The last user message: the run's message ('' when the conversation ends with tool results). */
  message: string;
  /**
   * The conversation ends with `tool` messages answering the model's client-side tool calls: `history`
   * holds every turn and the model continues from it, no new user message is added.
   */
  continuesToolCalls: boolean;
}

function badRequest(message: string): AgentOsError {
  return new AgentOsError('AOS_BAD_REQUEST', message);
}

/** The text of a message's content: a string, or its text parts joined; other parts are refused. */
function textOf(content: ChatMessage['content'], index: number): string {
  if (content === undefined || content === null) return '';
  if (typeof content === 'string') return content;
  return content
    .map((part) => {
      if (part.type !== 'text' || typeof part.text !== 'string') {
        throw badRequest(`messages[${index}]: content parts of type "${part.type}" are not supported (text only)`);
      }
      return part.text;
    })
    .join('\n');
}

function parseArguments(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

/** Splits a request's `messages` into history, extra instructions and the run's message. */
export function toConversation(messages: readonly ChatMessage[]): ConversationInput {
  const instructions: string[] = [];
  const turns: { message: ChatMessage; index: number }[] = [];
  messages.forEach((message, index) => {
    if (message.role === 'system' || message.role === 'developer') {
      const text = textOf(message.content, index);
      if (text !== '') instructions.push(text);
    } else {
      turns.push({ message, index });
    }
  });
  const last = turns.at(-1);
  const continuesToolCalls = last?.message.role === 'tool';
  if (last === undefined || (last.message.role !== 'user' && !continuesToolCalls)) {
    throw badRequest('The last non-system message must have role "user" or "tool" (results of tool_calls)');
  }
  const toolNames = new Map<string, string>();
  const history: ModelMessage[] = [];
  for (const { message, index } of continuesToolCalls ? turns : turns.slice(0, -1)) {
    switch (message.role) {
      case 'user':
        history.push({ role: 'user', content: textOf(message.content, index) });
        break;
      case 'assistant': {
        const text = textOf(message.content, index);
        const calls = message.tool_calls ?? [];
        if (calls.length === 0) {
          history.push({ role: 'assistant', content: text });
          break;
        }
        const content: Exclude<AssistantContent, string> = text === '' ? [] : [{ type: 'text', text }];
        for (const call of calls) {
          toolNames.set(call.id, call.function.name);
          content.push({
            type: 'tool-call',
            toolCallId: call.id,
            toolName: call.function.name,
            input: parseArguments(call.function.arguments),
          });
        }
        history.push({ role: 'assistant', content });
        break;
      }
      case 'tool': {
        const callId = message.tool_call_id;
        const toolName = callId === undefined ? undefined : toolNames.get(callId);
        if (callId === undefined || toolName === undefined) {
          throw badRequest(`messages[${index}]: tool_call_id must name a tool call of an earlier assistant message`);
        }
        history.push({
          role: 'tool',
          content: [
            {
              type: 'tool-result',
              toolCallId: callId,
              toolName,
              output: { type: 'text', value: textOf(message.content, index) },
            },
          ],
        });
        break;
      }
      default:
        break;
    }
  }
  return {
    history,
    extraInstructions: instructions.length === 0 ? undefined : instructions.join('\n\n'),
    message: continuesToolCalls ? '' : textOf(last.message.content, last.index),
    continuesToolCalls,
  };
}
