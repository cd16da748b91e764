/**
 * SLA policy of escalated cases: the first-response target by priority and customer tier, and what happens
 * when a target passes unanswered (the case moves L1 → L2 → L3 with half the target each time). Plans are
 * plain data with absolute due times, so a workflow that restarts (or replays a step) recomputes the
 * remaining wait from the stored plan instead of starting the clock again.
 */
import { z } from 'zod';
import type { CustomerTier } from './crm';
import type { Priority } from './supportRecords';
import { PRIORITIES } from './triageRules';

export const SUPPORT_LEVELS = ['L1', 'L2', 'L3'] as const;
export type SupportLevel = (typeof SUPPORT_LEVELS)[number];

export type SlaTier = CustomerTier | 'unknown';
export type FirstResponseMinutes = Record<Priority, Record<SlaTier, number>>;
export type FirstResponseOverrides = { readonly [P in Priority]?: { readonly [T in SlaTier]?: number } };

/**
 * Minutes until the first human response, by priority and tier. Enterprise targets follow the 24/7 premium
 * support promise; an unknown customer (no CRM match) gets the basic target.
 */
export const DEFAULT_FIRST_RESPONSE_MINUTES: FirstResponseMinutes = {
  P1: { enterprise: 5, pro: 15, basic: 30, unknown: 30 },
  P2: { enterprise: 30, pro: 60, basic: 120, unknown: 120 },
  P3: { enterprise: 120, pro: 240, basic: 480, unknown: 480 },
  P4: { enterprise: 480, pro: 1440, basic: 2880, unknown: 2880 },
};

export interface SlaPlan {
  readonly level: SupportLevel;
  /** Epoch milliseconds at which the current target is breached. */
  readonly dueAt: number;
  readonly targetSeconds: number;
  /** How many targets have passed unanswered so far. */
  readonly breaches: number;
}

export interface SlaPolicyOptions {
  /** Replaces single cells of the default table. @default DEFAULT_FIRST_RESPONSE_MINUTES */
  readonly firstResponseMinutes?: FirstResponseOverrides;
  /** Multiplies every duration (0.01 turns 5 minutes into 3 s for tests and demos). @default 1 */
  readonly timeScale?: number;
}

/** One month: a longer first-response target is a typo, not a policy. */
const MAX_TARGET_MINUTES = 43_200;

const targetMinutes = z.number().positive().max(MAX_TARGET_MINUTES);
const tierRow = z
  .object({ enterprise: targetMinutes, pro: targetMinutes, basic: targetMinutes, unknown: targetMinutes })
  .partial()
  .strict();
export const slaOverridesSchema = z
  .object({ P1: tierRow, P2: tierRow, P3: tierRow, P4: tierRow })
  .partial()
  .strict();

const pathOf = (source: string, path: readonly (string | number)[]) =>
  path.reduce<string>((acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : `${acc}.${key}`), source);

function validOverrides(raw: unknown, source: string): FirstResponseOverrides {
  const parsed = slaOverridesSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues
    .slice(0, 5)
    .map((issue) => `${pathOf(source, issue.path)}: ${issue.message}`);
  throw new Error(
    `${source} is not a valid first-response table (minutes by priority and tier): ${problems.join('; ')}`,
  );
}

/** Parses operator overrides such as `{"P1":{"enterprise":10}}`; errors name the bad field. */
export function parseSlaOverrides(
  json: string,
  source = 'SLA_FIRST_RESPONSE_MINUTES',
): FirstResponseOverrides {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (error) {
    throw new Error(`${source} is not valid JSON: ${(error as Error).message}`);
  }
  return validOverrides(raw, source);
}

const DAY_SECONDS = 24 * 60 * 60;

const NEXT_LEVEL: Record<SupportLevel, SupportLevel> = { L1: 'L2', L2: 'L3', L3: 'L3' };

export class SlaPolicy {
  private readonly minutes: FirstResponseMinutes;
  private readonly timeScale: number;

  constructor(options: SlaPolicyOptions = {}) {
    const scale = options.timeScale ?? 1;
    if (!(scale > 0 && scale <= 1000)) throw new Error(`timeScale must be > 0 and <= 1000, got ${scale}`);
    this.timeScale = scale;
    const overrides = validOverrides(options.firstResponseMinutes ?? {}, 'firstResponseMinutes');
    this.minutes = Object.fromEntries(
      PRIORITIES.map((p) => [p, { ...DEFAULT_FIRST_RESPONSE_MINUTES[p], ...overrides[p] }]),
    ) as FirstResponseMinutes;
  }

  /** The scaled first-response target in whole seconds (at least 1). */
  firstResponseSeconds(priority: Priority, tier: SlaTier): number {
    return Math.max(1, Math.round(this.scaledSeconds(priority, tier)));
  }

  /** A new case waits at L1 for the first-response target. */
  initial(priority: Priority, tier: SlaTier, openedAt: number): SlaPlan {
    const targetSeconds = this.firstResponseSeconds(priority, tier);
    return { level: 'L1', dueAt: openedAt + targetSeconds * 1000, targetSeconds, breaches: 0 };
  }

  /**
   * The target passed unanswered: the next level gets half the first-response target. L3 stays L3 and
   * re-alerts with a doubling interval (capped at a day), so a case nobody takes keeps paging without
   * flooding, and its workflow's history stays far below Step Functions' 25,000-event limit.
   */
  afterBreach(plan: SlaPlan, priority: Priority, tier: SlaTier, now: number): SlaPlan {
    const half = this.scaledSeconds(priority, tier) / 2;
    const breaches = plan.breaches + 1;
    const backoff = plan.level === 'L3' ? 2 ** Math.min(breaches - 2, 20) : 1;
    const targetSeconds = Math.max(
      1,
      Math.round(Math.min(half * backoff, Math.max(half, DAY_SECONDS * this.timeScale))),
    );
    return {
      level: NEXT_LEVEL[plan.level],
      dueAt: now + targetSeconds * 1000,
      targetSeconds,
      breaches,
    };
  }

  /**
   * Whole seconds from now until the plan is due, at least 1 (Step Functions' TimeoutSecondsPath needs an
   * integer >= 1). Rounded up so the timer never fires before the target has passed.
   */
  timeoutSeconds(plan: SlaPlan, now: number): number {
    if (!Number.isFinite(plan.dueAt) || !Number.isFinite(now))
      throw new Error(`SLA plan dueAt and now must be epoch milliseconds, got ${plan.dueAt} and ${now}`);
    return Math.max(1, Math.ceil((plan.dueAt - now) / 1000));
  }

  private scaledSeconds(priority: Priority, tier: SlaTier): number {
    const row = this.minutes[priority];
    if (!row)
      throw new Error(`Unknown priority ${String(priority)}; expected one of ${PRIORITIES.join(', ')}`);
    // A tier the CRM invents later falls back to the unknown-customer target rather than failing a case.
    const minutes = row[tier] ?? row.unknown;
    return minutes * 60 * this.timeScale;
  }
}
