/**
 * The one place an agent's system prompt is assembled. The runtime (`agent-runner.ts`) and
 * `GET /api/agents/{id}/assembled-context` both call {@link assembleSystemPrompt}, so what the endpoint
 * shows is byte for byte what the model receives (Automatos PRD-71: three divergent injection points
 * silently dropped skills; research/agtos-automatos.md §3.1 item 1).
 * @module
 */
import type { AgentConfig } from '../../config/index.js';

/** One named part of a system prompt; left out (and reported so) when its text is empty. */
export interface PromptSection {
  name: string;
  text: string | undefined;
  /** Why the section is empty, when it is (e.g. `no persona assigned`). */
  reason?: string;
}

/**
 * An agent as the runtime runs it: a config agent, or one assembled from the database (`src/agents/`)
 * whose persona and skills arrive as extra sections.
 */
export type RuntimeAgent = AgentConfig & {
  /** Sections placed between the identity line and the instructions (persona, skills). */
  promptSections?: readonly PromptSection[] | undefined;
  /** Default sampling temperature of the agent (a request's own temperature wins). */
  temperature?: number | undefined;
  /** Where the agent is defined. */
  source?: 'config' | 'db' | 'model';
};

/** What {@link assembleSystemPrompt} returns: the prompt and, per section, whether it went in. */
export interface AssembledPrompt {
  systemPrompt: string;
  sections: { name: string; included: boolean; chars: number; reason?: string }[];
}

/** Input of {@link assembleSystemPrompt}. */
export interface AssemblePromptInput {
  agentName: string;
  instructions?: string | readonly string[] | undefined;
  promptSections?: readonly PromptSection[] | undefined;
  /** Appended for one run only (an OpenAI request's system messages). */
  extraInstructions?: string | undefined;
}

/**
 * Joins, in order, the identity line, the agent's extra sections, its instructions and the run's extra
 * instructions with newlines; empty parts are left out and reported in `sections`.
 */
export function assembleSystemPrompt(input: AssemblePromptInput): AssembledPrompt {
  const instructions = Array.isArray(input.instructions) ? input.instructions.join('\n') : input.instructions;
  const candidates: PromptSection[] = [
    { name: 'identity', text: `You are ${input.agentName}.` },
    ...(input.promptSections ?? []),
    { name: 'instructions', text: instructions as string | undefined, reason: 'the agent has no instructions' },
    { name: 'request_instructions', text: input.extraInstructions, reason: 'the request sent no system messages' },
  ];
  const parts: string[] = [];
  const sections: AssembledPrompt['sections'] = [];
  for (const section of candidates) {
    const included = section.text !== undefined && section.text !== '';
    if (included) parts.push(section.text as string);
    sections.push({
      name: section.name,
      included,
      chars: included ? (section.text as string).length : 0,
      ...(included || section.reason === undefined ? {} : { reason: section.reason }),
    });
  }
  return { systemPrompt: parts.join('\n'), sections };
}

/** A rough token count (4 characters a token), what Automatos reports as `token_estimate`. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}
