import type { LanguageModelV3CallOptions, LanguageModelV3StreamPart } from '@ai-sdk/provider';
import { generateText, stepCountIs, streamText, type ToolSet, tool } from 'ai';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createCalculatorTool } from '../../runtime/tools/builtin/calculator.js';
import { createCurrentTimeTool } from '../../runtime/tools/builtin/current-time.js';
import type { ToolExecutionContext } from '../../runtime/tools/types.js';
import { createLocalLanguageModel, estimateTokens } from './index.js';

const FIXED_NOW = new Date('2024-03-05T14:03:07Z');

const context: ToolExecutionContext = {
  abortSignal: new AbortController().signal,
  toolCallId: 'test',
  runId: 'run',
  sessionId: 'session',
  userId: null,
};

const calculatorDefinition = createCalculatorTool();
const currentTimeDefinition = createCurrentTimeTool({ now: () => FIXED_NOW });

function tools(): ToolSet {
  return {
    calculator: tool({
      description: calculatorDefinition.description,
      inputSchema: z.object({ expression: z.string() }),
      execute: (input) => calculatorDefinition.execute(input, context),
    }),
    current_time: tool({
      description: currentTimeDefinition.description,
      inputSchema: z.object({ timezone: z.string().optional() }),
      execute: (input) => currentTimeDefinition.execute(input, context),
    }),
    knowledge_search: tool({
      description: 'Search the knowledge base.',
      inputSchema: z.object({ query: z.string() }),
      execute: async () => ({
        results: [
          {
            name: 'docs/storage.md',
            content: 'Sessions are stored in SQLite. Embeddings are computed locally. The sky is blue.',
          },
          { name: 'docs/postgres.md', content: 'Postgres keeps embedding vectors in pgvector. It scales out.' },
        ],
      }),
    }),
  };
}

const callOptions = (text: string, extra: Partial<LanguageModelV3CallOptions> = {}): LanguageModelV3CallOptions => ({
  prompt: [{ role: 'user', content: [{ type: 'text', text }] }],
  ...extra,
});

async function readAll(stream: ReadableStream<LanguageModelV3StreamPart>): Promise<LanguageModelV3StreamPart[]> {
  const parts: LanguageModelV3StreamPart[] = [];
  for await (const part of stream) parts.push(part);
  return parts;
}

describe('createLocalLanguageModel', () => {
  it('identifies itself as the local provider', () => {
    const model = createLocalLanguageModel();

    expect(model).toMatchObject({ specificationVersion: 'v3', provider: 'local', modelId: 'default' });
  });

  it('answers a plain chat offline, naming the agent and saying it is not an LLM', async () => {
    const result = await generateText({
      model: createLocalLanguageModel(),
      system: 'You are Assistant.\nYou are a helpful assistant.',
      prompt: 'Tell me about the weather in Paris.',
    });

    expect(result.text).toContain('Assistant received your message: "Tell me about the weather in Paris."');
    expect(result.text).toContain('not an LLM');
    expect(result.text).toMatch(/openai:.*anthropic:.*ollama:/);
    expect(result.finishReason).toBe('stop');
  });

  it('says "this agent" when the system prompt names none', async () => {
    const result = await generateText({ model: createLocalLanguageModel(), prompt: 'hello' });

    expect(result.text.startsWith('This agent received your message: "hello"')).toBe(true);
  });

  it('is deterministic for the same prompt', async () => {
    const first = await generateText({ model: createLocalLanguageModel(), prompt: 'hello' });
    const second = await generateText({ model: createLocalLanguageModel(), prompt: 'hello' });

    expect(second.text).toBe(first.text);
  });

  it('calls the calculator for arithmetic and answers from its result', async () => {
    const result = await generateText({
      model: createLocalLanguageModel(),
      prompt: 'what is 12*7',
      tools: tools(),
      stopWhen: stepCountIs(3),
    });

    expect(result.steps).toHaveLength(2);
    expect(result.steps[0]?.toolCalls).toEqual([
      expect.objectContaining({ toolName: 'calculator', input: { expression: '12*7' } }),
    ]);
    expect(result.steps[0]?.finishReason).toBe('tool-calls');
    expect(result.text).toBe('The result of 12*7 is 84.');
  });

  it('understands operator words and functions', async () => {
    const result = await generateText({
      model: createLocalLanguageModel(),
      prompt: 'What is sqrt(16) plus 3?',
      tools: tools(),
      stopWhen: stepCountIs(3),
    });

    expect(result.text).toBe('The result of sqrt(16) + 3 is 7.');
  });

  it('answers with the tool error when the calculation fails', async () => {
    const result = await generateText({
      model: createLocalLanguageModel(),
      prompt: 'compute 1/0',
      tools: tools(),
      stopWhen: stepCountIs(3),
    });

    expect(result.text).toBe('I could not calculate 1/0: Division by zero.');
  });

  it('does not take a date for arithmetic', async () => {
    const result = await generateText({
      model: createLocalLanguageModel(),
      prompt: 'remind me on 2024-01-05',
      tools: tools(),
      stopWhen: stepCountIs(3),
    });

    expect(result.steps).toHaveLength(1);
    expect(result.text).toContain('received your message');
  });

  it('calls current_time for "what time is it" and answers with the time', async () => {
    const result = await generateText({
      model: createLocalLanguageModel(),
      prompt: 'What time is it?',
      tools: tools(),
      stopWhen: stepCountIs(3),
    });

    expect(result.steps[0]?.toolCalls[0]).toMatchObject({ toolName: 'current_time', input: {} });
    expect(result.text).toBe('It is Tuesday, 5 March 2024, 14:03:07 (UTC).');
  });

  it('passes an IANA time zone named in the message', async () => {
    const result = await generateText({
      model: createLocalLanguageModel(),
      prompt: 'what time is it in Europe/Berlin?',
      tools: tools(),
      stopWhen: stepCountIs(3),
    });

    expect(result.text).toBe('It is Tuesday, 5 March 2024, 15:03:07 (Europe/Berlin).');
  });

  it('searches knowledge and answers extractively with references', async () => {
    const result = await generateText({
      model: createLocalLanguageModel(),
      prompt: 'search for embeddings',
      tools: tools(),
      stopWhen: stepCountIs(3),
    });

    expect(result.steps[0]?.toolCalls[0]).toMatchObject({
      toolName: 'knowledge_search',
      input: { query: 'embeddings' },
    });
    expect(result.text).toBe(
      'From the knowledge base: Embeddings are computed locally. [1] Postgres keeps embedding vectors in pgvector. [2]' +
        '\n\nReferences:\n[1] docs/storage.md\n[2] docs/postgres.md',
    );
  });

  it('quotes the result of any other tool', async () => {
    const model = createLocalLanguageModel();
    const result = await model.doGenerate({
      prompt: [
        { role: 'user', content: [{ type: 'text', text: 'send it' }] },
        { role: 'assistant', content: [{ type: 'tool-call', toolCallId: 'c1', toolName: 'send_email', input: {} }] },
        {
          role: 'tool',
          content: [
            {
              type: 'tool-result',
              toolCallId: 'c1',
              toolName: 'send_email',
              output: { type: 'json', value: { ok: 1 } },
            },
          ],
        },
      ],
    });

    expect(result.content).toEqual([{ type: 'text', text: 'The send_email tool returned: "{"ok":1}".' }]);
  });

  it('offers no tool call when the tool is not available or tool choice is none', async () => {
    const model = createLocalLanguageModel();
    const calculator = {
      type: 'function' as const,
      name: 'calculator',
      inputSchema: { type: 'object' as const, properties: {} },
    };

    const withoutTool = await model.doGenerate(callOptions('what is 2+2'));
    const choiceNone = await model.doGenerate(
      callOptions('what is 2+2', { tools: [calculator], toolChoice: { type: 'none' } }),
    );

    expect(withoutTool.content[0]?.type).toBe('text');
    expect(choiceNone.content[0]?.type).toBe('text');
  });

  it('gives each tool call a unique, deterministic id', async () => {
    const calculator = {
      type: 'function' as const,
      name: 'calculator',
      inputSchema: { type: 'object' as const, properties: {} },
    };
    const ids = async () => {
      const model = createLocalLanguageModel();
      const first = await model.doGenerate(callOptions('2+2', { tools: [calculator] }));
      const second = await model.doGenerate(callOptions('2+2', { tools: [calculator] }));
      return [first, second].map((result) => (result.content[0] as { toolCallId: string }).toolCallId);
    };

    const [a, b] = await ids();

    expect(a).toMatch(/^call_local_1_[0-9a-f]{8}$/);
    expect(b).not.toBe(a);
    expect(await ids()).toEqual([a, b]);
  });

  it('streams the answer in several text deltas that concatenate to the final text', async () => {
    const result = streamText({
      model: createLocalLanguageModel(),
      system: 'You are Assistant.',
      prompt: 'Please summarise the quarterly report for me.',
    });

    const deltas: string[] = [];
    for await (const delta of result.textStream) deltas.push(delta);

    expect(deltas.length).toBeGreaterThan(3);
    expect(deltas.join('')).toBe(await result.text);
    expect(await result.text).toContain('Assistant');
  });

  it('streams the same text doGenerate returns', async () => {
    const options = callOptions('hello there');
    const generated = await createLocalLanguageModel().doGenerate(options);
    const { stream } = await createLocalLanguageModel().doStream(options);

    const parts = await readAll(stream);
    const streamed = parts.map((part) => (part.type === 'text-delta' ? part.delta : '')).join('');

    expect(parts[0]?.type).toBe('stream-start');
    expect(parts.at(-1)?.type).toBe('finish');
    expect(generated.content).toEqual([{ type: 'text', text: streamed }]);
  });

  it('reports non-zero estimated usage', async () => {
    const result = streamText({
      model: createLocalLanguageModel(),
      prompt: 'what is 12*7',
      tools: tools(),
      stopWhen: stepCountIs(3),
    });

    const usage = await result.totalUsage;

    expect(usage.inputTokens).toBeGreaterThan(0);
    expect(usage.outputTokens).toBeGreaterThan(0);
    expect(usage.totalTokens).toBe((usage.inputTokens ?? 0) + (usage.outputTokens ?? 0));
  });

  it('stops at maxOutputTokens with finish reason length', async () => {
    const result = await generateText({ model: createLocalLanguageModel(), prompt: 'hello', maxOutputTokens: 5 });

    expect(result.finishReason).toBe('length');
    expect(result.text).toBe('This agent received your message');
    expect(result.usage.outputTokens).toBe(5);
  });

  it('stops streaming when aborted', async () => {
    const controller = new AbortController();
    const result = streamText({
      model: createLocalLanguageModel(),
      prompt: 'Please write a long story about a dragon.',
      abortSignal: controller.signal,
    });

    const deltas: string[] = [];
    const types: string[] = [];
    for await (const part of result.fullStream) {
      types.push(part.type);
      if (part.type === 'text-delta') {
        deltas.push(part.text);
        controller.abort();
      }
    }

    expect(deltas).toHaveLength(1);
    expect(types).toContain('abort');
    expect(types).not.toContain('finish');
  });

  it('errors the raw stream with an AbortError and refuses an already aborted call', async () => {
    const controller = new AbortController();
    const model = createLocalLanguageModel();
    const { stream } = await model.doStream({ ...callOptions('hello'), abortSignal: controller.signal });
    const reader = stream.getReader();

    await reader.read();
    controller.abort();

    await expect(reader.read()).rejects.toMatchObject({ name: 'AbortError' });
    await expect(model.doGenerate({ ...callOptions('hello'), abortSignal: controller.signal })).rejects.toMatchObject({
      name: 'AbortError',
    });
  });
});

describe('estimateTokens', () => {
  it('counts words and punctuation marks', () => {
    expect(estimateTokens('Hello, world!')).toBe(4);
    expect(estimateTokens('12*7')).toBe(3);
    expect(estimateTokens('   ')).toBe(0);
  });
});
