import { describe, expect, it } from 'vitest';
import { CircuitBreaker, CircuitOpenError, isThrottlingError } from '#core/circuitBreaker';

const fakeClock = (start = 1_000_000) => {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
};

function failing(error: unknown = new Error('boom')) {
  return () => Promise.reject(error);
}
function succeeding<T>(value: T) {
  return () => Promise.resolve(value);
}
const throttling = () => Object.assign(new Error('Too many requests'), { name: 'ThrottlingException' });

const breakerWith = (failureThreshold = 3, cooldownMs = 10_000) => {
  const clock = fakeClock();
  return { clock, breaker: new CircuitBreaker({ failureThreshold, cooldownMs, clock }) };
};

describe('CircuitBreaker', () => {
  it('passes results and errors through while closed', async () => {
    // Prepare
    const { breaker } = breakerWith();

    // Act
    const value = await breaker.execute(succeeding(42));
    const failure = breaker.execute(failing(new Error('nope')));

    // Assess
    expect(value).toBe(42);
    await expect(failure).rejects.toThrow('nope');
    expect(breaker.state).toBe('closed');
  });

  it('opens after the threshold of consecutive failures and stops calling the dependency', async () => {
    // Prepare
    const { breaker } = breakerWith(3);
    for (let i = 0; i < 3; i++) await breaker.execute(failing()).catch(() => undefined);
    let calls = 0;

    // Act
    const attempt = breaker.execute(async () => {
      calls += 1;
      return 'unreachable';
    });

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(CircuitOpenError);
    expect(calls).toBe(0);
    expect(breaker.state).toBe('open');
  });

  it('forgets earlier failures after a success', async () => {
    // Prepare
    const { breaker } = breakerWith(3);
    await breaker.execute(failing()).catch(() => undefined);
    await breaker.execute(failing()).catch(() => undefined);

    // Act
    await breaker.execute(succeeding('ok'));
    await breaker.execute(failing()).catch(() => undefined);
    await breaker.execute(failing()).catch(() => undefined);

    // Assess
    expect(breaker.state).toBe('closed');
  });

  it('opens on the first throttling error', async () => {
    // Prepare
    const { breaker } = breakerWith(5);

    // Act
    await breaker.execute(failing(throttling())).catch(() => undefined);

    // Assess
    expect(breaker.state).toBe('open');
  });

  it('tells how long until the next trial when rejecting', async () => {
    // Prepare
    const { breaker, clock } = breakerWith(1, 10_000);
    await breaker.execute(failing()).catch(() => undefined);
    clock.advance(4_000);

    // Act
    const error = await breaker.execute(succeeding(1)).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(CircuitOpenError);
    expect((error as CircuitOpenError).retryAfterMs).toBe(6_000);
  });

  it('lets exactly one trial call through once the cooldown has passed', async () => {
    // Prepare
    const { breaker, clock } = breakerWith(1, 10_000);
    await breaker.execute(failing()).catch(() => undefined);
    clock.advance(10_000);
    let release: (value: string) => void = () => undefined;
    const trialCall = new Promise<string>((resolve) => {
      release = resolve;
    });

    // Act
    const stateBefore = breaker.state;
    const trial = breaker.execute(() => trialCall);
    const concurrent = breaker.execute(succeeding('second'));

    // Assess
    expect(stateBefore).toBe('half-open');
    await expect(concurrent).rejects.toBeInstanceOf(CircuitOpenError);
    release('first');
    await expect(trial).resolves.toBe('first');
    expect(breaker.state).toBe('closed');
  });

  it('reopens for a full cooldown when the trial call fails', async () => {
    // Prepare
    const { breaker, clock } = breakerWith(3, 10_000);
    await breaker.execute(failing(throttling())).catch(() => undefined);
    clock.advance(10_000);

    // Act
    await breaker.execute(failing()).catch(() => undefined);

    // Assess
    expect(breaker.state).toBe('open');
    clock.advance(9_999);
    expect(breaker.state).toBe('open');
    clock.advance(1);
    expect(breaker.state).toBe('half-open');
  });

  it('rejects nonsensical options with a clear message', () => {
    // Prepare
    const clock = fakeClock();

    // Act
    const zeroThreshold = () => new CircuitBreaker({ failureThreshold: 0, cooldownMs: 1, clock });
    const negativeCooldown = () => new CircuitBreaker({ failureThreshold: 1, cooldownMs: -1, clock });

    // Assess
    expect(zeroThreshold).toThrow(/failureThreshold/);
    expect(negativeCooldown).toThrow(/cooldownMs/);
  });

  it('recognises throttling by error name or HTTP 429', () => {
    // Act
    const verdicts = [
      isThrottlingError(throttling()),
      isThrottlingError({ name: 'Whatever', $metadata: { httpStatusCode: 429 } }),
      isThrottlingError(new Error('ValidationException')),
      isThrottlingError('ThrottlingException'),
    ];

    // Assess
    expect(verdicts).toEqual([true, true, false, false]);
  });
});
