import { afterEach, describe, expect, it, vi } from 'vitest';
import { CircuitBreaker } from '#core/circuitBreaker';
import {
  FALLBACK_DISCLAIMER,
  FallbackModelProvider,
  type FallbackReason,
  ModelTimeoutError,
} from '#core/fallbackModelProvider';
import type { AnswerRequest, AnswerResult, ModelProvider } from '#core/ports';

const fakeClock = () => {
  let now = 0;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
};

const request: AnswerRequest = {
  question: 'How do I reset my password?',
  history: [],
  passages: [{ faqId: 'pw-reset', question: 'Reset password?', answer: 'Use "Forgot password".' }],
  complexity: 'simple',
};

const resultFrom = (provider: string, text: string): AnswerResult => ({
  text,
  citedFaqIds: ['pw-reset'],
  provider,
  usage: { modelId: provider, inputTokens: 10, outputTokens: 5, costUsd: 0, latencyMs: 1 },
});

/** A provider whose behaviour the test scripts; counts calls. */
const scriptedProvider = (name: string, answer: () => Promise<AnswerResult>) => {
  const provider = {
    name,
    calls: 0,
    answer: () => {
      provider.calls += 1;
      return answer();
    },
  };
  return provider satisfies ModelProvider;
};

const healthy = (name: string) => scriptedProvider(name, async () => resultFrom(name, `${name} answer`));
const broken = (name: string, error: unknown = new Error(`${name} down`)) =>
  scriptedProvider(name, () => Promise.reject(error));

const setup = (primary: ModelProvider, fallback: ModelProvider = healthy('local'), failureThreshold = 2) => {
  const clock = fakeClock();
  const reasons: FallbackReason[] = [];
  const breaker = new CircuitBreaker({ failureThreshold, cooldownMs: 60_000, clock });
  const provider = new FallbackModelProvider({
    primary,
    fallback,
    breaker,
    timeoutMs: 5_000,
    onFallback: (reason) => reasons.push(reason),
  });
  return { clock, breaker, provider, reasons };
};

afterEach(() => {
  vi.useRealTimers();
});

describe('FallbackModelProvider', () => {
  it("returns the primary's answer without a disclaimer while it is healthy", async () => {
    // Prepare
    const primary = healthy('bedrock');
    const { provider, reasons } = setup(primary);

    // Act
    const result = await provider.answer(request);

    // Assess
    expect(result.text).toBe('bedrock answer');
    expect(result.provider).toBe('bedrock');
    expect(result.disclaimer).toBeUndefined();
    expect(reasons).toEqual([]);
  });

  it('answers from the help center with a disclaimer when the primary fails', async () => {
    // Prepare
    const { provider, reasons } = setup(broken('bedrock'));

    // Act
    const result = await provider.answer(request);

    // Assess
    expect(result.text).toBe('local answer');
    expect(result.provider).toBe('local');
    expect(result.disclaimer).toBe(FALLBACK_DISCLAIMER);
    expect(reasons).toEqual(['error']);
  });

  it('falls back when the primary does not answer within the timeout', async () => {
    // Prepare
    vi.useFakeTimers();
    const primary = scriptedProvider('bedrock', () => new Promise<AnswerResult>(() => undefined));
    const { provider, reasons } = setup(primary);

    // Act
    const pending = provider.answer(request);
    await vi.advanceTimersByTimeAsync(5_000);
    const result = await pending;

    // Assess
    expect(result.provider).toBe('local');
    expect(result.disclaimer).toBe(FALLBACK_DISCLAIMER);
    expect(reasons).toEqual(['timeout']);
  });

  it('stops calling the primary once the breaker opens, and retries it after the cooldown', async () => {
    // Prepare
    const primary = broken('bedrock');
    const { provider, clock, breaker, reasons } = setup(primary, healthy('local'), 2);
    await provider.answer(request);
    await provider.answer(request);

    // Act
    const whileOpen = await provider.answer(request);
    const callsWhileOpen = primary.calls;
    clock.advance(60_000);
    await provider.answer(request);

    // Assess
    expect(whileOpen.disclaimer).toBe(FALLBACK_DISCLAIMER);
    expect(callsWhileOpen).toBe(2);
    expect(primary.calls).toBe(3);
    expect(reasons).toEqual(['error', 'error', 'circuit-open', 'error']);
    expect(breaker.state).toBe('open');
  });

  it('counts a timeout as a primary failure', async () => {
    // Prepare
    vi.useFakeTimers();
    const primary = scriptedProvider('bedrock', () => new Promise<AnswerResult>(() => undefined));
    const { provider, breaker } = setup(primary, healthy('local'), 1);

    // Act
    const pending = provider.answer(request);
    await vi.advanceTimersByTimeAsync(5_000);
    await pending;

    // Assess
    expect(breaker.state).toBe('open');
  });

  it("surfaces the fallback's error only when both providers fail", async () => {
    // Prepare
    const { provider } = setup(broken('bedrock'), broken('local', new Error('index missing')));

    // Act
    const attempt = provider.answer(request);

    // Assess
    await expect(attempt).rejects.toThrow('index missing');
  });

  it('names itself after both providers and validates the timeout', () => {
    // Prepare
    const options = { primary: healthy('bedrock'), fallback: healthy('local') };

    // Act
    const provider = new FallbackModelProvider(options);
    const badTimeout = () => new FallbackModelProvider({ ...options, timeoutMs: 0 });

    // Assess
    expect(provider.name).toBe('bedrock+local');
    expect(badTimeout).toThrow(/timeoutMs/);
    expect(new ModelTimeoutError('bedrock', 5).message).toMatch(/bedrock.*5 ms/);
  });
});
