/**
 * The local face's edge rate limits: defaults, and RATE_LIMIT_* environment overrides validated once at
 * start (README "Configuration"). On AWS, API Gateway stage throttling and the WAF rate rule do this job.
 */
import { z } from 'zod';
import type { GatewayRateLimits, RateLimit } from './gateway';

/** Generous for a person or a chatbot integration; a script hammering one socket or IP is slowed down. */
export const DEFAULT_RATE_LIMITS = {
  connectPerIp: { capacity: 10, refillPerSecond: 20 / 60 },
  messagesPerConnection: { capacity: 10, refillPerSecond: 2 },
  messagesPerIp: { capacity: 40, refillPerSecond: 10 },
  restPerIp: { capacity: 60, refillPerSecond: 20 },
} as const satisfies Required<GatewayRateLimits>;

/** One limit's two variables: the sustained rate (0 = no limit) and the burst. */
const LIMIT_VARIABLES = {
  connectPerIp: { rate: 'RATE_LIMIT_CONNECT_PER_MINUTE', burst: 'RATE_LIMIT_CONNECT_BURST', perMinute: true },
  messagesPerConnection: {
    rate: 'RATE_LIMIT_MESSAGES_PER_CONNECTION',
    burst: 'RATE_LIMIT_MESSAGES_PER_CONNECTION_BURST',
    perMinute: false,
  },
  messagesPerIp: {
    rate: 'RATE_LIMIT_MESSAGES_PER_IP',
    burst: 'RATE_LIMIT_MESSAGES_PER_IP_BURST',
    perMinute: false,
  },
  restPerIp: { rate: 'RATE_LIMIT_REST_PER_IP', burst: 'RATE_LIMIT_REST_PER_IP_BURST', perMinute: false },
} as const;

const rate = z.coerce.number().finite().min(0, 'must be ≥ 0 (0 turns the limit off)');
const burst = z.coerce.number().int('must be a whole number').min(1, 'must be ≥ 1');

/**
 * The limits for this process: RATE_LIMITS=off disables all; each RATE_LIMIT_* variable overrides its
 * default. Throws one message naming every bad variable.
 */
export function rateLimitsFromEnv(env: NodeJS.ProcessEnv = process.env): GatewayRateLimits {
  const switch_ = (env.RATE_LIMITS ?? 'on').trim().toLowerCase();
  if (switch_ === 'off') return {};
  const problems: string[] = [];
  if (switch_ !== 'on') problems.push(`RATE_LIMITS: must be "on" or "off", got "${env.RATE_LIMITS}"`);
  const limits: Record<string, RateLimit> = {};
  for (const [name, vars] of Object.entries(LIMIT_VARIABLES)) {
    const fallback: RateLimit = DEFAULT_RATE_LIMITS[name as keyof typeof LIMIT_VARIABLES];
    const read = <T>(variable: string, schema: z.ZodType<T>, defaultValue: T): T => {
      const raw = env[variable];
      if (raw === undefined || raw.trim() === '') return defaultValue;
      const parsed = schema.safeParse(raw);
      if (parsed.success) return parsed.data;
      problems.push(`${variable}: ${parsed.error.issues[0]?.message ?? 'invalid'} (got "${raw}")`);
      return defaultValue;
    };
    const unit = vars.perMinute ? 60 : 1;
    const perUnit = read(vars.rate, rate, fallback.refillPerSecond * unit);
    const capacity = read(vars.burst, burst, fallback.capacity);
    if (perUnit > 0) limits[name] = { capacity, refillPerSecond: perUnit / unit };
  }
  if (problems.length) throw new Error(`rate limit configuration: ${problems.join('; ')}`);
  return limits as GatewayRateLimits;
}
