import type { LanguageModelV3Content, LanguageModelV3StreamPart } from '@ai-sdk/provider';
import { generateText, jsonSchema, type ModelMessage, stepCountIs, streamText, type ToolSet, tool } from 'ai';
import { convertArrayToReadableStream, MockLanguageModelV3 } from 'ai/test';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createModelLoop, type ModelLoopPart } from './model-loop.js';

// The lean loop replaces `streamText`: each case runs the same scripted model through both and
// asserts that the runner sees the same parts, the model the same prompts, and history the same messages.

const usage = (input: number, output: number) => ({
  inputTokens: { total: input, noCache: input, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: output, text: output, reasoning: undefined },
});

function textStep(text: string, id = 't1'): LanguageModelV3StreamPart[] {
  return [
    { type: 'stream-start', warnings: [] },
    { type: 'response-metadata', id: 'resp', modelId: 'mock-model-1', timestamp: new Date(0) },
    { type: 'text-start', id },
    ...text.split(' ').map((word, index) => ({ type: 'text-delta' as const, id, delta: index ? ` ${word}` : word })),
    { type: 'text-end', id },
    { type: 'finish', usage: usage(10, 4), finishReason: { unified: 'stop', raw: 'stop' } },
  ];
}

function toolStep(calls: { id: string; name: string; input: string }[], text?: string): LanguageModelV3StreamPart[] {
  return [
    { type: 'stream-start', warnings: [] },
    ...(text
      ? ([
          { type: 'text-start', id: 'pre' },
          { type: 'text-delta', id: 'pre', delta: text },
          { type: 'text-end', id: 'pre' },
        ] as LanguageModelV3StreamPart[])
      : []),
    ...calls.map(
      (call): LanguageModelV3StreamPart => ({
        type: 'tool-call',
        toolCallId: call.id,
        toolName: call.name,
        input: call.input,
      }),
    ),
    { type: 'finish', usage: usage(20, 6), finishReason: { unified: 'tool-calls', raw: 'tool_calls' } },
  ];
}

function scriptedModel(steps: LanguageModelV3StreamPart[][]): MockLanguageModelV3 {
  let call = 0;
  return new MockLanguageModelV3({
    doStream: async () => {
      const parts = steps[call++];
      if (!parts) throw new Error('no more scripted steps');
      return { stream: convertArrayToReadableStream(parts) };
    },
  });
}

function tools(): ToolSet {
  return {
    add: tool({
      description: 'Adds two numbers',
      inputSchema: z.object({ a: z.number(), b: z.number() }),
      execute: async ({ a, b }: { a: number; b: number }) => ({ sum: a + b }),
    }),
    shout: tool({
      inputSchema: jsonSchema<{ text: string }>({ type: 'object', properties: { text: { type: 'string' } } }),
      execute: async ({ text }: { text: string }) => text.toUpperCase(),
    }),
    fail: tool({
      inputSchema: z.object({}),
      execute: async (): Promise<string> => {
        throw new Error('tool broke');
      },
    }),
    // No `execute`: a human (or the client) answers it, so the loop stops at it.
    approve: tool({ inputSchema: z.object({ what: z.string() }) }),
  };
}

function project(part: ModelLoopPart): Record<string, unknown> | undefined {
  switch (part.type) {
    case 'start-step':
    case 'abort':
      return { type: part.type };
    case 'text-delta':
      return { type: part.type, text: part.text };
    case 'tool-call':
      return {
        type: part.type,
        toolCallId: part.toolCallId,
        toolName: part.toolName,
        input: part.input,
        invalid: (part as { invalid?: boolean }).invalid ?? false,
      };
    case 'tool-result':
      return { type: part.type, toolCallId: part.toolCallId, output: part.output };
    case 'tool-error':
      return {
        type: part.type,
        toolCallId: part.toolCallId,
        error: String((part.error as Error)?.message ?? part.error),
      };
    case 'finish-step':
      return {
        type: part.type,
        finishReason: part.finishReason,
        inputTokens: part.usage.inputTokens,
        outputTokens: part.usage.outputTokens,
        modelId: part.response.modelId,
      };
    case 'error':
      return { type: part.type, error: String((part.error as Error)?.message ?? part.error) };
    default:
      return undefined;
  }
}

interface Case {
  steps: LanguageModelV3StreamPart[][];
  messages?: ModelMessage[];
  maxSteps?: number;
  toolChoice?: 'none' | 'required';
}

async function viaStreamText(scenario: Case) {
  const model = scriptedModel(scenario.steps);
  const result = streamText({
    model,
    system: 'You are a test.',
    messages: scenario.messages ?? [{ role: 'user', content: 'Go.' }],
    tools: tools(),
    ...(scenario.toolChoice ? { toolChoice: scenario.toolChoice } : {}),
    stopWhen: stepCountIs(scenario.maxSteps ?? 5),
    maxRetries: 0,
    onError: () => {},
  });
  const parts: Record<string, unknown>[] = [];
  for await (const part of result.fullStream) {
    const projected = project(part);
    if (projected) parts.push(projected);
  }
  const failed = parts.some((part) => part.type === 'error');
  const messages = failed ? [] : (await result.response).messages;
  return {
    parts,
    messages: JSON.parse(JSON.stringify(messages)),
    prompts: model.doStreamCalls.map((call) => call.prompt),
  };
}

async function viaLoop(scenario: Case) {
  const model = scriptedModel(scenario.steps);
  const loop = createModelLoop({
    model,
    system: 'You are a test.',
    messages: scenario.messages ?? [{ role: 'user', content: 'Go.' }],
    tools: tools(),
    ...(scenario.toolChoice ? { toolChoice: scenario.toolChoice } : {}),
    maxSteps: scenario.maxSteps ?? 5,
    maxRetries: 0,
    abortSignal: new AbortController().signal,
  });
  const parts: Record<string, unknown>[] = [];
  for await (const part of loop.parts) {
    const projected = project(part);
    if (projected) parts.push(projected);
  }
  const failed = parts.some((part) => part.type === 'error');
  const messages = failed ? [] : loop.responseMessages;
  return {
    parts,
    messages: JSON.parse(JSON.stringify(messages)),
    prompts: model.doStreamCalls.map((call) => call.prompt),
  };
}

async function expectSameAsStreamText(scenario: Case) {
  const expected = await viaStreamText(scenario);
  const actual = await viaLoop(scenario);
  expect(actual.parts).toEqual(expected.parts);
  expect(actual.messages).toEqual(expected.messages);
  expect(actual.prompts).toEqual(expected.prompts);
  return actual;
}

describe('createModelLoop matches streamText', () => {
  it('streams one text step', async () => {
    const result = await expectSameAsStreamText({ steps: [textStep('Hello there friend')] });
    expect(result.parts.map((part) => part.type)).toEqual([
      'start-step',
      'text-delta',
      'text-delta',
      'text-delta',
      'finish-step',
    ]);
  });

  it('runs tools after the model step, then continues with their results', async () => {
    const result = await expectSameAsStreamText({
      steps: [
        toolStep(
          [
            { id: 'c1', name: 'add', input: '{"a":2,"b":3}' },
            { id: 'c2', name: 'shout', input: '{"text":"hi"}' },
          ],
          'Let me check.',
        ),
        textStep('The sum is 5'),
      ],
    });
    expect(result.prompts).toHaveLength(2);
    expect(result.messages.map((message: { role: string }) => message.role)).toEqual([
      'assistant',
      'tool',
      'assistant',
    ]);
  });

  it('reports invalid input, unknown tools and failing tools as tool errors and carries on', async () => {
    await expectSameAsStreamText({
      steps: [
        toolStep([
          { id: 'c1', name: 'add', input: '{"a":"two"}' },
          { id: 'c2', name: 'add', input: '{not json' },
          { id: 'c3', name: 'nope', input: '{}' },
          { id: 'c4', name: 'fail', input: '' },
        ]),
        textStep('Sorry'),
      ],
    });
  });

  it('stops at a call of a tool without execute (approval or client side)', async () => {
    const result = await expectSameAsStreamText({
      steps: [toolStep([{ id: 'c1', name: 'approve', input: '{"what":"deploy"}' }])],
    });
    expect(result.prompts).toHaveLength(1);
  });

  it('stops after maxSteps even when tools ran', async () => {
    const result = await expectSameAsStreamText({
      maxSteps: 1,
      steps: [toolStep([{ id: 'c1', name: 'add', input: '{"a":1,"b":1}' }])],
    });
    expect(result.prompts).toHaveLength(1);
  });

  it('passes a provider error chunk through and ends the step with finish reason error', async () => {
    await expectSameAsStreamText({
      steps: [
        [
          { type: 'stream-start', warnings: [] },
          { type: 'text-start', id: 't' },
          { type: 'text-delta', id: 't', delta: 'Half' },
          { type: 'error', error: new Error('upstream went away') },
        ],
      ],
    });
  });

  it('reports a stream that ends without output as an error', async () => {
    await expectSameAsStreamText({ steps: [[{ type: 'stream-start', warnings: [] }]] });
  });

  it('does not execute tools when the step ended for another reason', async () => {
    const step = toolStep([{ id: 'c1', name: 'add', input: '{"a":1,"b":1}' }]);
    step[step.length - 1] = { type: 'finish', usage: usage(1, 1), finishReason: { unified: 'length', raw: 'length' } };
    await expectSameAsStreamText({ steps: [step] });
  });

  it('sends a history with tool calls and results as the SDK does, and rejects malformed messages alike', async () => {
    const history: ModelMessage[] = [
      { role: 'user', content: [{ type: 'text', text: 'Add 1 and 1.' }] },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Adding.' },
          { type: 'tool-call', toolCallId: 'h1', toolName: 'add', input: { a: 1, b: 1 } },
        ],
      },
      {
        role: 'tool',
        content: [
          { type: 'tool-result', toolCallId: 'h1', toolName: 'add', output: { type: 'json', value: { sum: 2 } } },
        ],
      },
      { role: 'assistant', content: 'It is 2.' },
      { role: 'user', content: 'Go.' },
    ];
    await expectSameAsStreamText({ messages: history, steps: [textStep('Done')] });
    const malformed = [{ role: 'user', content: [{ type: 'text' }] }] as unknown as ModelMessage[];
    const result = await expectSameAsStreamText({ messages: malformed, steps: [textStep('Never')] });
    expect(result.parts.map((part) => part.type)).toEqual(['error']);
  });

  it('reports a failed model call as an error', async () => {
    await expectSameAsStreamText({ steps: [] });
  });
});

describe('createModelLoop cancellation', () => {
  it('stops between chunks once the signal aborts, with an abort part', async () => {
    const controller = new AbortController();
    const model = new MockLanguageModelV3({
      doStream: async () => ({
        stream: new ReadableStream<LanguageModelV3StreamPart>({
          start(stream) {
            stream.enqueue({ type: 'stream-start', warnings: [] });
            stream.enqueue({ type: 'text-start', id: 't' });
            stream.enqueue({ type: 'text-delta', id: 't', delta: 'first' });
            // Never finishes: only the abort ends this step.
          },
        }),
      }),
    });
    const loop = createModelLoop({
      model,
      system: 'You are a test.',
      messages: [{ role: 'user', content: 'Go.' }],
      tools: {},
      maxSteps: 1,
      maxRetries: 0,
      abortSignal: controller.signal,
    });
    const seen: string[] = [];
    for await (const part of loop.parts) {
      seen.push(part.type);
      if (part.type === 'text-delta') controller.abort();
    }
    expect(seen).toEqual(['start-step', 'text-delta', 'abort']);
  });
});

/** The content `doGenerate` answers with for the same scripted steps. */
function generated(steps: LanguageModelV3StreamPart[][]) {
  return steps.map((parts) => {
    const content: LanguageModelV3Content[] = [];
    const texts = new Map<string, { type: 'text'; text: string }>();
    let finish: Extract<LanguageModelV3StreamPart, { type: 'finish' }> | undefined;
    for (const part of parts) {
      if (part.type === 'text-start') {
        const text = { type: 'text' as const, text: '' };
        texts.set(part.id, text);
        content.push(text);
      } else if (part.type === 'text-delta') {
        const text = texts.get(part.id);
        if (text) text.text += part.delta;
      } else if (part.type === 'tool-call') content.push(part);
      else if (part.type === 'finish') finish = part;
    }
    if (!finish) throw new Error('a generate step needs a finish');
    return {
      content,
      finishReason: finish.finishReason,
      usage: finish.usage,
      warnings: [],
      response: { id: 'resp', modelId: 'mock-model-1', timestamp: new Date(0) },
    };
  });
}

describe('createModelLoop with generate (blocking runs) matches generateText', () => {
  async function compare(steps: LanguageModelV3StreamPart[][], maxSteps = 5) {
    const reference = new MockLanguageModelV3({ doGenerate: generated(steps) });
    const expected = await generateText({
      model: reference,
      system: 'You are a test.',
      messages: [{ role: 'user', content: 'Go.' }],
      tools: tools(),
      stopWhen: stepCountIs(maxSteps),
      maxRetries: 0,
    });
    const model = new MockLanguageModelV3({ doGenerate: generated(steps) });
    const loop = createModelLoop({
      model,
      system: 'You are a test.',
      messages: [{ role: 'user', content: 'Go.' }],
      tools: tools(),
      maxSteps,
      maxRetries: 0,
      abortSignal: new AbortController().signal,
      generate: true,
    });
    const parts: Record<string, unknown>[] = [];
    for await (const part of loop.parts) {
      const projected = project(part);
      if (projected) parts.push(projected);
    }
    expect(model.doStreamCalls).toHaveLength(0);
    expect(model.doGenerateCalls.map((call) => call.prompt)).toEqual(
      reference.doGenerateCalls.map((call) => call.prompt),
    );
    expect(JSON.parse(JSON.stringify(loop.responseMessages))).toEqual(
      JSON.parse(JSON.stringify(expected.response.messages)),
    );
    expect(parts.filter((part) => part.type === 'finish-step').map((part) => part.finishReason)).toEqual(
      expected.steps.map((step) => step.finishReason),
    );
    expect(parts.filter((part) => part.type === 'text-delta').map((part) => part.text)).toEqual(
      expected.steps.map((step) => step.text).filter((text) => text !== ''),
    );
    return parts;
  }

  it('answers a text step with one delta', async () => {
    const parts = await compare([textStep('Hello there friend')]);
    expect(parts.map((part) => part.type)).toEqual(['start-step', 'text-delta', 'finish-step']);
  });

  it('runs tools and continues, with invalid calls reported as tool errors', async () => {
    await compare([
      toolStep(
        [
          { id: 'c1', name: 'add', input: '{"a":2,"b":3}' },
          { id: 'c2', name: 'add', input: '{"a":"two"}' },
          { id: 'c3', name: 'fail', input: '{}' },
        ],
        'Checking.',
      ),
      textStep('The sum is 5'),
    ]);
  });

  it('stops at a tool without execute', async () => {
    await compare([toolStep([{ id: 'c1', name: 'approve', input: '{"what":"deploy"}' }])]);
  });
});
