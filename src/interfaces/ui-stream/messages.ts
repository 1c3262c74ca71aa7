/**
 * What agentos reads from `useChat`'s request body (`{id, messages: UIMessage[]}`): the text of the last
 * user message, or the approval answers the user gave on the last assistant message (ai@6
 * `addToolApprovalResponse` marks the tool part `approval-responded`).
 * @module
 */
import { z } from 'zod';
import type { ToolDecisionInput } from '../../runtime/hitl/types.js';

/** One UI message part, loosely: only the fields agentos reads are checked. */
const uiPart = z.object({ type: z.string() }).loose();

/** One UI message. */
export const uiMessage = z
  .object({ id: z.string().optional(), role: z.enum(['system', 'user', 'assistant']), parts: z.array(uiPart) })
  .loose();

/** The body `useChat` posts (`trigger`/`messageId` are accepted and ignored). */
export const chatRequest = z
  .object({
    id: z.string().min(1).max(128).describe('The chat id; agentos uses it as the session id'),
    messages: z.array(uiMessage).min(1),
    user_id: z.string().min(1).max(256).optional(),
  })
  .loose();

export type ChatRequest = z.infer<typeof chatRequest>;
type UiMessage = z.infer<typeof uiMessage>;

/** The text parts of a message, joined. */
function textOf(message: UiMessage): string {
  return message.parts
    .filter((part) => part.type === 'text' && typeof part.text === 'string')
    .map((part) => part.text as string)
    .join('');
}

/** What a chat request asks for: a new run with a message, or answers to a paused run's approvals. */
export type ChatIntent = { kind: 'message'; text: string } | { kind: 'approvals'; decisions: ToolDecisionInput[] };

/** Reads the intent from the last message; undefined when there is nothing to act on. */
export function chatIntentOf(body: ChatRequest): ChatIntent | undefined {
  const last = body.messages[body.messages.length - 1];
  if (!last) return undefined;
  if (last.role === 'assistant') {
    const decisions: ToolDecisionInput[] = [];
    for (const part of last.parts) {
      const approval = part.approval as { id?: unknown; approved?: unknown; reason?: unknown } | undefined;
      if (part.state !== 'approval-responded' || !approval || typeof approval.id !== 'string') continue;
      decisions.push({
        tool_call_id: approval.id,
        confirmed: approval.approved === true,
        ...(typeof approval.reason === 'string' ? { confirmation_note: approval.reason } : {}),
      });
    }
    return decisions.length > 0 ? { kind: 'approvals', decisions } : undefined;
  }
  for (let index = body.messages.length - 1; index >= 0; index--) {
    const message = body.messages[index];
    if (message?.role !== 'user') continue;
    const text = textOf(message);
    return text.trim() === '' ? undefined : { kind: 'message', text };
  }
  return undefined;
}
