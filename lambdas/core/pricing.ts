/**
 * Bedrock on-demand prices used for per-answer cost metrics. Pure domain code: no AWS SDK.
 * Prices are USD per 1,000 tokens (us-east-1 on-demand list prices); bump PRICE_TABLE_VERSION
 * whenever a rate changes so stored cost metrics can be traced back to the table that produced them.
 */

export const PRICE_TABLE_VERSION = '2025-06-01';

export interface ModelPrice {
  /** USD per 1,000 input tokens. */
  readonly inputPer1k: number;
  /** USD per 1,000 output tokens. */
  readonly outputPer1k: number;
}

export const MODEL_PRICES: Readonly<Record<string, ModelPrice>> = {
  'anthropic.claude-3-haiku-20240307-v1:0': { inputPer1k: 0.00025, outputPer1k: 0.00125 },
  'anthropic.claude-3-5-haiku-20241022-v1:0': { inputPer1k: 0.0008, outputPer1k: 0.004 },
  'anthropic.claude-3-5-sonnet-20241022-v2:0': { inputPer1k: 0.003, outputPer1k: 0.015 },
  'anthropic.claude-sonnet-4-20250514-v1:0': { inputPer1k: 0.003, outputPer1k: 0.015 },
  'amazon.nova-micro-v1:0': { inputPer1k: 0.000035, outputPer1k: 0.00014 },
  'amazon.nova-lite-v1:0': { inputPer1k: 0.00006, outputPer1k: 0.00024 },
  // Embeddings are billed on input only.
  'amazon.titan-embed-text-v2:0': { inputPer1k: 0.00002, outputPer1k: 0 },
  // The in-process model of the local face.
  local: { inputPer1k: 0, outputPer1k: 0 },
};

/** Cross-region inference profiles ('us.anthropic…', 'eu.amazon…') are billed like the base model. */
const INFERENCE_PROFILE_PREFIX = /^(?:us|us-gov|eu|apac|ca|jp|au|global)\./;

/** The base model id of an inference-profile id; base ids pass through unchanged. */
export const baseModelId = (modelId: string): string => modelId.replace(INFERENCE_PROFILE_PREFIX, '');

export const priceOf = (modelId: string): ModelPrice => {
  const price = MODEL_PRICES[baseModelId(modelId)];
  if (!price) {
    throw new Error(
      `No price for model '${modelId}' in price table ${PRICE_TABLE_VERSION}; add it to lambdas/core/pricing.ts`,
    );
  }
  return price;
};

/** USD cost of one call. Throws for a model missing from the table rather than reporting a silent $0. */
export const costUsd = (modelId: string, inputTokens: number, outputTokens: number): number => {
  if (!(inputTokens >= 0 && outputTokens >= 0)) {
    throw new Error(`Token counts must be non-negative, got input=${inputTokens} output=${outputTokens}`);
  }
  const price = priceOf(modelId);
  return (inputTokens / 1000) * price.inputPer1k + (outputTokens / 1000) * price.outputPer1k;
};

/**
 * Rough token count for budgeting and for providers that report no usage: about 4 characters per token
 * for English text with Claude/Titan-style tokenizers. Good to ±25 %; never use it for billing.
 */
export const estimateTokens = (text: string): number => Math.ceil(text.length / 4);
