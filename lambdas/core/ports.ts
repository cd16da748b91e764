/**
 * Ports the domain depends on. Adapters (lambdas/adapters) implement them for AWS and for the local face;
 * the domain never knows which one it runs with.
 */

/** Turns texts into unit-length sentence vectors. */
export interface Embedder {
  readonly dimensions: number;
  embed(texts: readonly string[]): Promise<Float32Array[]>;
}

export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A FAQ passage given to the model as grounding. */
export interface GroundingPassage {
  readonly faqId: string;
  readonly question: string;
  readonly answer: string;
}

export interface AnswerRequest {
  /** The customer's message, PII already masked. */
  readonly question: string;
  /** Earlier turns of the conversation, oldest first, PII already masked. */
  readonly history: readonly { readonly role: 'customer' | 'assistant'; readonly text: string }[];
  readonly passages: readonly GroundingPassage[];
  /** 'simple' routes to the cheap model, 'complex' to the strong one. */
  readonly complexity: 'simple' | 'complex';
  readonly maxOutputTokens?: number;
  /**
   * The question looks like instructions to the model (the prompt guard judged it suspicious): providers
   * must present it strictly as quoted data.
   */
  readonly fenceQuestion?: boolean;
}

export interface ModelUsage {
  readonly modelId: string;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly costUsd: number;
  readonly latencyMs: number;
}

export interface AnswerResult {
  readonly text: string;
  /** FAQ ids the answer relies on. */
  readonly citedFaqIds: readonly string[];
  readonly usage: ModelUsage;
  /** Which provider produced the text, e.g. 'local' or 'bedrock'. */
  readonly provider: string;
  /** Set when a fallback produced the answer; shown to the customer. */
  readonly disclaimer?: string;
}

/** Composes a grounded answer from retrieved passages. */
export interface ModelProvider {
  readonly name: string;
  /** The instructions the model is given, if any: replies that reproduce them are filtered. */
  readonly systemPrompt?: string;
  answer(request: AnswerRequest): Promise<AnswerResult>;
}
