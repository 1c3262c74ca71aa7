/**
 * The judge of accuracy and agent_as_judge evals: one model call that must answer with a JSON
 * verdict. Its reply is parsed leniently (the first JSON object in the text, else a `score: n`),
 * and a reply with no usable verdict is an `AOS_EVAL_JUDGE_FAILED` error, never a guessed score.
 * @module
 */
import type { LanguageModelV3 } from '@ai-sdk/provider';
import { AgentOsError } from '../errors/index.js';

/** What the judge decided. */
export interface Verdict {
  /** 1–10 for numeric scoring; 10 (pass) or 1 (fail) for binary. */
  score: number;
  passed?: boolean;
  reason: string;
}

function firstJsonObject(text: string): Record<string, unknown> | undefined {
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  if (start < 0 || end <= start) return undefined;
  try {
    const value = JSON.parse(text.slice(start, end + 1)) as unknown;
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Reads a verdict out of the judge's reply. */
export function parseVerdict(text: string, strategy: 'numeric' | 'binary'): Verdict {
  const json = firstJsonObject(text);
  const reason = typeof json?.reason === 'string' ? json.reason : text.trim().slice(0, 2000);
  if (strategy === 'binary') {
    const passed = json?.passed ?? json?.pass ?? json?.result;
    if (typeof passed === 'boolean') return { score: passed ? 10 : 1, passed, reason };
    if (typeof passed === 'string' && /^(pass|passed|yes|true)$/i.test(passed))
      return { score: 10, passed: true, reason };
    if (typeof passed === 'string' && /^(fail|failed|no|false)$/i.test(passed))
      return { score: 1, passed: false, reason };
  } else {
    const raw = json?.score ?? /score["'\s:]*(\d+(?:\.\d+)?)/i.exec(text)?.[1];
    const score = Number(raw);
    if (raw !== undefined && Number.isFinite(score) && score >= 1 && score <= 10) return { score, reason };
  }
  throw new AgentOsError('AOS_EVAL_JUDGE_FAILED', 'The judge model gave no usable verdict', {
    details: { reply: text.slice(0, 500) },
  });
}

/** Options of {@link judge}. */
export interface JudgeRequest {
  model: LanguageModelV3;
  input: string;
  output: string;
  expectedOutput?: string | undefined;
  criteria?: string | undefined;
  strategy: 'numeric' | 'binary';
  guidelines?: string | undefined;
  context?: string | undefined;
  abortSignal?: AbortSignal | undefined;
}

/** Asks the judge model for a verdict on one output. */
export async function judge(request: JudgeRequest): Promise<Verdict> {
  const scale =
    request.strategy === 'binary'
      ? 'Answer with JSON only: {"passed": true|false, "reason": "<one or two sentences>"}.'
      : 'Answer with JSON only: {"score": <integer 1-10, 10 = fully meets it>, "reason": "<one or two sentences>"}.';
  const task =
    request.expectedOutput !== undefined
      ? 'Judge how accurately the OUTPUT answers the INPUT compared with the EXPECTED OUTPUT.'
      : `Judge the OUTPUT against these criteria: ${request.criteria ?? ''}`;
  const prompt = [
    `INPUT:\n${request.input}`,
    `OUTPUT:\n${request.output}`,
    ...(request.expectedOutput !== undefined ? [`EXPECTED OUTPUT:\n${request.expectedOutput}`] : []),
    ...(request.context ? [`CONTEXT:\n${request.context}`] : []),
  ].join('\n\n');
  // The AI SDK loads on first use: an idle server does not hold it (bench/startup).
  const { generateText } = await import('ai');
  const result = await generateText({
    model: request.model,
    system: [
      'You are an impartial evaluator of an AI agent.',
      task,
      ...(request.guidelines ? [`Guidelines: ${request.guidelines}`] : []),
      scale,
    ].join('\n'),
    prompt,
    maxRetries: 1,
    ...(request.abortSignal ? { abortSignal: request.abortSignal } : {}),
  });
  return parseVerdict(result.text, request.strategy);
}
