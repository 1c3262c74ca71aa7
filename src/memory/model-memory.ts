/**
 * Model-driven memory work: one call after a run extracts new user memories and rewrites the session
 * summary (Agno's memory manager and session summaries in one request, so a run costs one extra model
 * call, not two), and one call optimises a user's memories. The model answers in JSON; an answer that
 * does not parse is reported as an error rather than guessed at.
 * @module
 */
import type { LanguageModelV3 } from '@ai-sdk/provider';
import { z } from 'zod';
import type { MemoryCandidate } from './heuristics.js';

/** What one memory update decided. */
export interface MemoryUpdatePlan {
  memories: MemoryCandidate[];
  summary: string;
  topics: string[];
  /** 0..1: how worth remembering the session is (the episode's importance). */
  importance: number;
}

/** One message of the run, as text. */
export interface ConversationLine {
  role: string;
  content: string;
}

const candidateSchema = z.object({
  memory: z.string().trim().min(1).max(5000),
  topics: z.array(z.string().trim().min(1).max(100)).max(10).catch([]).default([]),
});

const planSchema = z.object({
  memories: z.array(z.unknown()).catch([]).default([]),
  summary: z.string().trim().max(5000).catch('').default(''),
  topics: z.array(z.unknown()).catch([]).default([]),
  importance: z.coerce.number().min(0).max(1).catch(0.5).default(0.5),
});

const UPDATE_INSTRUCTIONS = `You maintain the long-term memory of an AI assistant.
Reply with exactly one JSON object and nothing else:
{"memories": [{"memory": "...", "topics": ["..."]}], "summary": "...", "topics": ["..."], "importance": 0.5}
- memories: durable facts about the user stated in NEW MESSAGES (preferences, personal details, goals,
  corrections), each one sentence in the third person starting with "User", 1-3 short lower-case topics
  each; leave out anything already in KNOWN MEMORIES and anything about the assistant; [] when none.
- summary: at most three sentences about the whole session so far; update PREVIOUS SUMMARY with the new messages.
- topics: 1-5 short lower-case topics of the session.
- importance: 0 to 1, how useful this session is to remember later.`;

const OPTIMIZE_INSTRUCTIONS = `You maintain the long-term memory of an AI assistant.
Rewrite the user's memories below as the smallest set of memories that keeps every fact: merge duplicates
and related facts, drop what a later memory corrects, keep each memory one sentence in the third person
starting with "User". Reply with exactly one JSON object and nothing else:
{"memories": [{"memory": "...", "topics": ["..."]}]}`;

/** The JSON object in a model answer (code fences and prose around it allowed). */
function parseJsonObject(text: string): unknown {
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  if (start < 0 || end <= start) throw new Error('the memory model answered without a JSON object');
  return JSON.parse(text.slice(start, end + 1));
}

function cleanTopics(values: readonly unknown[]): string[] {
  const topics = new Set<string>();
  for (const value of values) {
    if (typeof value !== 'string') continue;
    const topic = value.trim().toLowerCase().slice(0, 100);
    if (topic !== '') topics.add(topic);
  }
  return [...topics].slice(0, 10);
}

function candidates(values: readonly unknown[]): MemoryCandidate[] {
  return values.flatMap((value) => {
    const parsed = candidateSchema.safeParse(typeof value === 'string' ? { memory: value } : value);
    return parsed.success ? [{ memory: parsed.data.memory, topics: cleanTopics(parsed.data.topics) }] : [];
  });
}

function transcript(lines: readonly ConversationLine[]): string {
  return lines.map((line) => `${line.role}: ${line.content}`).join('\n');
}

/** Asks the run's model for new memories and the updated session summary. */
export async function planMemoryUpdate(input: {
  model: LanguageModelV3;
  conversation: readonly ConversationLine[];
  previousSummary: string | null;
  knownMemories: readonly string[];
  abortSignal?: AbortSignal | undefined;
}): Promise<MemoryUpdatePlan> {
  const prompt = [
    `PREVIOUS SUMMARY: ${input.previousSummary ?? '(none)'}`,
    'KNOWN MEMORIES:',
    ...(input.knownMemories.length === 0 ? ['(none)'] : input.knownMemories.map((memory) => `- ${memory}`)),
    'NEW MESSAGES:',
    transcript(input.conversation),
  ].join('\n');
  // The AI SDK loads on first use: an idle server does not hold it (bench/startup).
  const { generateText } = await import('ai');
  const { text } = await generateText({
    model: input.model,
    system: UPDATE_INSTRUCTIONS,
    prompt,
    temperature: 0,
    maxRetries: 1,
    ...(input.abortSignal ? { abortSignal: input.abortSignal } : {}),
  });
  const plan = planSchema.parse(parseJsonObject(text));
  return {
    memories: candidates(plan.memories).slice(0, 10),
    summary: plan.summary,
    topics: cleanTopics(plan.topics).slice(0, 5),
    importance: plan.importance,
  };
}

/** Asks a model to merge a user's memories; returns the new set. */
export async function optimizeWithModel(input: {
  model: LanguageModelV3;
  memories: readonly { memory: string; topics: readonly string[] }[];
}): Promise<MemoryCandidate[]> {
  const prompt = input.memories
    .map((entry) => `- ${entry.memory}${entry.topics.length > 0 ? ` [${entry.topics.join(', ')}]` : ''}`)
    .join('\n');
  const { generateText } = await import('ai');
  const { text } = await generateText({
    model: input.model,
    system: OPTIMIZE_INSTRUCTIONS,
    prompt,
    temperature: 0,
    maxRetries: 1,
  });
  const parsed = z.object({ memories: z.array(z.unknown()) }).parse(parseJsonObject(text));
  return candidates(parsed.memories);
}
