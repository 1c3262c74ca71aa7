/**
 * Token prices and run cost. The built-in table lists list prices (USD per million tokens) of
 * common models at the time of writing; `pricing:` in the config adds models and overrides these.
 * A model with no price costs 0 and is reported as unpriced rather than guessed.
 * @module
 */
import type { ModelPrice, PricingConfig } from '../config/observability-schema.js';

/** Built-in prices, keyed `provider:model`. */
export const DEFAULT_PRICES: Readonly<Record<string, ModelPrice>> = {
  'openai:gpt-4o': { input_per_million: 2.5, output_per_million: 10 },
  'openai:gpt-4o-mini': { input_per_million: 0.15, output_per_million: 0.6 },
  'openai:gpt-4.1': { input_per_million: 2, output_per_million: 8 },
  'openai:gpt-4.1-mini': { input_per_million: 0.4, output_per_million: 1.6 },
  'openai:gpt-4.1-nano': { input_per_million: 0.1, output_per_million: 0.4 },
  'openai:o3-mini': { input_per_million: 1.1, output_per_million: 4.4 },
  'anthropic:claude-3-5-haiku-latest': { input_per_million: 0.8, output_per_million: 4 },
  'anthropic:claude-sonnet-4-0': { input_per_million: 3, output_per_million: 15 },
  'anthropic:claude-opus-4-0': { input_per_million: 15, output_per_million: 75 },
  // Local and self-hosted models cost nothing per token.
  'local:default': { input_per_million: 0, output_per_million: 0 },
};

/** Looks up prices and turns token counts into USD. */
export class PriceTable {
  private readonly prices: Record<string, ModelPrice>;

  constructor(overrides: PricingConfig = {}) {
    this.prices = { ...DEFAULT_PRICES, ...overrides };
  }

  /** The price of `provider:model`; `ollama:` models are free when not listed. */
  price(modelId: string): ModelPrice | undefined {
    const listed = this.prices[modelId];
    if (listed) return listed;
    return modelId.startsWith('ollama:') ? { input_per_million: 0, output_per_million: 0 } : undefined;
  }

  /** USD for the tokens; 0 for an unpriced model. */
  cost(modelId: string, inputTokens: number, outputTokens: number): number {
    const price = this.price(modelId);
    if (!price) return 0;
    return (inputTokens * price.input_per_million + outputTokens * price.output_per_million) / 1_000_000;
  }
}
