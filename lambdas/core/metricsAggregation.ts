/**
 * Operational metrics math, one definition for both faces: the domain events that feed the Powertools EMF
 * metrics also become counter increments in time buckets (DynamoDB on AWS and locally), which `summarize`
 * turns into the /api/metrics object. Pure: no AWS SDK, no clock; the store is a port.
 *
 * Buckets: UTC hours 'YYYY-MM-DDTHH' (kept) and five-minute slots 'YYYY-MM-DDTHH:MM' (short-lived, for the
 * 1h window only). Every event increments the same counters in both, so any window is a sum of buckets.
 * A window is its N most recent buckets including the current, partial one: 1h = 12 five-minute slots,
 * 24h = 24 hours, 7d = 168 hours; `series` has one point per bucket.
 *
 * Definitions (all counted by event time, within the window):
 * - conversations: conversations started (MessageReceived with firstMessage).
 * - messages: customer messages received.
 * - automationRate = resolved.automated / (resolved.automated + escalated): of the conversations that
 *   reached an outcome, the share the bot resolved. Every escalation counts against automation once, when
 *   it happens, whether or not the agent has resolved it yet (so human resolutions are not counted again);
 *   conversations still with the bot count in neither. 0 when there is no outcome yet.
 * - escalationRate = escalated / conversations (0 without conversations). Escalations of conversations
 *   started before the window can push it above 1 in a short window.
 * - medianResolutionSeconds: median of ConversationResolved.resolutionSeconds (bot and human); null if none.
 * - latencyMs: p50/p95/p99 of turn latency (answered and escalated turns); null if no turn.
 * - costUsd: total model cost; perConversation = total / conversations (0 without conversations);
 *   perAutomatedResolution = total / resolved.automated (null without automated resolutions).
 * - tokenBudget: answered turns whose prompt the token budget changed, per action (one turn can count under
 *   several actions).
 * - byIntent / byProductArea: conversations by outcome, conversations = automated + escalated (the intent is
 *   known only once the bot has classified a turn); groups without an outcome are left out.
 * Rates are rounded to 4 decimals, money to micro-dollars, latencies and durations to whole units.
 *
 * Histograms: fixed log-scale boundaries growing by 10 % from 1 to 86,400,000 (1 ms to 1 day for
 * latencies; read in seconds the same boundaries cover resolution times up to years). Fixed boundaries mean
 * histograms merge by adding counts, so they are stored as plain counters `<family>#<bucketIndex>`.
 * Percentiles interpolate linearly within a bucket: relative error below 10 % for values of 1 and above.
 */
import type { DomainEvent, EventEnvelope } from './domainEvents';

// ---------------------------------------------------------------------------------------------------------
// Log-scale histogram

export const HISTOGRAM_GROWTH = 1.1;
/** The top of the last regular bucket is the first boundary at or above this (1 day in ms). */
export const HISTOGRAM_TOP = 86_400_000;
const LOG_GROWTH = Math.log(HISTOGRAM_GROWTH);
const REGULAR_BUCKETS = Math.ceil(Math.log(HISTOGRAM_TOP) / LOG_GROWTH);
/** Index 0 holds values below 1; indexes 1..REGULAR_BUCKETS the log buckets; the last one overflow. */
export const HISTOGRAM_SIZE = REGULAR_BUCKETS + 2;
const OVERFLOW = HISTOGRAM_SIZE - 1;

/** Bucket index → count; absent indexes count 0. */
export type Histogram = ReadonlyMap<number, number>;

/** [lower, upper) of a bucket; the overflow bucket has zero width (it reports its lower bound). */
export function histogramBounds(index: number): readonly [number, number] {
  if (!(Number.isInteger(index) && index >= 0 && index < HISTOGRAM_SIZE)) {
    throw new RangeError(`histogram bucket index must be an integer in [0, ${HISTOGRAM_SIZE}), got ${index}`);
  }
  if (index === 0) return [0, 1];
  const lower = HISTOGRAM_GROWTH ** (index - 1);
  return [lower, index === OVERFLOW ? lower : HISTOGRAM_GROWTH ** index];
}

/** The bucket holding `value`; NaN and negative values land in bucket 0. */
export function histogramIndex(value: number): number {
  if (!(value >= 1)) return 0;
  let index = Math.min(OVERFLOW, Math.floor(Math.log(value) / LOG_GROWTH) + 1);
  // log() rounding can put a value sitting on a boundary one bucket off; the bounds decide.
  while (index > 1 && value < histogramBounds(index)[0]) index--;
  while (index < OVERFLOW && value >= histogramBounds(index)[1]) index++;
  return index;
}

export function histogramOf(values: Iterable<number>): Histogram {
  const histogram = new Map<number, number>();
  for (const value of values) {
    const index = histogramIndex(value);
    histogram.set(index, (histogram.get(index) ?? 0) + 1);
  }
  return histogram;
}

export function mergeHistograms(histograms: Iterable<Histogram>): Histogram {
  const merged = new Map<number, number>();
  for (const histogram of histograms) {
    for (const [index, count] of histogram) merged.set(index, (merged.get(index) ?? 0) + count);
  }
  return merged;
}

/** The p-th percentile (0..100), interpolated within its bucket; null for an empty histogram. */
export function percentile(histogram: Histogram, p: number): number | null {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within [0, 100], got ${p}`);
  const buckets = [...histogram].filter(([, count]) => count > 0).sort(([a], [b]) => a - b);
  const total = buckets.reduce((sum, [, count]) => sum + count, 0);
  if (total === 0) return null;
  const rank = (p / 100) * total;
  let below = 0;
  for (const [index, count] of buckets) {
    if (below + count >= rank) {
      const [lower, upper] = histogramBounds(index);
      return lower + ((upper - lower) * Math.max(0, rank - below)) / count;
    }
    below += count;
  }
  // Unreachable: the last bucket always satisfies below + count >= rank.
  return histogramBounds(buckets[buckets.length - 1]![0])[1];
}

// ---------------------------------------------------------------------------------------------------------
// Time buckets and windows

export type MetricsWindow = '1h' | '24h' | '7d';
export const METRICS_WINDOWS: readonly MetricsWindow[] = ['1h', '24h', '7d'];

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const SLOT_MS = 5 * MINUTE_MS;

const WINDOW_SHAPE: Record<MetricsWindow, { readonly stepMs: number; readonly buckets: number }> = {
  '1h': { stepMs: SLOT_MS, buckets: 12 },
  '24h': { stepMs: HOUR_MS, buckets: 24 },
  '7d': { stepMs: HOUR_MS, buckets: 168 },
};

/** UTC hour bucket 'YYYY-MM-DDTHH' of an epoch-ms instant. */
export const hourBucket = (ms: number): string => new Date(ms).toISOString().slice(0, 13);

/** UTC five-minute bucket 'YYYY-MM-DDTHH:MM' (MM a multiple of 5) of an epoch-ms instant. */
export const fiveMinuteBucket = (ms: number): string =>
  new Date(Math.floor(ms / SLOT_MS) * SLOT_MS).toISOString().slice(0, 16);

const HOUR_KEY = /^\d{4}-\d{2}-\d{2}T\d{2}$/;
const SLOT_KEY = /^\d{4}-\d{2}-\d{2}T\d{2}:[0-5][05]$/;

/** Epoch ms at which a bucket starts. */
export function bucketStart(bucket: string): number {
  const ms = HOUR_KEY.test(bucket)
    ? Date.parse(`${bucket}:00:00Z`)
    : SLOT_KEY.test(bucket)
      ? Date.parse(`${bucket}:00Z`)
      : Number.NaN;
  if (Number.isNaN(ms))
    throw new Error(`'${bucket}' is not a metrics bucket ('YYYY-MM-DDTHH' or 'YYYY-MM-DDTHH:MM')`);
  return ms;
}

const stepOf = (bucket: string) => (HOUR_KEY.test(bucket) ? HOUR_MS : SLOT_MS);

/** Largest range `bucketsBetween` enumerates: a month of hours. */
export const MAX_BUCKETS_PER_READ = 31 * 24;

/** Every bucket from `from` to `to` inclusive, oldest first; both must have the same granularity. */
export function bucketsBetween(from: string, to: string): string[] {
  const start = bucketStart(from);
  const end = bucketStart(to);
  const stepMs = stepOf(from);
  if (stepOf(to) !== stepMs) throw new Error(`buckets '${from}' and '${to}' have different granularities`);
  const count = Math.floor((end - start) / stepMs) + 1;
  if (count < 1) return [];
  if (count > MAX_BUCKETS_PER_READ) {
    throw new Error(`${count} buckets from '${from}' to '${to}': at most ${MAX_BUCKETS_PER_READ} per read`);
  }
  const format = stepMs === HOUR_MS ? hourBucket : fiveMinuteBucket;
  return Array.from({ length: count }, (_, i) => format(start + i * stepMs));
}

/** The buckets of a window ending at `now`, oldest first. */
export function windowBuckets(window: MetricsWindow, now: number): string[] {
  const { stepMs, buckets } = WINDOW_SHAPE[window];
  const format = stepMs === HOUR_MS ? hourBucket : fiveMinuteBucket;
  const current = Math.floor(now / stepMs) * stepMs;
  return Array.from({ length: buckets }, (_, i) => format(current - (buckets - 1 - i) * stepMs));
}

// ---------------------------------------------------------------------------------------------------------
// Events → counter increments

/** Adds `value` to counter `metric` of time bucket `bucket`. */
export interface MetricIncrement {
  readonly bucket: string;
  readonly metric: string;
  readonly value: number;
}

/** A stored counter: the sum of every increment to (bucket, metric). */
export type MetricRow = MetricIncrement;

/** Where the counters live: DynamoDB on both faces (dynalite locally). */
export interface MetricsStore {
  /**
   * Applies the increments of one event at most once per `eventId` (events arrive at least once).
   * Resolves false, changing nothing, for an event already counted. `dedupeUntil` (epoch seconds) is how
   * long the store must remember the id.
   */
  increment(
    updates: readonly MetricIncrement[],
    event: { readonly eventId: string; readonly dedupeUntil: number },
  ): Promise<boolean>;
  /** Every counter of the buckets from `fromBucket` to `toBucket` inclusive (same granularity). */
  read(fromBucket: string, toBucket: string): Promise<MetricRow[]>;
}

/** Counter keys; histogram families are stored as `<family>#<bucketIndex>`. */
export const METRIC_KEYS = {
  messages: 'messages',
  conversations: 'conversations',
  answered: 'answered',
  escalated: 'escalated',
  resolvedAutomated: 'resolved.automated',
  resolvedHuman: 'resolved.human',
  costMicros: 'cost.micros',
  tokensIn: 'tokens.in',
  tokensOut: 'tokens.out',
  turnLatency: 'latency.turn',
  resolution: 'resolution',
  firstResponse: 'firstResponse',
  slaBreaches: 'sla.breaches',
  casesOpened: 'cases.opened',
  casesAbandoned: 'cases.abandoned',
  /** `budget.<action>`: prompts the token budget trimmed, by action. */
  tokenBudget: 'budget',
} as const;

type Outcome = 'answered' | 'escalated' | 'automated';
const byIntentKey = (intent: string, outcome: Outcome) => `byIntent.${intent}.${outcome}`;
const byAreaKey = (area: string, outcome: Outcome) => `byArea.${area}.${outcome}`;
const reasonKey = (reason: string) => `reason.${reason}`;
const histogramKey = (family: string, value: number) => `${family}#${histogramIndex(value)}`;

/** Counter changes one event makes, independent of its time bucket. */
function eventCounters(event: DomainEvent): [string, number][] {
  const K = METRIC_KEYS;
  switch (event.type) {
    case 'MessageReceived':
      return event.firstMessage
        ? [
            [K.messages, 1],
            [K.conversations, 1],
          ]
        : [[K.messages, 1]];
    case 'MessageAnswered':
      return [
        [K.answered, 1],
        [K.costMicros, Math.round(event.costUsd * 1_000_000)],
        [K.tokensIn, event.inputTokens],
        [K.tokensOut, event.outputTokens],
        [histogramKey(K.turnLatency, event.turnLatencyMs), 1],
        [byIntentKey(event.intent, 'answered'), 1],
        [byAreaKey(event.productArea, 'answered'), 1],
        ...(event.budgetActions ?? []).map((action): [string, number] => [`${K.tokenBudget}.${action}`, 1]),
      ];
    case 'ConversationEscalated':
      return [
        [K.escalated, 1],
        [histogramKey(K.turnLatency, event.turnLatencyMs), 1],
        [reasonKey(event.reason), 1],
        [byIntentKey(event.intent, 'escalated'), 1],
        [byAreaKey(event.productArea, 'escalated'), 1],
      ];
    case 'AgentReplied':
      return event.firstResponseSeconds === undefined
        ? []
        : [[histogramKey(K.firstResponse, event.firstResponseSeconds), 1]];
    case 'ConversationResolved': {
      const automated = event.resolvedBy === 'automated';
      const counters: [string, number][] = [
        [automated ? K.resolvedAutomated : K.resolvedHuman, 1],
        [histogramKey(K.resolution, event.resolutionSeconds), 1],
      ];
      // Human resolutions were already counted per intent/area when the conversation escalated.
      if (automated && event.intent) counters.push([byIntentKey(event.intent, 'automated'), 1]);
      if (automated && event.productArea) counters.push([byAreaKey(event.productArea, 'automated'), 1]);
      return counters;
    }
    case 'CaseOpened':
      return [
        [K.casesOpened, 1],
        [`${K.casesOpened}.${event.priority}`, 1],
      ];
    case 'SlaBreached':
      return [
        [K.slaBreaches, 1],
        [`${K.slaBreaches}.${event.priority}`, 1],
      ];
    case 'CaseAbandoned':
      return [[K.casesAbandoned, 1]];
  }
}

/** The increments an event makes: the same counters in its hour bucket and in its five-minute bucket. */
export function bucketUpdates(envelope: EventEnvelope): MetricIncrement[] {
  const time = Date.parse(envelope.time);
  if (Number.isNaN(time)) throw new Error(`event ${envelope.id} has an invalid time '${envelope.time}'`);
  const counters = eventCounters(envelope.detail).filter(([, value]) => value !== 0);
  return [hourBucket(time), fiveMinuteBucket(time)].flatMap((bucket) =>
    counters.map(([metric, value]) => ({ bucket, metric, value })),
  );
}

// ---------------------------------------------------------------------------------------------------------
// Counters → API summary

export interface OutcomeBreakdown {
  readonly conversations: number;
  readonly automated: number;
  readonly escalated: number;
}

export interface LatencyPercentiles {
  readonly p50: number | null;
  readonly p95: number | null;
  readonly p99: number | null;
}

export interface SeriesPoint {
  /** ISO start of the bucket. */
  readonly t: string;
  readonly messages: number;
  readonly conversations: number;
  readonly automated: number;
  readonly escalated: number;
  readonly p95LatencyMs: number | null;
  /** Model cost of the bucket, USD. */
  readonly costUsd: number;
}

/** The GET /api/metrics body. */
export interface MetricsSummary {
  readonly window: MetricsWindow;
  readonly conversations: number;
  readonly messages: number;
  readonly automationRate: number;
  readonly escalationRate: number;
  readonly medianResolutionSeconds: number | null;
  readonly latencyMs: LatencyPercentiles;
  readonly costUsd: {
    readonly total: number;
    readonly perConversation: number;
    readonly perAutomatedResolution: number | null;
  };
  readonly byIntent: Record<string, OutcomeBreakdown>;
  readonly byProductArea: Record<string, OutcomeBreakdown>;
  readonly escalationReasons: Record<string, number>;
  /** The human side: cases the escalation workflow opened, first responses, SLA breaches, abandonment. */
  readonly cases: {
    readonly opened: number;
    readonly openedByPriority: Record<string, number>;
    readonly medianFirstResponseSeconds: number | null;
    readonly slaBreaches: number;
    readonly slaBreachesByPriority: Record<string, number>;
    readonly abandoned: number;
  };
  /** Prompts the token budget changed, by action (history_trimmed, passages_trimmed, …). */
  readonly tokenBudget: Record<string, number>;
  readonly series: SeriesPoint[];
}

const round = (value: number, decimals: number) => {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
};
const ratio = (part: number, whole: number) => (whole > 0 ? round(part / whole, 4) : 0);
const roundOrNull = (value: number | null) => (value === null ? null : Math.round(value));

/** Counter sums of one or more buckets. */
class Tally {
  private readonly counters = new Map<string, number>();

  add(metric: string, value: number): void {
    this.counters.set(metric, (this.counters.get(metric) ?? 0) + value);
  }

  get(metric: string): number {
    return this.counters.get(metric) ?? 0;
  }

  histogram(family: string): Histogram {
    const histogram = new Map<number, number>();
    const prefix = `${family}#`;
    for (const [metric, count] of this.counters) {
      if (!metric.startsWith(prefix)) continue;
      const index = Number(metric.slice(prefix.length));
      if (Number.isInteger(index) && index >= 0 && index < HISTOGRAM_SIZE) histogram.set(index, count);
    }
    return histogram;
  }

  /** `<prefix>.<name>.<field>` counters as name → field → value. */
  grouped(prefix: string): Map<string, Map<string, number>> {
    const groups = new Map<string, Map<string, number>>();
    for (const [metric, value] of this.counters) {
      if (!metric.startsWith(`${prefix}.`)) continue;
      const rest = metric.slice(prefix.length + 1);
      const dot = rest.lastIndexOf('.');
      if (dot <= 0) continue;
      const name = rest.slice(0, dot);
      const fields = groups.get(name) ?? new Map<string, number>();
      fields.set(rest.slice(dot + 1), value);
      groups.set(name, fields);
    }
    return groups;
  }

  /** `<prefix>.<name>` counters as name → value. */
  named(prefix: string): Record<string, number> {
    const named: Record<string, number> = {};
    for (const [metric, value] of this.counters) {
      if (metric.startsWith(`${prefix}.`) && value !== 0) named[metric.slice(prefix.length + 1)] = value;
    }
    return named;
  }
}

function outcomes(tally: Tally, prefix: string): Record<string, OutcomeBreakdown> {
  const breakdown: Record<string, OutcomeBreakdown> = {};
  const groups = [...tally.grouped(prefix)].sort(([a], [b]) => a.localeCompare(b));
  for (const [name, fields] of groups) {
    const automated = fields.get('automated') ?? 0;
    const escalated = fields.get('escalated') ?? 0;
    if (automated + escalated > 0) {
      breakdown[name] = { conversations: automated + escalated, automated, escalated };
    }
  }
  return breakdown;
}

/** The API object for `window` ending at `now` (epoch ms) from the rows of its buckets. */
export function summarize(rows: readonly MetricRow[], window: MetricsWindow, now: number): MetricsSummary {
  const K = METRIC_KEYS;
  const buckets = windowBuckets(window, now);
  const perBucket = new Map(buckets.map((bucket) => [bucket, new Tally()]));
  const total = new Tally();
  for (const row of rows) {
    const tally = perBucket.get(row.bucket);
    if (!tally || row.metric.startsWith('seen#') || !Number.isFinite(row.value)) continue;
    tally.add(row.metric, row.value);
    total.add(row.metric, row.value);
  }

  const conversations = total.get(K.conversations);
  const automated = total.get(K.resolvedAutomated);
  const escalated = total.get(K.escalated);
  const costMicros = total.get(K.costMicros);
  const latency = total.histogram(K.turnLatency);

  return {
    window,
    conversations,
    messages: total.get(K.messages),
    automationRate: ratio(automated, automated + escalated),
    escalationRate: ratio(escalated, conversations),
    medianResolutionSeconds: roundOrNull(percentile(total.histogram(K.resolution), 50)),
    latencyMs: {
      p50: roundOrNull(percentile(latency, 50)),
      p95: roundOrNull(percentile(latency, 95)),
      p99: roundOrNull(percentile(latency, 99)),
    },
    costUsd: {
      total: round(costMicros / 1_000_000, 6),
      perConversation: conversations > 0 ? round(costMicros / 1_000_000 / conversations, 6) : 0,
      perAutomatedResolution: automated > 0 ? round(costMicros / 1_000_000 / automated, 6) : null,
    },
    byIntent: outcomes(total, 'byIntent'),
    byProductArea: outcomes(total, 'byArea'),
    escalationReasons: total.named('reason'),
    cases: {
      opened: total.get(K.casesOpened),
      openedByPriority: total.named(K.casesOpened),
      medianFirstResponseSeconds: roundOrNull(percentile(total.histogram(K.firstResponse), 50)),
      slaBreaches: total.get(K.slaBreaches),
      slaBreachesByPriority: total.named(K.slaBreaches),
      abandoned: total.get(K.casesAbandoned),
    },
    tokenBudget: total.named(K.tokenBudget),
    series: buckets.map((bucket) => {
      const tally = perBucket.get(bucket)!;
      return {
        t: new Date(bucketStart(bucket)).toISOString(),
        messages: tally.get(K.messages),
        conversations: tally.get(K.conversations),
        automated: tally.get(K.resolvedAutomated),
        escalated: tally.get(K.escalated),
        p95LatencyMs: roundOrNull(percentile(tally.histogram(K.turnLatency), 95)),
        costUsd: round(tally.get(K.costMicros) / 1_000_000, 6),
      };
    }),
  };
}
