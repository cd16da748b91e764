/**
 * The local gateway's edge rate limits, standing in for API Gateway throttling and the WAF rate rule: token
 * buckets per source IP (connects, REST, frames) and per connection (frames), and the abuse meter that closes
 * a connection whose rejected frames show sustained flooding.
 */
import { type TakeResult, TokenBucketLimiter } from '#core/rateLimiter';

/** A token bucket: `capacity` requests at once, refilled at `refillPerSecond`. */
export interface RateLimit {
  readonly capacity: number;
  readonly refillPerSecond: number;
}

export interface GatewayRateLimits {
  /** WebSocket upgrades per source IP; over it the upgrade is refused with 429. */
  readonly connectPerIp?: RateLimit;
  /**
   * Frames per connection and per source IP; over either, the gateway answers a `RateLimited` error frame
   * itself (no handler runs) and keeps the connection, until a connection's rejected frames within 10 s
   * exceed ten times what its limit admits in 10 s: then it is closed with 1008.
   */
  readonly messagesPerConnection?: RateLimit;
  readonly messagesPerIp?: RateLimit;
  /** REST requests per source IP; over it 429 `RateLimited` with Retry-After. */
  readonly restPerIp?: RateLimit;
}

/** The client's own id, when the frame carries a well-formed one (read without parsing the whole frame). */
const CLIENT_MESSAGE_ID = /"clientMessageId"\s*:\s*"([A-Za-z0-9_.:-]{1,100})"/;

export function rateLimitedFrame(body: string, retryAfterMs: number): string {
  const clientMessageId = CLIENT_MESSAGE_ID.exec(body.slice(0, 64 * 1024))?.[1];
  return JSON.stringify({
    type: 'error',
    code: 'RateLimited',
    message: `Too many messages; retry after ${retryAfterMs} ms`,
    retryAfterMs,
    ...(clientMessageId ? { clientMessageId } : {}),
  });
}

/** How long rejected frames are counted before a connection counts as abusive. */
const ABUSE_WINDOW_MS = 10_000;
/** A connection is closed once its rejected frames exceed this many times what its limit admits. */
const ABUSE_FACTOR = 10;
const monotonicClock = { now: () => performance.now() };
const ALLOWED: TakeResult = { allowed: true, retryAfterMs: 0 };

/** The optional edge limits: one token-bucket limiter per kind, keyed by source IP or connection id. */
export class EdgeRateLimits {
  private readonly connect: TokenBucketLimiter | undefined;
  private readonly perConnection: TokenBucketLimiter | undefined;
  private readonly perIp: TokenBucketLimiter | undefined;
  private readonly rest: TokenBucketLimiter | undefined;
  /** Rejected frames per ABUSE_WINDOW_MS past which a connection is closed. */
  private readonly abuseThreshold: number;

  constructor(limits: GatewayRateLimits = {}) {
    const limiter = (name: string, limit: RateLimit | undefined) => {
      if (!limit) return undefined;
      try {
        return new TokenBucketLimiter({ ...limit, clock: monotonicClock });
      } catch (error) {
        throw new Error(`rateLimits.${name}: ${(error as Error).message}`);
      }
    };
    this.connect = limiter('connectPerIp', limits.connectPerIp);
    this.perConnection = limiter('messagesPerConnection', limits.messagesPerConnection);
    this.perIp = limiter('messagesPerIp', limits.messagesPerIp);
    this.rest = limiter('restPerIp', limits.restPerIp);
    const frameLimit = limits.messagesPerConnection ?? limits.messagesPerIp;
    this.abuseThreshold = frameLimit
      ? ABUSE_FACTOR * (frameLimit.capacity + (frameLimit.refillPerSecond * ABUSE_WINDOW_MS) / 1000)
      : Number.POSITIVE_INFINITY;
  }

  admitConnect(ip: string): TakeResult {
    return this.connect?.take(ip) ?? ALLOWED;
  }

  admitRest(ip: string): TakeResult {
    return this.rest?.take(ip) ?? ALLOWED;
  }

  /** The connection's own bucket first, so one noisy connection does not drain its neighbours' IP budget. */
  admitFrame(connectionId: string, ip: string): TakeResult {
    const own = this.perConnection?.take(connectionId) ?? ALLOWED;
    return own.allowed ? (this.perIp?.take(ip) ?? ALLOWED) : own;
  }

  forgetConnection(connectionId: string): void {
    this.perConnection?.forget(connectionId);
  }

  /** Counts one connection's rejected frames; `rejected()` is true once they amount to sustained abuse. */
  abuseMeter(): { rejected(): boolean } {
    let windowStart = monotonicClock.now();
    let count = 0;
    const threshold = this.abuseThreshold;
    return {
      rejected() {
        const now = monotonicClock.now();
        if (now - windowStart >= ABUSE_WINDOW_MS) {
          windowStart = now;
          count = 0;
        }
        count++;
        return count > threshold;
      },
    };
  }
}
