import { describe, expect, it } from 'vitest';
import { TokenBucketLimiter } from '#core/rateLimiter';

const fakeClock = (start = 1_000_000) => {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
};

describe('TokenBucketLimiter', () => {
  it('admits a full burst, then refuses with the time until the next token', () => {
    // Prepare
    const clock = fakeClock();
    const limiter = new TokenBucketLimiter({ capacity: 3, refillPerSecond: 2, clock });

    // Act
    const results = Array.from({ length: 4 }, () => limiter.take('ip-1'));

    // Assess
    expect(results.map((r) => r.allowed)).toEqual([true, true, true, false]);
    expect(results[3]!.retryAfterMs).toBe(500);
    expect(results[0]!.retryAfterMs).toBe(0);
  });

  it('refills at the sustained rate and never above the capacity', () => {
    // Prepare
    const clock = fakeClock();
    const limiter = new TokenBucketLimiter({ capacity: 2, refillPerSecond: 1, clock });
    limiter.take('k');
    limiter.take('k');

    // Act
    clock.advance(999);
    const tooEarly = limiter.take('k');
    clock.advance(1);
    const onTime = limiter.take('k');
    clock.advance(60_000);
    const afterIdle = [limiter.take('k'), limiter.take('k'), limiter.take('k')];

    // Assess
    expect(tooEarly).toEqual({ allowed: false, retryAfterMs: 1 });
    expect(onTime.allowed).toBe(true);
    expect(afterIdle.map((r) => r.allowed)).toEqual([true, true, false]);
  });

  it('keeps separate buckets per key', () => {
    // Prepare
    const clock = fakeClock();
    const limiter = new TokenBucketLimiter({ capacity: 1, refillPerSecond: 1, clock });

    // Act
    const a = [limiter.take('a'), limiter.take('a')];
    const b = limiter.take('b');

    // Assess
    expect(a.map((r) => r.allowed)).toEqual([true, false]);
    expect(b.allowed).toBe(true);
  });

  it('charges a cost of several tokens and reports how long until that many are back', () => {
    // Prepare
    const clock = fakeClock();
    const limiter = new TokenBucketLimiter({ capacity: 10, refillPerSecond: 4, clock });

    // Act
    const big = limiter.take('k', 8);
    const tooBig = limiter.take('k', 5);

    // Assess
    expect(big.allowed).toBe(true);
    expect(tooBig).toEqual({ allowed: false, retryAfterMs: 750 });
  });

  it('forgets the least recently used key beyond maxKeys, keeping memory bounded', () => {
    // Prepare
    const clock = fakeClock();
    const limiter = new TokenBucketLimiter({ capacity: 1, refillPerSecond: 0.001, clock, maxKeys: 3 });
    for (const key of ['a', 'b', 'c']) limiter.take(key);
    limiter.take('a'); // refused, but marks 'a' as recently used

    // Act
    limiter.take('d'); // evicts 'b', the least recently used
    const aStillLimited = limiter.take('a');
    const bStartsFresh = limiter.take('b'); // evicts 'c'

    // Assess
    expect(limiter.size).toBe(3);
    expect(aStillLimited.allowed).toBe(false);
    expect(bStartsFresh.allowed).toBe(true);
  });

  it('holds 100,000 distinct keys in a bounded map', () => {
    // Prepare
    const clock = fakeClock();
    const limiter = new TokenBucketLimiter({ capacity: 5, refillPerSecond: 1, clock, maxKeys: 1000 });

    // Act
    for (let i = 0; i < 100_000; i++) limiter.take(`10.0.${i >> 8}.${i & 255}`);

    // Assess
    expect(limiter.size).toBe(1000);
  });

  it('starts a forgotten key with a full bucket', () => {
    // Prepare
    const clock = fakeClock();
    const limiter = new TokenBucketLimiter({ capacity: 1, refillPerSecond: 0.01, clock });
    limiter.take('conn');

    // Act
    limiter.forget('conn');
    const again = limiter.take('conn');

    // Assess
    expect(again.allowed).toBe(true);
  });

  it('mints no tokens when the clock steps backwards', () => {
    // Prepare
    const clock = fakeClock();
    const limiter = new TokenBucketLimiter({ capacity: 1, refillPerSecond: 1, clock });
    limiter.take('k');

    // Act
    clock.advance(-10_000);
    const afterStepBack = limiter.take('k');
    clock.advance(10_000);
    const atOriginalTime = limiter.take('k');

    // Assess
    expect(afterStepBack.allowed).toBe(false);
    expect(atOriginalTime.allowed).toBe(false);
  });

  it.each([
    [{ capacity: 0, refillPerSecond: 1 }, /capacity/],
    [{ capacity: Number.NaN, refillPerSecond: 1 }, /capacity/],
    [{ capacity: 5, refillPerSecond: 0 }, /refillPerSecond/],
    [{ capacity: 5, refillPerSecond: Number.POSITIVE_INFINITY }, /refillPerSecond/],
    [{ capacity: 5, refillPerSecond: 1, maxKeys: 0 }, /maxKeys/],
  ])('rejects invalid options %o', (options, message) => {
    // Act + Assess
    expect(() => new TokenBucketLimiter({ ...options, clock: fakeClock() })).toThrow(message);
  });

  it('rejects a cost above the capacity, which could never be admitted', () => {
    // Prepare
    const limiter = new TokenBucketLimiter({ capacity: 2, refillPerSecond: 1, clock: fakeClock() });

    // Act + Assess
    expect(() => limiter.take('k', 3)).toThrow(/cost/);
    expect(() => limiter.take('k', 0)).toThrow(/cost/);
  });
});
