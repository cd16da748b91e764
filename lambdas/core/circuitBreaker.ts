/**
 * Circuit breaker guarding a flaky dependency (the hosted model). Pure domain code: time comes from the
 * injected Clock, state changes happen only inside execute() or when `state` is read — no timers.
 *
 * closed ──N consecutive failures or a throttling error──▶ open ──cooldown elapsed──▶ half-open
 * half-open ──trial succeeds──▶ closed;  half-open ──trial fails──▶ open (cooldown restarts)
 */
import type { Clock } from '#core/ports';

export type CircuitState = 'closed' | 'open' | 'half-open';

export class CircuitOpenError extends Error {
  override readonly name = 'CircuitOpenError';
  constructor(
    /** Milliseconds until a trial call will be let through (0 while a trial is in flight). */
    readonly retryAfterMs: number,
  ) {
    super(`Circuit is open; retry in ${retryAfterMs} ms`);
  }
}

/**
 * Throttling means the provider is shedding load: retrying right away only deepens it, so it opens the
 * circuit at once. Matched by shape so the domain stays free of SDK imports.
 */
export const isThrottlingError = (error: unknown): boolean => {
  if (typeof error !== 'object' || error === null) return false;
  const { name, $metadata } = error as { name?: unknown; $metadata?: { httpStatusCode?: unknown } };
  return (
    name === 'ThrottlingException' ||
    name === 'TooManyRequestsException' ||
    name === 'ServiceQuotaExceededException' ||
    $metadata?.httpStatusCode === 429
  );
};

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. Must be ≥ 1. */
  readonly failureThreshold: number;
  /** How long the circuit stays open before one trial call is allowed. */
  readonly cooldownMs: number;
  readonly clock: Clock;
  /**
   * Errors that open the circuit on their own, regardless of the failure count.
   * @default isThrottlingError
   */
  readonly opensImmediately?: (error: unknown) => boolean;
}

export class CircuitBreaker {
  private readonly failureThreshold: number;
  private readonly cooldownMs: number;
  private readonly clock: Clock;
  private readonly opensImmediately: (error: unknown) => boolean;
  private consecutiveFailures = 0;
  private openedAt: number | undefined;
  private trialInFlight = false;

  constructor(options: CircuitBreakerOptions) {
    if (!Number.isInteger(options.failureThreshold) || options.failureThreshold < 1) {
      throw new Error(`failureThreshold must be an integer ≥ 1, got ${options.failureThreshold}`);
    }
    if (!Number.isFinite(options.cooldownMs) || options.cooldownMs < 0) {
      throw new Error(`cooldownMs must be a finite number ≥ 0, got ${options.cooldownMs}`);
    }
    this.failureThreshold = options.failureThreshold;
    this.cooldownMs = options.cooldownMs;
    this.clock = options.clock;
    this.opensImmediately = options.opensImmediately ?? isThrottlingError;
  }

  get state(): CircuitState {
    if (this.openedAt === undefined) return 'closed';
    return this.clock.now() - this.openedAt >= this.cooldownMs ? 'half-open' : 'open';
  }

  async execute<T>(fn: () => Promise<T>): Promise<T> {
    const state = this.state;
    if (state === 'open') {
      throw new CircuitOpenError(this.cooldownMs - (this.clock.now() - (this.openedAt ?? 0)));
    }
    if (state === 'half-open') {
      // Only one trial probes the dependency; everyone else keeps using the fallback meanwhile.
      if (this.trialInFlight) throw new CircuitOpenError(0);
      this.trialInFlight = true;
    }
    try {
      const result = await fn();
      this.onSuccess();
      return result;
    } catch (error) {
      this.onFailure(error, state === 'half-open');
      throw error;
    } finally {
      if (state === 'half-open') this.trialInFlight = false;
    }
  }

  private onSuccess(): void {
    this.consecutiveFailures = 0;
    this.openedAt = undefined;
  }

  private onFailure(error: unknown, wasTrial: boolean): void {
    this.consecutiveFailures += 1;
    if (wasTrial || this.consecutiveFailures >= this.failureThreshold || this.opensImmediately(error)) {
      this.openedAt = this.clock.now();
    }
  }
}
