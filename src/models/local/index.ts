/**
 * The built-in offline model `local:default` (deterministic, not an LLM; see shared/MODELS.md).
 * @module
 */
export { createLocalLanguageModel, estimateTokens, type LocalLanguageModelOptions } from './local-language-model.js';
