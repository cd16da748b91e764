import { describe, expect, it } from 'vitest';
import type { DomainEvent, EventEnvelope } from '#core/domainEvents';
import {
  bucketUpdates,
  histogramBounds,
  histogramIndex,
  histogramOf,
  type MetricRow,
  mergeHistograms,
  percentile,
  summarize,
} from '#core/metricsAggregation';

/** Nearest-rank percentile of raw samples: the reference the histogram estimates. */
function exactPercentile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const relativeError = (estimate: number | null, exact: number) =>
  Math.abs((estimate ?? Number.NaN) - exact) / exact;

let nextId = 0;
function envelope(time: string, detail: DomainEvent): EventEnvelope {
  nextId++;
  return { id: `event-${nextId}`, source: 'supportmax', 'detail-type': detail.type, time, detail };
}

/** What the store holds after the events: increments summed per (bucket, metric). */
function storedRows(envelopes: readonly EventEnvelope[]): MetricRow[] {
  const sums = new Map<string, MetricRow>();
  for (const { bucket, metric, value } of envelopes.flatMap(bucketUpdates)) {
    const key = `${bucket}|${metric}`;
    sums.set(key, { bucket, metric, value: (sums.get(key)?.value ?? 0) + value });
  }
  return [...sums.values()];
}

const received = (conversationId: string, firstMessage = true): DomainEvent => ({
  type: 'MessageReceived',
  conversationId,
  messageId: `${conversationId}-m`,
  channel: 'chat',
  firstMessage,
});

const answered = (
  conversationId: string,
  intent: string,
  productArea: string,
  turnLatencyMs: number,
  costUsd = 0.0015,
): DomainEvent => ({
  type: 'MessageAnswered',
  conversationId,
  messageId: `${conversationId}-a`,
  intent,
  productArea,
  confidence: 0.9,
  faqIds: ['faq-1'],
  turnLatencyMs,
  retrievalLatencyMs: 30,
  modelLatencyMs: turnLatencyMs - 100,
  modelId: 'anthropic.claude-3-haiku-20240307-v1:0',
  inputTokens: 1200,
  outputTokens: 200,
  costUsd,
});

const escalated = (
  conversationId: string,
  intent: string,
  productArea: string,
  reason: 'low_confidence' | 'human_requested' | 'negative_sentiment_urgent',
  turnLatencyMs: number,
): DomainEvent => ({
  type: 'ConversationEscalated',
  conversationId,
  caseId: `case-${conversationId}`,
  reason,
  intent,
  productArea,
  confidence: 0.3,
  turnLatencyMs,
});

const resolved = (
  conversationId: string,
  resolvedBy: 'automated' | 'human',
  resolutionSeconds: number,
  intent?: string,
  productArea?: string,
): DomainEvent => ({
  type: 'ConversationResolved',
  conversationId,
  resolvedBy,
  resolutionSeconds,
  intent,
  productArea,
});

describe('log-scale histogram', () => {
  it.each([
    { shape: 'uniform 1..1000 ms', samples: Array.from({ length: 1000 }, (_, i) => i + 1) },
    { shape: 'long-tailed turn latencies', samples: Array.from({ length: 400 }, (_, i) => 80 * 1.02 ** i) },
    {
      shape: 'a few slow outliers',
      samples: [...Array.from({ length: 97 }, (_, i) => 300 + i), 9_000, 12_000, 45_000],
    },
  ])('estimates p50, p90, p95 and p99 within 10 percent of the exact value for $shape', ({ samples }) => {
    // Prepare
    const histogram = histogramOf(samples);

    // Act
    const errors = [50, 90, 95, 99].map((p) =>
      relativeError(percentile(histogram, p), exactPercentile(samples, p)),
    );

    // Assess
    for (const error of errors) expect(error).toBeLessThan(0.1);
  });

  it('merges histograms by adding counts, as if all samples were recorded in one', () => {
    // Prepare
    const morning = [120, 340, 560, 780, 2_000];
    const evening = [90, 95, 4_000, 15_000];

    // Act
    const merged = mergeHistograms([histogramOf(morning), histogramOf(evening)]);

    // Assess
    expect(merged).toEqual(histogramOf([...morning, ...evening]));
    expect(percentile(merged, 50)).toBe(percentile(histogramOf([...evening, ...morning]), 50));
  });

  it('puts every value from 1 ms to a day in a bucket at most 10 % wide that contains it', () => {
    // Prepare
    const values = [1, 1.1, 1.21, 999.999, 1000, 1000.001, 65_432.1, 86_399_999, 86_400_000];

    // Act
    const placed = values.map((value) => ({ value, bounds: histogramBounds(histogramIndex(value)) }));

    // Assess
    for (const { value, bounds } of placed) {
      expect(bounds[0]).toBeLessThanOrEqual(value);
      expect(value).toBeLessThan(bounds[1]);
      expect(bounds[1] / bounds[0]).toBeLessThanOrEqual(1.1 + 1e-9);
    }
  });

  it('has no percentile without samples', () => {
    // Act
    const p95 = percentile(new Map(), 95);

    // Assess
    expect(p95).toBeNull();
  });
});

describe('bucketUpdates', () => {
  it('counts an answered turn in its UTC hour and five-minute buckets', () => {
    // Prepare
    const event = envelope(
      '2024-05-01T10:07:30.000Z',
      answered('c-1', 'billing_refund', 'billing', 900, 0.001234),
    );

    // Act
    const updates = bucketUpdates(event);

    // Assess
    const latency = `latency.turn#${histogramIndex(900)}`;
    const counters = {
      answered: 1,
      'cost.micros': 1234,
      'tokens.in': 1200,
      'tokens.out': 200,
      [latency]: 1,
      'byIntent.billing_refund.answered': 1,
      'byArea.billing.answered': 1,
    };
    for (const bucket of ['2024-05-01T10', '2024-05-01T10:05']) {
      const inBucket = updates.filter((u) => u.bucket === bucket);
      expect(Object.fromEntries(inBucket.map((u) => [u.metric, u.value]))).toEqual(counters);
    }
    expect(updates).toHaveLength(14);
  });

  it('starts a conversation only with its first message', () => {
    // Prepare
    const first = envelope('2024-05-01T23:59:59.999Z', received('c-1', true));
    const followUp = envelope('2024-05-02T00:00:00.000Z', received('c-1', false));

    // Act
    const [firstUpdates, followUpUpdates] = [bucketUpdates(first), bucketUpdates(followUp)];

    // Assess
    expect(firstUpdates).toEqual([
      { bucket: '2024-05-01T23', metric: 'messages', value: 1 },
      { bucket: '2024-05-01T23', metric: 'conversations', value: 1 },
      { bucket: '2024-05-01T23:55', metric: 'messages', value: 1 },
      { bucket: '2024-05-01T23:55', metric: 'conversations', value: 1 },
    ]);
    expect(followUpUpdates).toEqual([
      { bucket: '2024-05-02T00', metric: 'messages', value: 1 },
      { bucket: '2024-05-02T00:00', metric: 'messages', value: 1 },
    ]);
  });

  it('counts an escalation with its reason, intent, product area and turn latency', () => {
    // Prepare
    const event = envelope(
      '2024-05-01T10:00:00Z',
      escalated('c-2', 'account_login', 'auth', 'low_confidence', 1500),
    );

    // Act
    const metrics = bucketUpdates(event)
      .filter((u) => u.bucket === '2024-05-01T10')
      .map((u) => u.metric);

    // Assess
    expect(metrics).toEqual([
      'escalated',
      `latency.turn#${histogramIndex(1500)}`,
      'reason.low_confidence',
      'byIntent.account_login.escalated',
      'byArea.auth.escalated',
    ]);
  });

  it('counts a human resolution without crediting its intent again', () => {
    // Prepare
    const event = envelope('2024-05-01T10:00:00Z', resolved('c-2', 'human', 3600, 'account_login', 'auth'));

    // Act
    const metrics = bucketUpdates(event)
      .filter((u) => u.bucket === '2024-05-01T10')
      .map((u) => u.metric);

    // Assess
    expect(metrics).toEqual(['resolved.human', `resolution#${histogramIndex(3600)}`]);
  });

  it('records first-response time and skips replies that are not the first', () => {
    // Prepare
    const reply = {
      type: 'AgentReplied',
      conversationId: 'c-2',
      caseId: 'case-2',
      agentName: 'Ana',
    } as const;

    // Act
    const first = bucketUpdates(envelope('2024-05-01T10:00:00Z', { ...reply, firstResponseSeconds: 240 }));
    const later = bucketUpdates(envelope('2024-05-01T10:00:00Z', reply));

    // Assess
    expect(first.map((u) => u.metric)).toEqual([
      `firstResponse#${histogramIndex(240)}`,
      `firstResponse#${histogramIndex(240)}`,
    ]);
    expect(later).toEqual([]);
  });

  it('leaves out zero increments such as the cost of the free local model', () => {
    // Prepare
    const event = envelope('2024-05-01T10:00:00Z', answered('c-1', 'billing_refund', 'billing', 700, 0));

    // Act
    const metrics = bucketUpdates(event).map((u) => u.metric);

    // Assess
    expect(metrics).not.toContain('cost.micros');
  });
});

describe('summarize', () => {
  const now = Date.parse('2024-05-01T12:30:00Z');
  // 10 conversations: c1-c6 resolved by the bot, c7-c9 escalated then resolved by an agent, c10 escalated
  // and still open. c1 and c2 ask a follow-up question, answered too: 8 answered turns at $0.0015 each.
  const answerLatencies = [400, 450, 500, 600, 700, 800, 1200, 2500];
  const escalationLatencies = [900, 1000, 1100, 3000];
  const resolutionSeconds = [60, 90, 120, 150, 180, 240, 1800, 3600, 7200];
  const intents = ['billing_refund', 'billing_refund', 'billing_refund', 'billing_refund', 'account_login'];
  const areaOf = (intent: string) => (intent === 'billing_refund' ? 'billing' : 'auth');
  const intentOf = (n: number) => intents[n - 1] ?? 'account_login';
  const events = [
    ...Array.from({ length: 10 }, (_, i) =>
      envelope(`2024-05-01T10:${String(5 * i).padStart(2, '0')}:00Z`, received(`c${i + 1}`)),
    ),
    ...[1, 2, 3, 4, 5, 6].map((n) =>
      envelope(
        '2024-05-01T10:55:00Z',
        answered(`c${n}`, intentOf(n), areaOf(intentOf(n)), answerLatencies[n - 1]!),
      ),
    ),
    envelope('2024-05-01T11:10:00Z', received('c1', false)),
    envelope('2024-05-01T11:10:00Z', received('c2', false)),
    envelope('2024-05-01T11:11:00Z', answered('c1', 'billing_refund', 'billing', answerLatencies[6]!)),
    envelope('2024-05-01T11:11:00Z', answered('c2', 'billing_refund', 'billing', answerLatencies[7]!)),
    envelope('2024-05-01T10:56:00Z', escalated('c7', 'billing_refund', 'billing', 'low_confidence', 900)),
    envelope('2024-05-01T10:56:00Z', escalated('c8', 'billing_refund', 'billing', 'low_confidence', 1000)),
    envelope('2024-05-01T10:57:00Z', escalated('c9', 'account_login', 'auth', 'human_requested', 1100)),
    envelope(
      '2024-05-01T10:58:00Z',
      escalated('c10', 'account_login', 'auth', 'negative_sentiment_urgent', 3000),
    ),
    ...[1, 2, 3, 4, 5, 6].map((n) =>
      envelope(
        '2024-05-01T11:20:00Z',
        resolved(`c${n}`, 'automated', resolutionSeconds[n - 1]!, intentOf(n), areaOf(intentOf(n))),
      ),
    ),
    ...[7, 8, 9].map((n) =>
      envelope('2024-05-01T11:40:00Z', resolved(`c${n}`, 'human', resolutionSeconds[n - 1]!)),
    ),
    // Two days earlier: outside every window but 7d.
    envelope('2024-04-29T12:00:00Z', received('old')),
  ];

  it('computes volumes, rates and costs of a scripted day exactly', () => {
    // Prepare
    const rows = storedRows(events);

    // Act
    const summary = summarize(rows, '24h', now);

    // Assess
    expect(summary).toMatchObject({
      window: '24h',
      conversations: 10,
      messages: 12,
      automationRate: 0.6,
      escalationRate: 0.4,
      costUsd: { total: 0.012, perConversation: 0.0012, perAutomatedResolution: 0.002 },
      byIntent: {
        account_login: { conversations: 4, automated: 2, escalated: 2 },
        billing_refund: { conversations: 6, automated: 4, escalated: 2 },
      },
      byProductArea: {
        auth: { conversations: 4, automated: 2, escalated: 2 },
        billing: { conversations: 6, automated: 4, escalated: 2 },
      },
      escalationReasons: { low_confidence: 2, human_requested: 1, negative_sentiment_urgent: 1 },
    });
  });

  it('reports latency and resolution percentiles within the histogram resolution', () => {
    // Prepare
    const rows = storedRows(events);
    const latencies = [...answerLatencies, ...escalationLatencies];

    // Act
    const { latencyMs, medianResolutionSeconds } = summarize(rows, '24h', now);

    // Assess
    expect(relativeError(latencyMs.p50, exactPercentile(latencies, 50))).toBeLessThan(0.1);
    expect(relativeError(latencyMs.p95, exactPercentile(latencies, 95))).toBeLessThan(0.1);
    expect(relativeError(latencyMs.p99, exactPercentile(latencies, 99))).toBeLessThan(0.1);
    expect(relativeError(medianResolutionSeconds, exactPercentile(resolutionSeconds, 50))).toBeLessThan(0.1);
  });

  it('gives one series point per hour of the 24h window, oldest first', () => {
    // Prepare
    const rows = storedRows(events);

    // Act
    const { series } = summarize(rows, '24h', now);

    // Assess
    expect(series).toHaveLength(24);
    expect(series[0]!.t).toBe('2024-04-30T13:00:00.000Z');
    expect(series[23]!.t).toBe('2024-05-01T12:00:00.000Z');
    const at = (t: string) => series.find((p) => p.t === t)!;
    expect(at('2024-05-01T10:00:00.000Z')).toMatchObject({
      messages: 10,
      conversations: 10,
      automated: 0,
      escalated: 4,
    });
    expect(at('2024-05-01T11:00:00.000Z')).toMatchObject({
      messages: 2,
      conversations: 0,
      automated: 6,
      escalated: 0,
    });
    expect(relativeError(at('2024-05-01T11:00:00.000Z').p95LatencyMs, 2500)).toBeLessThan(0.1);
    expect(at('2024-05-01T12:00:00.000Z')).toEqual({
      t: '2024-05-01T12:00:00.000Z',
      messages: 0,
      conversations: 0,
      automated: 0,
      escalated: 0,
      p95LatencyMs: null,
      costUsd: 0,
    });
  });

  it('counts only the last twelve five-minute buckets in the 1h window', () => {
    // Prepare: now is 12:30, so the window starts at 11:35: the 11:40 human resolutions are in it, the
    // 11:20 automated ones are not.
    const rows = storedRows(events);

    // Act
    const summary = summarize(rows, '1h', now);

    // Assess
    expect(summary.series.map((p) => p.t.slice(11, 16))).toEqual([
      '11:35',
      '11:40',
      '11:45',
      '11:50',
      '11:55',
      '12:00',
      '12:05',
      '12:10',
      '12:15',
      '12:20',
      '12:25',
      '12:30',
    ]);
    expect(summary).toMatchObject({ conversations: 0, messages: 0, automationRate: 0, escalationRate: 0 });
    expect(summary.series[1]).toMatchObject({ automated: 0, escalated: 0 });
    expect(relativeError(summary.medianResolutionSeconds, 3600)).toBeLessThan(0.1);
  });

  it('includes the earlier conversation in the 7d window', () => {
    // Prepare
    const rows = storedRows(events);

    // Act
    const summary = summarize(rows, '7d', now);

    // Assess
    expect(summary.series).toHaveLength(168);
    expect(summary).toMatchObject({ conversations: 11, messages: 13, escalationRate: 0.3636 });
    expect(summary.costUsd.perConversation).toBe(0.001091);
  });

  it('reports zeros, not NaN, for an empty window', () => {
    // Act
    const summary = summarize([], '24h', now);

    // Assess
    expect(summary).toEqual({
      window: '24h',
      conversations: 0,
      messages: 0,
      automationRate: 0,
      escalationRate: 0,
      medianResolutionSeconds: null,
      latencyMs: { p50: null, p95: null, p99: null },
      costUsd: { total: 0, perConversation: 0, perAutomatedResolution: null },
      byIntent: {},
      byProductArea: {},
      escalationReasons: {},
      cases: {
        opened: 0,
        openedByPriority: {},
        medianFirstResponseSeconds: null,
        slaBreaches: 0,
        slaBreachesByPriority: {},
        abandoned: 0,
      },
      tokenBudget: {},
      series: expect.any(Array),
    });
    expect(summary.series).toHaveLength(24);
    expect(summary.series.every((p) => p.messages === 0 && p.p95LatencyMs === null)).toBe(true);
  });
});

describe('case metrics', () => {
  const at = Date.parse('2026-03-02T09:30:00.000Z');
  const envelope = (id: string, detail: DomainEvent): EventEnvelope => ({
    id,
    source: 'supportmax',
    'detail-type': detail.type,
    time: new Date(at).toISOString(),
    detail,
  });

  it('counts opened cases and SLA breaches by priority, first responses and abandoned cases', () => {
    // Prepare
    const events: DomainEvent[] = [
      {
        type: 'CaseOpened',
        conversationId: 'c1',
        caseId: 'CS-1',
        priority: 'P1',
        queue: 'technical',
        level: 'L1',
        tier: 'enterprise',
        slaDueAt: new Date(at + 300_000).toISOString(),
      },
      {
        type: 'SlaBreached',
        conversationId: 'c1',
        caseId: 'CS-1',
        priority: 'P1',
        tier: 'enterprise',
        fromLevel: 'L1',
        toLevel: 'L2',
        overdueSeconds: 0,
        breaches: 1,
      },
      {
        type: 'AgentReplied',
        conversationId: 'c1',
        caseId: 'CS-1',
        agentName: 'Dana',
        firstResponseSeconds: 420,
      },
      { type: 'CaseAbandoned', conversationId: 'c2', caseId: 'CS-2', waitedSeconds: 60 },
    ];
    const rows = events.flatMap((e, i) =>
      bucketUpdates(envelope(`e${i}`, e)).map(({ bucket, metric, value }) => ({ bucket, metric, value })),
    );

    // Act
    const summary = summarize(rows, '1h', at + 60_000);

    // Assess
    expect(summary.cases.opened).toBe(1);
    expect(summary.cases.openedByPriority).toEqual({ P1: 1 });
    expect(summary.cases.slaBreaches).toBe(1);
    expect(summary.cases.slaBreachesByPriority).toEqual({ P1: 1 });
    expect(summary.cases.abandoned).toBe(1);
    expect(summary.cases.medianFirstResponseSeconds).toBeGreaterThan(300);
    expect(summary.cases.medianFirstResponseSeconds).toBeLessThan(600);
  });
});
