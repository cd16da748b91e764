/**
 * Token-bucket rate limiting per key (an IP, a connection id). Pure: time comes from the injected Clock and
 * no timers run; a bucket is refilled lazily when its key is next used. The key map is bounded: past
 * `maxKeys` the least recently used key is forgotten (it starts again with a full bucket), so a flood of
 * distinct keys costs bounded memory. The local face uses it at its gateway; on AWS, API Gateway stage
 * throttling and the WAF rate rule do this job.
 */
import type { Clock } from './ports';

export interface TokenBucketOptions {
  /** Largest burst: tokens a full bucket holds. Must be ≥ 1. */
  readonly capacity: number;
  /** Sustained rate: tokens added per second. Must be > 0. */
  readonly refillPerSecond: number;
  readonly clock: Clock;
  /** Keys remembered at once; the least recently used is evicted beyond this. @default 10000 */
  readonly maxKeys?: number;
}

export interface TakeResult {
  readonly allowed: boolean;
  /** 0 when allowed; else how long until `cost` tokens are available again. */
  readonly retryAfterMs: number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export class TokenBucketLimiter {
  readonly capacity: number;
  readonly refillPerSecond: number;
  private readonly clock: Clock;
  private readonly maxKeys: number;
  /** Insertion order is recency order: a used key is moved to the end. */
  private readonly buckets = new Map<string, Bucket>();

  constructor(options: TokenBucketOptions) {
    if (!Number.isFinite(options.capacity) || options.capacity < 1) {
      throw new Error(`capacity must be a finite number ≥ 1, got ${options.capacity}`);
    }
    if (!Number.isFinite(options.refillPerSecond) || options.refillPerSecond <= 0) {
      throw new Error(`refillPerSecond must be a finite number > 0, got ${options.refillPerSecond}`);
    }
    const maxKeys = options.maxKeys ?? 10_000;
    if (!Number.isInteger(maxKeys) || maxKeys < 1) {
      throw new Error(`maxKeys must be an integer ≥ 1, got ${maxKeys}`);
    }
    this.capacity = options.capacity;
    this.refillPerSecond = options.refillPerSecond;
    this.clock = options.clock;
    this.maxKeys = maxKeys;
  }

  /** Keys currently remembered. */
  get size(): number {
    return this.buckets.size;
  }

  take(key: string, cost = 1): TakeResult {
    if (!(cost > 0 && cost <= this.capacity)) {
      throw new Error(`cost must be within (0, capacity = ${this.capacity}], got ${cost}`);
    }
    const now = this.clock.now();
    const bucket = this.bucketOf(key, now);
    // A clock that steps back (NTP) must not mint tokens or make them negative.
    const elapsedMs = Math.max(0, now - bucket.updatedAt);
    bucket.tokens = Math.min(this.capacity, bucket.tokens + (elapsedMs * this.refillPerSecond) / 1000);
    bucket.updatedAt = Math.max(bucket.updatedAt, now);
    if (bucket.tokens >= cost) {
      bucket.tokens -= cost;
      return { allowed: true, retryAfterMs: 0 };
    }
    return {
      allowed: false,
      // The epsilon absorbs float noise (0.999 tokens short by 1.0000000000000009 ms).
      retryAfterMs: Math.max(1, Math.ceil(((cost - bucket.tokens) * 1000) / this.refillPerSecond - 1e-9)),
    };
  }

  /** Drops a key, e.g. when its connection closes. */
  forget(key: string): void {
    this.buckets.delete(key);
  }

  private bucketOf(key: string, now: number): Bucket {
    const existing = this.buckets.get(key);
    if (existing) {
      this.buckets.delete(key);
      this.buckets.set(key, existing);
      return existing;
    }
    if (this.buckets.size >= this.maxKeys) {
      const oldest = this.buckets.keys().next();
      if (!oldest.done) this.buckets.delete(oldest.value);
    }
    const fresh = { tokens: this.capacity, updatedAt: now };
    this.buckets.set(key, fresh);
    return fresh;
  }
}
