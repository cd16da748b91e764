/**
 * Keeps answering when the hosted model cannot: the primary provider (Bedrock) runs behind a circuit
 * breaker and a timeout; on failure the fallback (the local, retrieval-only model) answers and the
 * customer is told why the answer is plainer. Pure domain code: no AWS SDK.
 */
import { CircuitBreaker, CircuitOpenError } from '#core/circuitBreaker';
import {
  type AnswerRequest,
  type AnswerResult,
  type Clock,
  type ModelProvider,
  systemClock,
} from '#core/ports';

export const FALLBACK_DISCLAIMER =
  'Our AI assistant is temporarily limited, so this answer comes straight from our help center.';

export type FallbackReason = 'error' | 'timeout' | 'circuit-open';

export class ModelTimeoutError extends Error {
  override readonly name = 'ModelTimeoutError';
  constructor(
    readonly provider: string,
    readonly timeoutMs: number,
  ) {
    super(`Model provider '${provider}' did not answer within ${timeoutMs} ms`);
  }
}

export interface FallbackModelProviderOptions {
  readonly primary: ModelProvider;
  readonly fallback: ModelProvider;
  /**
   * Guards the primary; share one per process so every turn sees the same health.
   * @default 3 consecutive failures, 30 s cooldown, system clock
   */
  readonly breaker?: CircuitBreaker;
  /**
   * Longest wait for the primary before answering from the fallback.
   * @default 8000
   */
  readonly timeoutMs?: number;
  /** Told why the fallback answered, e.g. to log or emit a metric. */
  readonly onFallback?: (reason: FallbackReason, error: unknown) => void;
  /** Clock for the default breaker. @default systemClock */
  readonly clock?: Clock;
}

export class FallbackModelProvider implements ModelProvider {
  readonly name: string;
  readonly breaker: CircuitBreaker;
  private readonly primary: ModelProvider;
  private readonly fallback: ModelProvider;
  private readonly timeoutMs: number;
  private readonly onFallback: ((reason: FallbackReason, error: unknown) => void) | undefined;

  constructor(options: FallbackModelProviderOptions) {
    const timeoutMs = options.timeoutMs ?? 8000;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
      throw new Error(`timeoutMs must be a positive number, got ${timeoutMs}`);
    }
    this.primary = options.primary;
    this.fallback = options.fallback;
    this.timeoutMs = timeoutMs;
    this.onFallback = options.onFallback;
    this.breaker =
      options.breaker ??
      new CircuitBreaker({ failureThreshold: 3, cooldownMs: 30_000, clock: options.clock ?? systemClock });
    this.name = `${this.primary.name}+${this.fallback.name}`;
  }

  get systemPrompt(): string | undefined {
    return this.primary.systemPrompt ?? this.fallback.systemPrompt;
  }

  async answer(request: AnswerRequest): Promise<AnswerResult> {
    try {
      return await this.breaker.execute(() => this.answerWithinTimeout(request));
    } catch (error) {
      this.onFallback?.(reasonOf(error), error);
      const result = await this.fallback.answer(request);
      return { ...result, disclaimer: FALLBACK_DISCLAIMER };
    }
  }

  private async answerWithinTimeout(request: AnswerRequest): Promise<AnswerResult> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new ModelTimeoutError(this.primary.name, this.timeoutMs)),
        this.timeoutMs,
      );
    });
    try {
      return await Promise.race([this.primary.answer(request), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

const reasonOf = (error: unknown): FallbackReason => {
  if (error instanceof CircuitOpenError) return 'circuit-open';
  if (error instanceof ModelTimeoutError) return 'timeout';
  return 'error';
};
