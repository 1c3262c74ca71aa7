/**
 * `local:default`: agentos' built-in offline chat model. No generative model can be installed offline
 * (shared/MODELS.md), so this is a small deterministic program behind the AI SDK `LanguageModelV3`
 * interface, honest about what it is: it calls `calculator`, `current_time` or `knowledge_search` when the
 * user's message clearly asks for one the agent has, answers from the tool result, and otherwise says
 * which agent answered and that a real model (`openai:`, `anthropic:`, `ollama:`) can be configured.
 * It streams in word groups and reports estimated token usage like a provider, so the runtime, the
 * server and the tests exercise the same code paths as with a real model.
 * @module
 */
import { createHash } from 'node:crypto';
import { setImmediate as nextTick } from 'node:timers/promises';
import type {
  LanguageModelV3,
  LanguageModelV3CallOptions,
  LanguageModelV3Content,
  LanguageModelV3FinishReason,
  LanguageModelV3Message,
  LanguageModelV3StreamPart,
  LanguageModelV3ToolResultOutput,
  LanguageModelV3Usage,
  SharedV3Warning,
} from '@ai-sdk/provider';

/** Options of {@link createLocalLanguageModel}. */
export interface LocalLanguageModelOptions {
  /** The clock used for response timestamps; tests pass a fixed one. */
  now?: () => Date;
}

// One token per run of letters, digits or underscores, and one per other non-space character.
const TOKEN_PATTERN = /[\p{L}\p{M}\p{N}_]+|[^\s\p{L}\p{M}\p{N}_]/gu;

/**
 * Estimates the token count of `text` the simple way: every word (a run of letters, digits or `_`) is one
 * token and every punctuation or symbol character is one token. Provider tokenizers (BPE) split long or
 * rare words further, so this undercounts them somewhat, but it is stable, cheap and never zero for text.
 */
export function estimateTokens(text: string): number {
  return text.match(TOKEN_PATTERN)?.length ?? 0;
}

/** Cuts `text` after `maxTokens` tokens (same tokenizer as {@link estimateTokens}). */
function truncateToTokens(text: string, maxTokens: number): string {
  if (maxTokens <= 0) return '';
  let count = 0;
  for (const match of text.matchAll(TOKEN_PATTERN)) {
    count += 1;
    if (count === maxTokens) return text.slice(0, (match.index ?? 0) + match[0].length);
  }
  return text;
}

// ---------------------------------------------------------------------------------------------------------------------
// Reading the prompt

function textOfMessage(message: LanguageModelV3Message): string {
  if (message.role === 'system') return message.content;
  const texts: string[] = [];
  for (const part of message.content) {
    if (part.type === 'text' || part.type === 'reasoning') texts.push(part.text);
  }
  return texts.join('\n');
}

/** Everything the prompt and the tool list contain, as text, for the input-token estimate. */
function promptText(options: LanguageModelV3CallOptions): string {
  const pieces: string[] = [];
  for (const message of options.prompt) {
    pieces.push(textOfMessage(message));
    if (message.role === 'assistant' || message.role === 'tool') {
      for (const part of message.content) {
        if (part.type === 'tool-call') pieces.push(part.toolName, JSON.stringify(part.input ?? null));
        if (part.type === 'tool-result') pieces.push(part.toolName, JSON.stringify(part.output));
      }
    }
  }
  for (const tool of options.tools ?? []) {
    pieces.push(tool.name);
    if (tool.type === 'function') pieces.push(tool.description ?? '', JSON.stringify(tool.inputSchema));
  }
  return pieces.join('\n');
}

function lastUserText(prompt: LanguageModelV3Message[]): string {
  for (let index = prompt.length - 1; index >= 0; index -= 1) {
    const message = prompt[index] as LanguageModelV3Message;
    if (message.role === 'user') return textOfMessage(message).trim();
  }
  return '';
}

/** The agent's name from a `You are <Name>.` line of the system prompt (the runner writes one). */
function agentName(prompt: LanguageModelV3Message[]): string | undefined {
  for (const message of prompt) {
    if (message.role !== 'system') continue;
    for (const match of message.content.matchAll(/^\s*You are ([^\n]+?)[.!]?\s*$/gm)) {
      const name = (match[1] ?? '').split(/[,;:(]| - | \u2014 /)[0]?.trim() ?? '';
      // "You are a helpful assistant." describes a role; only a capitalised phrase is a name.
      if (name !== '' && name.length <= 80 && !/^\p{Ll}/u.test(name)) return name;
    }
  }
  return undefined;
}

/** The tools this call may use: all function tools, none for `toolChoice: none`, one for a forced tool. */
function usableTools(options: LanguageModelV3CallOptions): Set<string> {
  const names = new Set<string>();
  const choice = options.toolChoice;
  if (choice?.type === 'none') return names;
  for (const tool of options.tools ?? []) {
    if (tool.type !== 'function') continue;
    if (choice?.type === 'tool' && choice.toolName !== tool.name) continue;
    names.add(tool.name);
  }
  return names;
}

// ---------------------------------------------------------------------------------------------------------------------
// Deciding on a tool call

const FUNCTION_NAMES = 'sqrt|abs|round|floor|ceil|min|max|log|ln|sin|cos|tan';
const EXPRESSION_RUN = new RegExp(`(?:(?:${FUNCTION_NAMES})\\s*\\(|\\bpi\\b|[\\d.+\\-*/^%(),\\s])+`, 'gi');

function balanceParentheses(candidate: string): string {
  let text = candidate;
  const count = (char: string) => text.split(char).length - 1;
  while (count(')') > count('(') && text.endsWith(')')) text = text.slice(0, -1).trim();
  while (count('(') > count(')') && text.startsWith('(')) text = text.slice(1).trim();
  return text;
}

/** An arithmetic expression in the message (`what is 12*7` → `12*7`), or undefined. */
function findExpression(message: string): string | undefined {
  const normalized = message
    .replace(/×/g, '*')
    .replace(/÷/g, '/')
    .replace(/(\d)\s*[xX]\s*(?=\d)/g, '$1*')
    .replace(/\bplus\b/gi, '+')
    .replace(/\bminus\b/gi, '-')
    .replace(/\b(?:times|multiplied by)\b/gi, '*')
    .replace(/\bdivided by\b/gi, '/')
    .replace(/\bto the power of\b/gi, '^');
  let best: string | undefined;
  for (const match of normalized.matchAll(EXPRESSION_RUN)) {
    const candidate = balanceParentheses(
      match[0]
        .trim()
        .replace(/^[,.]+|[,.]+$/g, '')
        .trim(),
    );
    if (!/\d/.test(candidate)) continue;
    const hasOperator = /[\d)]\s*[-+*/^%]\s*[-+(\d.]|[a-z]\s*\(/i.test(candidate);
    // Dates and phone numbers (2024-01-05, 555-1234-99, 01/05/2024) are not sums to work out.
    const looksLikeDate = /^\d+(?:-\d+){2,}$/.test(candidate) || /^\d{1,4}([-/.])\d{1,2}\1\d{1,4}$/.test(candidate);
    if (hasOperator && !looksLikeDate && (best === undefined || candidate.length > best.length)) best = candidate;
  }
  return best;
}

const TIME_PATTERN = /\b(?:what time|current time|time now|time is it|what day|date)\b/i;
const SEARCH_PATTERN = /\b(?:search|find|look up|lookup)\b(?:\s+(?:for|about|on))?\s+(.+)/i;
const LEADING_SEARCH_PATTERN = /^\s*(?:please\s+|can you\s+|could you\s+)?(?:search|find|look up|lookup)\b/i;

function findSearchQuery(message: string): string | undefined {
  const query = SEARCH_PATTERN.exec(message)?.[1]
    ?.trim()
    .replace(/[?.!]+$/, '')
    .trim();
  return query === undefined || query === '' ? undefined : query;
}

type ToolCallPlan = { toolName: string; input: Record<string, unknown> };

function planToolCall(message: string, tools: Set<string>): ToolCallPlan | undefined {
  if (message === '' || tools.size === 0) return undefined;
  const search = (): ToolCallPlan | undefined => {
    const query = tools.has('knowledge_search') ? findSearchQuery(message) : undefined;
    return query === undefined ? undefined : { toolName: 'knowledge_search', input: { query } };
  };
  // "Search for the 2024-2025 budget" is a search even though it holds digits and a dash.
  if (LEADING_SEARCH_PATTERN.test(message)) {
    const plan = search();
    if (plan) return plan;
  }
  if (tools.has('calculator')) {
    const expression = findExpression(message);
    if (expression !== undefined) return { toolName: 'calculator', input: { expression } };
  }
  if (tools.has('current_time') && TIME_PATTERN.test(message)) {
    const zone = /\b(UTC|[A-Z][A-Za-z]+\/[A-Z][A-Za-z_]+(?:\/[A-Z][A-Za-z_]+)?)\b/.exec(message)?.[1];
    return { toolName: 'current_time', input: zone === undefined ? {} : { timezone: zone } };
  }
  return search();
}

// ---------------------------------------------------------------------------------------------------------------------
// Answering from tool results

type ToolOutcome = { ok: true; value: unknown } | { ok: false; message: string };

function outcomeOf(output: LanguageModelV3ToolResultOutput): ToolOutcome {
  switch (output.type) {
    case 'text':
    case 'json':
      return { ok: true, value: output.value };
    case 'error-text':
      return { ok: false, message: output.value };
    case 'error-json':
      return { ok: false, message: typeof output.value === 'string' ? output.value : JSON.stringify(output.value) };
    case 'execution-denied':
      return { ok: false, message: output.reason ? `it was not run (${output.reason})` : 'it was not run' };
    case 'content':
      return {
        ok: true,
        value: output.value
          .map((part) => (part.type === 'text' ? part.text : ''))
          .filter((text) => text !== '')
          .join('\n'),
      };
  }
}

/** A JSON string's value (tools' results may arrive serialised), else the value itself. */
function parseJson(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

function record(value: unknown): Record<string, unknown> {
  const parsed = parseJson(value);
  return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
    ? (parsed as Record<string, unknown>)
    : {};
}

function shorten(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length <= max) return flat;
  const cut = flat.slice(0, max);
  const space = cut.lastIndexOf(' ');
  return `${(space > max / 2 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

function asText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

const STOPWORDS = new Set(
  'the a an and or of to in on for with about what which who whom how why when where is are was were be been do does did can could should would i you we they it this that these those me my our your from by at as into than then there their'.split(
    ' ',
  ),
);

function terms(text: string): string[] {
  return (text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).filter((word) => word.length > 1 && !STOPWORDS.has(word));
}

// Plurals and inflections meet on a shared five-letter stem ("embeddings" finds "embedding").
function sameWord(a: string, b: string): boolean {
  return a === b || (a.length >= 5 && b.length >= 5 && a.slice(0, 5) === b.slice(0, 5));
}

interface KnowledgeChunk {
  text: string;
  reference: string;
}

function knowledgeChunks(value: unknown): KnowledgeChunk[] {
  const parsed = parseJson(value);
  let list: unknown = parsed;
  if (!Array.isArray(list)) {
    const object = record(parsed);
    list = object.results ?? object.chunks ?? object.documents ?? object.matches ?? object.items;
  }
  if (!Array.isArray(list))
    return typeof value === 'string' && value.trim() !== '' ? [{ text: value, reference: 'result' }] : [];
  const chunks: KnowledgeChunk[] = [];
  list.forEach((item, index) => {
    const object = record(item);
    const text = typeof item === 'string' ? item : (object.content ?? object.text ?? object.chunk ?? object.snippet);
    if (typeof text !== 'string' || text.trim() === '') return;
    const meta = record(object.metadata);
    const reference = [
      object.name,
      object.title,
      object.source,
      object.document_name,
      meta.source,
      meta.name,
      object.id,
    ].find((candidate) => typeof candidate === 'string' && candidate !== '') as string | undefined;
    chunks.push({ text, reference: reference ?? `source ${index + 1}` });
  });
  return chunks;
}

/** The best-matching sentences of the returned chunks, with numbered references. */
function extractiveAnswer(query: string, value: unknown): string {
  const chunks = knowledgeChunks(value);
  if (chunks.length === 0) return `I found nothing about "${shorten(query, 80)}" in the knowledge base.`;
  const queryTerms = [...new Set(terms(query))];
  const scored: { sentence: string; chunk: number; position: number; score: number }[] = [];
  chunks.forEach((chunk, chunkIndex) => {
    const sentences = chunk.text
      .replace(/\s+/g, ' ')
      .split(/(?<=[.!?])\s+/)
      .map((sentence) => sentence.trim())
      .filter((sentence) => sentence !== '');
    sentences.forEach((sentence, position) => {
      const words = terms(sentence);
      const score = queryTerms.filter((term) => words.some((word) => sameWord(word, term))).length;
      scored.push({ sentence, chunk: chunkIndex, position, score });
    });
  });
  // Highest score first; ties keep the retriever's chunk order, then the sentence order.
  const ranked = scored
    .filter((entry) => entry.score > 0)
    .sort((a, b) => b.score - a.score || a.chunk - b.chunk || a.position - b.position)
    .slice(0, 3);
  const picked = ranked.length > 0 ? ranked : scored.slice(0, 1);
  picked.sort((a, b) => a.chunk - b.chunk || a.position - b.position);
  const references: string[] = [];
  const referenceNumber = (chunk: number): number => {
    const label = (chunks[chunk] as KnowledgeChunk).reference;
    const existing = references.indexOf(label);
    if (existing >= 0) return existing + 1;
    references.push(label);
    return references.length;
  };
  const body = picked.map((entry) => `${shorten(entry.sentence, 400)} [${referenceNumber(entry.chunk)}]`).join(' ');
  const sources = references.map((label, index) => `[${index + 1}] ${label}`).join('\n');
  return `From the knowledge base: ${body}\n\nReferences:\n${sources}`;
}

function sentence(text: string): string {
  return /[.!?\u2026]$/.test(text) ? text : `${text}.`;
}

function formatNumber(value: unknown): string {
  return typeof value === 'number' ? String(value) : asText(value);
}

function answerFromTool(toolName: string, outcome: ToolOutcome, callInput: Record<string, unknown>, question: string) {
  if (!outcome.ok) {
    if (toolName === 'calculator') {
      const expression = typeof callInput.expression === 'string' ? callInput.expression : 'that';
      return sentence(`I could not calculate ${expression}: ${shorten(outcome.message, 300)}`);
    }
    return sentence(`The ${toolName} tool failed: ${shorten(outcome.message, 300)}`);
  }
  const value = outcome.value;
  const object = record(value);
  switch (toolName) {
    case 'calculator': {
      const expression = object.expression ?? callInput.expression;
      const result = object.result ?? value;
      return typeof expression === 'string'
        ? `The result of ${expression} is ${formatNumber(result)}.`
        : `The result is ${formatNumber(result)}.`;
    }
    case 'current_time': {
      const when = object.formatted ?? object.iso;
      if (typeof when !== 'string') return `The current time is ${shorten(asText(value), 200)}.`;
      return `It is ${when} (${typeof object.timezone === 'string' ? object.timezone : 'UTC'}).`;
    }
    case 'knowledge_search': {
      const query = typeof callInput.query === 'string' ? callInput.query : question;
      return extractiveAnswer(query, value);
    }
    default:
      return `The ${toolName} tool returned: "${shorten(asText(value), 300)}".`;
  }
}

/** An answer when the prompt ends with tool results, else undefined. */
function answerFromToolResults(prompt: LanguageModelV3Message[]): string | undefined {
  const last = prompt[prompt.length - 1];
  if (last?.role !== 'tool') return undefined;
  const inputs = new Map<string, Record<string, unknown>>();
  for (const message of prompt) {
    if (message.role !== 'assistant') continue;
    for (const part of message.content) if (part.type === 'tool-call') inputs.set(part.toolCallId, record(part.input));
  }
  const question = lastUserText(prompt);
  const answers: string[] = [];
  for (const part of last.content) {
    if (part.type !== 'tool-result') continue;
    answers.push(answerFromTool(part.toolName, outcomeOf(part.output), inputs.get(part.toolCallId) ?? {}, question));
  }
  return answers.length === 0 ? undefined : answers.join('\n\n');
}

// ---------------------------------------------------------------------------------------------------------------------
// The plain reply

const CAPABILITIES: [tool: string, ability: string][] = [
  ['calculator', 'work out arithmetic'],
  ['current_time', 'tell the time'],
  ['knowledge_search', 'search the knowledge base'],
];

function plainReply(prompt: LanguageModelV3Message[], tools: Set<string>): string {
  const name = agentName(prompt);
  const message = lastUserText(prompt);
  const subject = name ?? 'This agent';
  const heard = message === '' ? 'received an empty message' : `received your message: "${shorten(message, 80)}"`;
  const abilities = CAPABILITIES.filter(([tool]) => tools.has(tool)).map(([, ability]) => ability);
  const canDo =
    abilities.length === 0
      ? ''
      : ` With this agent's tools it can ${abilities.length === 1 ? abilities[0] : `${abilities.slice(0, -1).join(', ')} and ${abilities.at(-1)}`}.`;
  return (
    `${subject} ${heard}. This reply comes from agentos' built-in local model (local:default), ` +
    `which runs offline and is not an LLM, so it cannot really answer.${canDo} ` +
    'Configure a real model (openai:, anthropic: or ollama:) for full answers.'
  );
}

// ---------------------------------------------------------------------------------------------------------------------
// The model

type Reply =
  | { kind: 'text'; text: string; finishReason: LanguageModelV3FinishReason }
  | {
      kind: 'tool-call';
      toolCallId: string;
      toolName: string;
      input: string;
      finishReason: LanguageModelV3FinishReason;
    };

function usage(inputTokens: number, outputTokens: number): LanguageModelV3Usage {
  return {
    inputTokens: { total: inputTokens, noCache: inputTokens, cacheRead: 0, cacheWrite: 0 },
    outputTokens: { total: outputTokens, text: outputTokens, reasoning: 0 },
  };
}

function abortError(signal: AbortSignal): unknown {
  // The signal's reason is what fetch-based providers throw too (an AbortError or TimeoutError DOMException).
  return signal.reason ?? new DOMException('The local model call was aborted', 'AbortError');
}

/** Splits text into chunks of a few words each, whitespace kept, so the chunks concatenate back exactly. */
function wordGroups(text: string, wordsPerChunk = 3): string[] {
  const words = text.match(/\s*\S+\s*/g) ?? [text];
  const groups: string[] = [];
  for (let index = 0; index < words.length; index += wordsPerChunk) {
    groups.push(words.slice(index, index + wordsPerChunk).join(''));
  }
  return groups;
}

/**
 * Creates the built-in deterministic `local:default` model (provider `local`, model id `default`).
 * @example
 * const { text } = await generateText({ model: createLocalLanguageModel(), prompt: 'Hello' });
 */
export function createLocalLanguageModel(options: LocalLanguageModelOptions = {}): LanguageModelV3 {
  const now = options.now ?? (() => new Date());
  // Per instance, so ids are deterministic for a fresh model yet unique across its calls.
  let calls = 0;

  function respond(callOptions: LanguageModelV3CallOptions) {
    calls += 1;
    const warnings: SharedV3Warning[] = [];
    if (callOptions.responseFormat?.type === 'json') {
      warnings.push({ type: 'unsupported', feature: 'responseFormat', details: 'local:default answers in plain text' });
    }
    const inputTokens = estimateTokens(promptText(callOptions));
    const tools = usableTools(callOptions);
    const fromTools = answerFromToolResults(callOptions.prompt);
    const toolCall = fromTools === undefined ? planToolCall(lastUserText(callOptions.prompt), tools) : undefined;
    const response = { id: `resp_local_${calls}`, modelId: 'default', timestamp: now() };

    let reply: Reply;
    let outputTokens: number;
    if (toolCall) {
      const input = JSON.stringify(toolCall.input);
      const hash = createHash('sha256').update(`${toolCall.toolName}\n${input}`).digest('hex').slice(0, 8);
      reply = {
        kind: 'tool-call',
        toolCallId: `call_local_${calls}_${hash}`,
        toolName: toolCall.toolName,
        input,
        finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
      };
      outputTokens = estimateTokens(`${toolCall.toolName} ${input}`);
    } else {
      let text = fromTools ?? plainReply(callOptions.prompt, tools);
      let finishReason: LanguageModelV3FinishReason = { unified: 'stop', raw: 'stop' };
      if (callOptions.maxOutputTokens !== undefined && estimateTokens(text) > callOptions.maxOutputTokens) {
        text = truncateToTokens(text, callOptions.maxOutputTokens);
        finishReason = { unified: 'length', raw: 'length' };
      }
      reply = { kind: 'text', text, finishReason };
      outputTokens = estimateTokens(text);
    }
    return { reply, usage: usage(inputTokens, outputTokens), warnings, response };
  }

  return {
    specificationVersion: 'v3',
    provider: 'local',
    modelId: 'default',
    supportedUrls: {},

    async doGenerate(callOptions) {
      if (callOptions.abortSignal?.aborted) throw abortError(callOptions.abortSignal);
      const { reply, usage, warnings, response } = respond(callOptions);
      const content: LanguageModelV3Content[] =
        reply.kind === 'text'
          ? [{ type: 'text', text: reply.text }]
          : [{ type: 'tool-call', toolCallId: reply.toolCallId, toolName: reply.toolName, input: reply.input }];
      return { content, finishReason: reply.finishReason, usage, warnings, response };
    },

    async doStream(callOptions) {
      const signal = callOptions.abortSignal;
      if (signal?.aborted) throw abortError(signal);
      const { reply, usage, warnings, response } = respond(callOptions);
      const parts: LanguageModelV3StreamPart[] = [
        { type: 'stream-start', warnings },
        { type: 'response-metadata', ...response },
      ];
      if (reply.kind === 'text') {
        const id = `text_${response.id}`;
        parts.push({ type: 'text-start', id });
        for (const delta of wordGroups(reply.text)) parts.push({ type: 'text-delta', id, delta });
        parts.push({ type: 'text-end', id });
      } else {
        const id = reply.toolCallId;
        parts.push(
          { type: 'tool-input-start', id, toolName: reply.toolName },
          { type: 'tool-input-delta', id, delta: reply.input },
          { type: 'tool-input-end', id },
          { type: 'tool-call', toolCallId: id, toolName: reply.toolName, input: reply.input },
        );
      }
      parts.push({ type: 'finish', usage, finishReason: reply.finishReason });

      let index = 0;
      const stream = new ReadableStream<LanguageModelV3StreamPart>({
        async pull(controller) {
          // Yield to the event loop between parts, as a network stream does, so an abort can land mid-answer.
          await nextTick();
          if (signal?.aborted) {
            controller.error(abortError(signal));
            return;
          }
          const part = parts[index];
          index += 1;
          if (part === undefined) controller.close();
          else controller.enqueue(part);
        },
      });
      return { stream };
    },
  };
}
