/**
 * What memory can do without a language model: `local:default` is not an LLM (shared/MODELS.md), so
 * with it memories come from plain first-person statements ("my favourite colour is teal", "I live in
 * Lisbon"), summaries say what the user asked, and optimisation only drops near-duplicates. Everything
 * here is deterministic and says less rather than inventing: a sentence that matches no pattern is
 * not turned into a memory.
 * @module
 */
import { indexTerms } from '../store/kysely/memory-store.js';

/** A memory candidate: the text and its topics. */
export interface MemoryCandidate {
  memory: string;
  topics: string[];
}

/** Third-person forms of the verbs the statements below accept. */
const VERBS: Record<string, string> = {
  like: 'likes',
  love: 'loves',
  prefer: 'prefers',
  enjoy: 'enjoys',
  hate: 'hates',
  dislike: 'dislikes',
  live: 'lives',
  work: 'works',
  own: 'owns',
  have: 'has',
  use: 'uses',
  speak: 'speaks',
  study: 'studies',
  need: 'needs',
  want: 'wants',
  play: 'plays',
  drink: 'drinks',
  eat: 'eats',
};

const TOPIC_OF_VERB: Record<string, string> = {
  like: 'preferences',
  love: 'preferences',
  prefer: 'preferences',
  enjoy: 'preferences',
  hate: 'preferences',
  dislike: 'preferences',
  drink: 'preferences',
  eat: 'preferences',
  live: 'location',
  work: 'work',
  study: 'education',
  speak: 'languages',
  play: 'hobbies',
};

const TOPIC_OF_NOUN: [RegExp, string][] = [
  [/\b(name|called)\b/, 'personal'],
  [/\b(favou?rite|prefer\w*)\b/, 'preferences'],
  [/\b(job|work|company|employer|role|team)\b/, 'work'],
  [/\b(city|country|home|address|live)\b/, 'location'],
  [/\b(wife|husband|partner|son|daughter|kids?|children|mother|father|family|dog|cat|pet)\b/, 'family'],
  [/\b(birthday|age|born)\b/, 'personal'],
  [/\b(allerg\w*|diet|vegan|vegetarian)\b/, 'health'],
];

/** What follows "I have / need / want …" when the sentence is about the request rather than the user. */
const REQUEST_PHRASE =
  /^(a |an |some |one |another |two |few )?(quick |small |short |simple )?(question|problem|issue|doubt|request|favou?r)s?\b|^(to know|to ask|to understand|help|you|your|it|this|that)\b/i;

/** `my` → `their`, `I` → `they`, so a remainder reads in the third person. */
function thirdPerson(text: string): string {
  return text
    .replace(/\bmy\b/gi, 'their')
    .replace(/\bmine\b/gi, 'theirs')
    .replace(/\bmyself\b/gi, 'themselves')
    .replace(/\bI'm\b/g, 'they are')
    .replace(/\bI\b/g, 'they')
    .replace(/\bme\b/gi, 'them');
}

function tidy(text: string): string {
  return text
    .replace(/\s+/g, ' ')
    .replace(/[\s,;:]+$/, '')
    .trim();
}

function topicsOf(memory: string, verb?: string): string[] {
  const topics = new Set<string>();
  if (verb && TOPIC_OF_VERB[verb]) topics.add(TOPIC_OF_VERB[verb] as string);
  const lower = memory.toLowerCase();
  for (const [pattern, topic] of TOPIC_OF_NOUN) if (pattern.test(lower)) topics.add(topic);
  if (topics.size === 0) topics.add('general');
  return [...topics];
}

/** Sentences of a message; questions are not statements about the user. */
function statements(message: string): string[] {
  return (message.match(/[^.!?\n]+[.!?]?/g) ?? [])
    .map((sentence) => sentence.trim())
    .filter((sentence) => sentence !== '' && !sentence.endsWith('?'));
}

function fromSentence(sentence: string): MemoryCandidate | undefined {
  const body = sentence.replace(/[.!]+$/, '').trim();
  let match = /\b(?:please\s+)?remember(?:\s+that)?\s+(.{3,300})/i.exec(body);
  if (match?.[1]) {
    const fact = tidy(thirdPerson(match[1]));
    const memory = /^(their|they)\b/i.test(fact) ? `User: ${fact}` : `User noted: ${fact}`;
    return { memory, topics: topicsOf(fact) };
  }
  match = /\b(?:call me|my name is)\s+([\p{L}][\p{L}'-]{0,40}(?:\s[\p{Lu}][\p{L}'-]{0,40})?)/iu.exec(body);
  if (match?.[1]) return { memory: `User's name is ${tidy(match[1])}`, topics: ['personal'] };
  match = /\bmy\s+([\p{L}\p{N}' -]{1,40}?)\s+(is|are|was|were)\s+(.{1,200})/iu.exec(body);
  if (match?.[1] && match[2] && match[3]) {
    const memory = `User's ${tidy(match[1])} ${match[2]} ${tidy(thirdPerson(match[3]))}`;
    return { memory, topics: topicsOf(memory) };
  }
  match = /\bI\s+(?:really\s+|also\s+|usually\s+)?([a-z]+)\s+(.{1,200})/i.exec(body);
  const verb = match?.[1]?.toLowerCase();
  // "I have a question", "I need help", "I want you to …" are about the request, not the user.
  if (match?.[2] && verb && VERBS[verb] && !REQUEST_PHRASE.test(match[2])) {
    const memory = `User ${VERBS[verb]} ${tidy(thirdPerson(match[2]))}`;
    return { memory, topics: topicsOf(memory, verb) };
  }
  match = /\bI(?:'m|\s+am)\s+(.{2,200})/i.exec(body);
  // "I'm asking / wondering / trying …" describe the request, not the user.
  if (match?.[1] && !/^(asking|wondering|trying|looking|not sure|curious|here|just|fine|ok|okay)\b/i.test(match[1])) {
    const memory = `User is ${tidy(thirdPerson(match[1]))}`;
    return { memory, topics: topicsOf(memory) };
  }
  return undefined;
}

/** Memories stated in a user message, in order, at most 5. */
export function extractStatedMemories(message: string): MemoryCandidate[] {
  const found: MemoryCandidate[] = [];
  for (const sentence of statements(message)) {
    const candidate = fromSentence(sentence);
    if (candidate && candidate.memory.length <= 500) found.push(candidate);
    if (found.length >= 5) break;
  }
  return found;
}

function shorten(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1).trimEnd()}…`;
}

/** The most frequent index terms of some texts (ties: first seen), as topics. */
export function frequentTerms(texts: readonly string[], count: number): string[] {
  const frequency = new Map<string, number>();
  for (const text of texts) {
    for (const term of indexTerms(text)) {
      if (/^\d+$/.test(term)) continue;
      frequency.set(term, (frequency.get(term) ?? 0) + 1);
    }
  }
  return [...frequency]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([term]) => term);
}

/**
 * A summary that only restates what the user asked (no model to understand it): the number of
 * requests, the topics by term frequency, and the first and latest request.
 */
export function describeSession(userMessages: readonly string[]): { summary: string; topics: string[] } {
  const topics = frequentTerms(userMessages, 3);
  const first = userMessages[0] ?? '';
  const last = userMessages.at(-1) ?? '';
  if (userMessages.length <= 1) return { summary: `User asked: "${shorten(first, 160)}"`, topics };
  const about = topics.length > 0 ? ` about ${topics.join(', ')}` : '';
  return {
    summary: `User made ${userMessages.length} requests${about}. First: "${shorten(first, 100)}" Latest: "${shorten(last, 100)}"`,
    topics,
  };
}

/** Drops memories whose terms are all contained in another, longer memory (near-duplicates). */
export function dropContainedMemories<T extends { memory: string }>(memories: readonly T[]): T[] {
  const terms = memories.map((entry) => new Set(indexTerms(entry.memory)));
  return memories.filter((_entry, index) => {
    const own = terms[index] as Set<string>;
    if (own.size === 0) return true;
    return !terms.some((theirs, otherIndex) => {
      if (otherIndex === index || theirs.size < own.size) return false;
      for (const term of own) if (!theirs.has(term)) return false;
      // Same terms: the first one stays.
      return theirs.size > own.size || otherIndex < index;
    });
  });
}
