import {
  parseJsonEventStream,
  readUIMessageStream,
  type UIMessage,
  type UIMessageChunk,
  uiMessageChunkSchema,
} from 'ai';
import { describe, expect, it } from 'vitest';
import { useFakeUpstreamServer } from '../../../../test/helpers.js';

const MODEL = 'openai:gpt-4o-mini';
const AGENTS = [
  { id: 'helper', model: MODEL, tools: ['calculator'] },
  { id: 'careful', model: MODEL, tools: [{ name: 'calculator', requires_confirmation: true }] },
];

/** Consumes a UI message stream with the AI SDK's own parser and message reader; every chunk must validate. */
async function consume(
  response: Response,
): Promise<{ chunks: UIMessageChunk[]; message: UIMessage | undefined; done: boolean }> {
  const text = await response.text();
  const chunks: UIMessageChunk[] = [];
  const parsed = parseJsonEventStream({
    stream: new Response(text).body as ReadableStream<Uint8Array>,
    schema: uiMessageChunkSchema,
  });
  for await (const result of parsed as unknown as AsyncIterable<{
    success: boolean;
    value?: UIMessageChunk;
    error?: unknown;
  }>) {
    if (!result.success) throw new Error(`invalid chunk: ${String(result.error)}`);
    chunks.push(result.value as UIMessageChunk);
  }
  let message: UIMessage | undefined;
  const errors: unknown[] = [];
  const stream = new ReadableStream<UIMessageChunk>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
  for await (const snapshot of readUIMessageStream({ stream, onError: (error) => errors.push(error) }))
    message = snapshot;
  expect(errors).toEqual([]);
  return { chunks, message, done: text.trimEnd().endsWith('data: [DONE]') };
}

describe('POST /agents/{id}/chat (AI SDK UI message stream v1)', () => {
  const testServer = useFakeUpstreamServer({ config: { agents: AGENTS } });
  const chat = (agent: string, body: unknown) =>
    fetch(`${testServer.server.url}/agents/${agent}/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const userMessage = (text: string) => ({ id: `m-${text.length}`, role: 'user', parts: [{ type: 'text', text }] });

  it('streams text with the v1 header and [DONE]; the chat id is the session id', async () => {
    testServer.fake.script({ text: 'Hello there friend' });
    const response = await chat('helper', {
      id: 'chat-text',
      messages: [userMessage('hi')],
      trigger: 'submit-message',
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-vercel-ai-ui-message-stream')).toBe('v1');
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const { chunks, message, done } = await consume(response);
    expect(done).toBe(true);
    expect(chunks[0]?.type).toBe('start');
    expect(chunks.at(-1)).toMatchObject({ type: 'finish', finishReason: 'stop' });
    expect(
      message?.parts.filter((part) => part.type === 'text').map((part) => (part as { text: string }).text),
    ).toEqual(['Hello there friend']);
    const sessions = await (await fetch(`${testServer.server.url}/sessions/chat-text`)).json();
    expect(sessions).toMatchObject({ session_id: 'chat-text' });
    expect(testServer.fake.modelRequests[0]?.body.messages?.at(-1)).toMatchObject({ role: 'user', content: 'hi' });
  });

  it('streams a tool call with its input and output', async () => {
    testServer.fake.script(
      { toolCalls: [{ id: 'call_t1', name: 'calculator', arguments: { expression: '6*7' } }] },
      { text: 'It is 42.' },
    );
    const { chunks, message } = await consume(
      await chat('helper', { id: 'chat-tool', messages: [userMessage('6*7?')] }),
    );
    expect(chunks).toContainEqual(
      expect.objectContaining({
        type: 'tool-input-available',
        toolCallId: 'call_t1',
        toolName: 'calculator',
        input: { expression: '6*7' },
      }),
    );
    const output = chunks.find((chunk) => chunk.type === 'tool-output-available') as { output: unknown } | undefined;
    expect(JSON.stringify(output?.output)).toContain('42');
    const toolPart = message?.parts.find((part) => part.type === 'tool-calculator') as { state: string } | undefined;
    expect(toolPart?.state).toBe('output-available');
    expect(message?.parts.at(-1)).toMatchObject({ type: 'text', text: 'It is 42.' });
  });

  it('sends tool-approval-request for a paused run, and the answered approval continues it', async () => {
    testServer.fake.script({ toolCalls: [{ id: 'call_a1', name: 'calculator', arguments: { expression: '2+2' } }] });
    const first = await consume(await chat('careful', { id: 'chat-hitl', messages: [userMessage('2+2?')] }));
    expect(first.chunks).toContainEqual({
      type: 'tool-approval-request',
      approvalId: 'call_a1',
      toolCallId: 'call_a1',
    });
    expect(first.chunks.at(-1)).toMatchObject({ type: 'finish', finishReason: 'tool-calls' });
    const part = first.message?.parts.find((candidate) => candidate.type === 'tool-calculator') as
      | ({ state: string; approval: { id: string } } & Record<string, unknown>)
      | undefined;
    expect(part?.state).toBe('approval-requested');
    expect(testServer.fake.modelRequests).toHaveLength(1);

    // What useChat posts after addToolApprovalResponse: the assistant message with the part answered.
    testServer.fake.script({ text: 'Four.' });
    const answered = {
      ...first.message,
      parts: first.message?.parts.map((p) =>
        p === part ? { ...part, state: 'approval-responded', approval: { id: part.approval.id, approved: true } } : p,
      ),
    };
    const second = await consume(await chat('careful', { id: 'chat-hitl', messages: [userMessage('2+2?'), answered] }));
    expect(
      JSON.stringify((second.chunks.find((c) => c.type === 'tool-output-available') as { output: unknown })?.output),
    ).toContain('4');
    expect(second.message?.parts.at(-1)).toMatchObject({ type: 'text', text: 'Four.' });
  });

  it('answers 204 on GET when the chat has no active run, 422 on a body without messages', async () => {
    const idle = await fetch(`${testServer.server.url}/agents/helper/chat/chat-text/stream`);
    expect(idle.status).toBe(204);
    expect((await fetch(`${testServer.server.url}/agents/helper/chat?id=nothing`)).status).toBe(204);
    const bad = await chat('helper', { id: 'x', messages: [] });
    expect(bad.status).toBe(422);
    expect(await bad.json()).toHaveProperty('detail');
    const unknown = await chat('nobody', { id: 'x', messages: [userMessage('hi')] });
    expect(unknown.status).toBe(404);
  });

  it('resumes the active stream of a chat on GET', async () => {
    testServer.fake.script({ text: 'slow words here', chunkDelayMs: 150, firstChunkDelayMs: 200 });
    const liveResponse = await chat('helper', { id: 'chat-resume', messages: [userMessage('go')] });
    const resumed = await fetch(`${testServer.server.url}/agents/helper/chat/chat-resume/stream`);
    expect(resumed.status).toBe(200);
    const [original, replay] = await Promise.all([consume(liveResponse), consume(resumed)]);
    expect(replay.done).toBe(true);
    const textOf = (m: UIMessage | undefined) =>
      m?.parts
        .filter((p) => p.type === 'text')
        .map((p) => (p as { text: string }).text)
        .join('');
    expect(textOf(replay.message)).toBe('slow words here');
    expect(textOf(original.message)).toBe('slow words here');
  });
});
