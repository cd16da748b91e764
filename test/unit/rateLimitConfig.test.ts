import { describe, expect, it } from 'vitest';
import { DEFAULT_RATE_LIMITS, rateLimitsFromEnv } from '#local/rateLimitConfig';

describe('rateLimitsFromEnv', () => {
  it('uses the defaults when nothing is set', () => {
    // Act
    const limits = rateLimitsFromEnv({});

    // Assess
    expect(limits).toEqual(DEFAULT_RATE_LIMITS);
    expect(limits.connectPerIp).toEqual({ capacity: 10, refillPerSecond: 20 / 60 });
  });

  it('overrides a rate and a burst, connections per minute and the rest per second', () => {
    // Act
    const limits = rateLimitsFromEnv({
      RATE_LIMIT_CONNECT_PER_MINUTE: '120',
      RATE_LIMIT_MESSAGES_PER_IP: '1000',
      RATE_LIMIT_MESSAGES_PER_IP_BURST: '2000',
    });

    // Assess
    expect(limits.connectPerIp).toEqual({ capacity: 10, refillPerSecond: 2 });
    expect(limits.messagesPerIp).toEqual({ capacity: 2000, refillPerSecond: 1000 });
    expect(limits.messagesPerConnection).toEqual(DEFAULT_RATE_LIMITS.messagesPerConnection);
  });

  it('turns one limit off with rate 0, and all of them with RATE_LIMITS=off', () => {
    // Act
    const oneOff = rateLimitsFromEnv({ RATE_LIMIT_REST_PER_IP: '0' });
    const allOff = rateLimitsFromEnv({ RATE_LIMITS: 'off', RATE_LIMIT_REST_PER_IP: 'garbage' });

    // Assess
    expect(oneOff.restPerIp).toBeUndefined();
    expect(oneOff.messagesPerIp).toBeDefined();
    expect(allOff).toEqual({});
  });

  it('names every bad variable in one error', () => {
    // Act + Assess
    expect(() =>
      rateLimitsFromEnv({
        RATE_LIMIT_MESSAGES_PER_IP: 'fast',
        RATE_LIMIT_REST_PER_IP_BURST: '0',
        RATE_LIMITS: 'maybe',
      }),
    ).toThrow(/RATE_LIMITS: .*RATE_LIMIT_MESSAGES_PER_IP: .*RATE_LIMIT_REST_PER_IP_BURST: must be ≥ 1/);
  });
});
