// Values shared by the run benchmark's processes (bench/runs/run.ts and its children).

/** The upstream's reply to every request: 12 words. */
export const REPLY_TEXT = 'The quick brown fox jumps over the lazy dog near the river bank.';

/** The agent's one-line instructions; the proxy sends the same system prompt agentos builds from them. */
export const INSTRUCTIONS = 'Answer in one short sentence.';

/** The system message agentos sends for agent `bench` (`You are <name>.` + instructions). */
export const SYSTEM_PROMPT = `You are bench.\n${INSTRUCTIONS}`;
