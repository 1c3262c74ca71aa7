// The one agent every system serves in bench/peers: same id, instructions, model id and tool (name, description and
// input schema of agentos's built-in `calculator`). The scripted upstream never asks for the tool, so it is declared
// (its JSON schema travels with every model call) but not executed.

/** Agent id (and name) in every system. */
export const AGENT_ID = 'bench';

/** The agent's instructions. */
export const INSTRUCTIONS = 'Answer in one short sentence.';

/** Model id asked of the upstream. */
export const MODEL_ID = 'gpt-4o-mini';

/** The upstream's reply to every request (bench/runs/constants.ts). */
export const REPLY_TEXT = 'The quick brown fox jumps over the lazy dog near the river bank.';

/** The tool's name and description, copied from src/runtime/tools/builtin/calculator.ts. */
export const TOOL_NAME = 'calculator';
export const TOOL_DESCRIPTION =
  'Evaluate an arithmetic expression exactly. Supports + - * / % ^ (power), parentheses, ' +
  'sqrt abs round floor ceil min max log (base 10) ln sin cos tan, and the constants pi and e.';

/** The prompt every benchmark request sends. */
export const PROMPT = 'Say something.';

/** Parses `--name value` pairs of a child process. */
export function argument(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  return index > 0 ? process.argv[index + 1] : fallback;
}
