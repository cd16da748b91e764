/**
 * Operations acceptance: a scripted support day (test/fixtures/replay-day.json, 200 conversations over 24
 * hours) replayed through the local face — `local/main.ts` as a child process, real WebSockets for customers,
 * the operator REST API for agents — with the face's clock controlled (SUPPORTMAX_CLOCK=controlled, moved
 * through the loopback route POST /@clock). /api/metrics must match what this test computes by hand from the
 * script and from what the frames said (which turns were answered and which escalated is observed, never
 * assumed), must survive a restart on the same DATA_DIR, and /metrics in Chromium must show the same numbers
 * (screenshot: test-artifacts/metrics.png). The browser check lives here rather than in test/browser so the
 * day is replayed once.
 *
 * Prices. The issue says "local provider" and "a fixed price table". The local extractive provider is free
 * by design ($0 in the price table) and its token counts are invisible to a client, so a price invented for
 * it could only be checked against itself. So the engine runs locally end to end — classification,
 * retrieval, confidence, escalation policy, everything that decides the metrics — and only the compose
 * step speaks Bedrock Converse, to the local stub (test/support/converseStub.ts), which reports the same
 * usage on every call. Every answered turn then costs a known amount from the versioned Bedrock table in
 * lambdas/core/pricing.ts, computed by hand below; the stub's request log tells which of the two configured
 * models each turn used (the engine sends multi-passage turns to the complex one).
 *
 * Time. Every handler reads one offset clock (now = real time + offset), so latencies stay real. The test
 * moves it only while nothing is in flight: a group of conversations starting at the same scripted minute
 * (at most 8, run at once) sends its turns, the test waits until /api/metrics has counted them, then plays
 * the group's endings (customer leaves, operator takes over / replies / resolves) in order of their
 * scripted offsets, setting the clock before each and waiting for its effect before the next. Scripted
 * durations are therefore exact up to the real time that passed between a clock move and the server
 * reading the clock; the test measures that slack and allows for it, plus the histogram's documented 10 %.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HISTOGRAM_GROWTH, type MetricsSummary } from '#core/metricsAggregation';
import { PRICE_TABLE_VERSION } from '#core/pricing';
import { type ConverseStub, startConverseStub } from '../support/converseStub';
import { type LocalFaceProcess, startLocalFaceProcess } from '../support/localFaceProcess';
import {
  loginOperator,
  OPERATOR_TEST_ENV,
  type OperatorLogin,
  TEST_ADMIN_PASSWORD,
} from '../support/operatorLogin';
import { connectWebSocket, type TestWebSocket } from '../support/webSocketClient';

interface ScriptedConversation {
  readonly id: string;
  readonly startMinute: number;
  readonly kind: string;
  readonly turns: readonly string[];
  readonly leaveAfterSeconds: number;
  readonly operator?: {
    readonly takeOverAfterSeconds: number;
    readonly replyAfterSeconds: number;
    readonly resolveAfterSeconds: number;
  };
}

/** What the test saw of one conversation. */
interface Observed {
  readonly script: ScriptedConversation;
  readonly hour: number;
  ws?: TestWebSocket;
  conversationId?: string;
  turnsSent: number;
  answered: number;
  lastIntent?: string;
  lastArea?: string;
  /** `withinMs`: real ms from the group's clock move to the escalation frame (bounds the case's creation). */
  escalation?: { readonly caseId: string; readonly reason: string; readonly withinMs: number };
  /** Real ms from the clock move of its group to its first answer: bounds when it was created. */
  createdWithinMs: number;
  /** Scripted `seconds`; the true duration lies in [lo, hi] (real time passing around clock reads). */
  resolution?: {
    readonly by: 'automated' | 'human';
    readonly seconds: number;
    readonly lo: number;
    readonly hi: number;
  };
  firstResponse?: { readonly lo: number; readonly hi: number };
}

interface Frame {
  type: string;
  [key: string]: unknown;
}

const SCRIPT: { conversations: ScriptedConversation[] } = JSON.parse(
  readFileSync(resolve(import.meta.dirname, '..', 'fixtures', 'replay-day.json'), 'utf8'),
);
const ARTIFACTS = resolve(import.meta.dirname, '..', '..', 'test-artifacts');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--headless=new',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const HAIKU = 'anthropic.claude-3-5-haiku-20241022-v1:0';
const SONNET = 'anthropic.claude-sonnet-4-20250514-v1:0';
/** The stub's usage on every call. */
const USAGE = { inputTokens: 1500, outputTokens: 300 };
/**
 * Micro-dollars per answer, by hand from price table 2025-06-01 (USD per 1K tokens):
 * Claude 3.5 Haiku 1.5 × 0.0008 + 0.3 × 0.004 = 0.0024; Claude Sonnet 4 1.5 × 0.003 + 0.3 × 0.015 = 0.009.
 */
const MICROS_PER_ANSWER: Record<string, number> = { [HAIKU]: 2_400, [SONNET]: 9_000 };
const CONCURRENT_CONVERSATIONS = 8;
const AGENT = 'Dana';
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** The replay's own time budget (the face's start and the restart come on top). */
const REPLAY_BUDGET_MS = 90_000;

const nearestRank = (values: readonly number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
};
const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);
const countBy = (keys: readonly string[]) => {
  const counts: Record<string, number> = {};
  for (const key of keys) counts[key] = (counts[key] ?? 0) + 1;
  return counts;
};
/**
 * A histogram median lies in the bucket of the ⌈n/2⌉-th smallest value, so within its 10 % relative error
 * of that value; each value is known to lie in [lo, hi], and the API rounds to whole seconds.
 */
function expectHistogramMedian(reported: number | null, values: readonly { lo: number; hi: number }[]) {
  const low = nearestRank(
    values.map((v) => v.lo),
    50,
  );
  const high = nearestRank(
    values.map((v) => v.hi),
    50,
  );
  expect(reported).toBeGreaterThanOrEqual(Math.floor(low / HISTOGRAM_GROWTH));
  expect(reported).toBeLessThanOrEqual(Math.ceil(high * HISTOGRAM_GROWTH));
}
/** Runs `work` over `items`, at most `limit` at once. */
async function inPool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>) {
  let next = 0;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!);
  });
  await Promise.all(runners);
}

describe('a scripted support day replayed through the local face', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'supportmax-replay-'));
  /** A UTC midnight two days ahead: waiting escalations' real timers never come due during the test. */
  const dayStart = Math.floor(Date.now() / DAY_MS) * DAY_MS + 2 * DAY_MS;
  const dayEnd = dayStart + DAY_MS - 60_000;
  let stub: ConverseStub;
  let face: LocalFaceProcess;
  let operator: OperatorLogin;
  const observed: Observed[] = [];
  const roundTripsMs: number[] = [];
  /** What /api/metrics should have counted so far. */
  const expected = { messages: 0, conversations: 0, escalated: 0, automated: 0 };
  let replayMs = 0;
  /** Where the replay's time went, ms. */
  const phases = { turns: 0, counting: 0, endings: 0, disconnects: 0 };
  let day: MetricsSummary;

  const faceEnv = () => ({
    ...OPERATOR_TEST_ENV,
    SUPPORTMAX_CLOCK: 'controlled',
    // One '[trace] <handler> …' line per finished invocation: how the test knows $disconnect has run.
    SUPPORTMAX_TRACE: '1',
    RATE_LIMITS: 'off',
    BEDROCK_SIMPLE_MODEL_ID: HAIKU,
    BEDROCK_COMPLEX_MODEL_ID: SONNET,
    AWS_ENDPOINT_URL_BEDROCK_RUNTIME: stub.url,
  });

  /** The operator API, signed in as the admin; any non-2xx answer throws. */
  const api = async <T = unknown>(path: string, init?: RequestInit): Promise<T> => {
    const response = await fetch(`${face.url}${path}`, { ...init, headers: operator.headers() });
    const body = await response.json();
    if (!response.ok)
      throw new Error(`${init?.method ?? 'GET'} ${path}: ${response.status} ${JSON.stringify(body)}`);
    return body as T;
  };
  const metrics = (window: '1h' | '24h' | '7d') => api<MetricsSummary>(`/api/metrics?window=${window}`);
  const setClock = async (epochMs: number) => {
    const response = await fetch(`${face.url}/@clock`, {
      method: 'POST',
      body: JSON.stringify({ set: epochMs }),
    });
    expect(response.status).toBe(200);
  };
  /** Polls the day's metrics until everything expected so far is counted. */
  const counted = async () => {
    const expectedMicros = sum(stub.requests.map((r) => MICROS_PER_ANSWER[r.modelId]!));
    const deadline = Date.now() + 20_000;
    for (;;) {
      const m = await metrics('24h');
      const now = {
        messages: m.messages,
        conversations: m.conversations,
        escalated: sum(m.series.map((p) => p.escalated)),
        opened: m.cases.opened,
        automated: sum(m.series.map((p) => p.automated)),
        micros: Math.round(m.costUsd.total * 1_000_000),
      };
      const want = { ...expected, opened: expected.escalated, micros: expectedMicros };
      if (
        now.messages === want.messages &&
        now.conversations === want.conversations &&
        now.escalated === want.escalated &&
        now.opened === want.opened &&
        now.automated === want.automated &&
        now.micros === want.micros
      ) {
        return;
      }
      if (Date.now() > deadline) {
        throw new Error(`metrics never caught up: have ${JSON.stringify(now)}, want ${JSON.stringify(want)}`);
      }
      await new Promise((done) => setTimeout(done, 15));
    }
  };

  /** Next reply/escalated frame for the turn sent as `clientMessageId`; agent frames are skipped. */
  const answerTo = async (ws: TestWebSocket, clientMessageId: string): Promise<Frame> => {
    for (;;) {
      const frame = JSON.parse(await ws.messages.next(20_000)) as Frame;
      if (frame.type === 'agentMessage') continue;
      if (frame.type !== 'reply' && frame.type !== 'escalated') {
        throw new Error(`${clientMessageId}: unexpected frame ${JSON.stringify(frame)}`);
      }
      expect(frame.clientMessageId).toBe(clientMessageId);
      return frame;
    }
  };

  /** Sends a conversation's turns one after the other, stopping at the first escalation. */
  const converse = async (o: Observed, movedAt: number) => {
    o.ws = await connectWebSocket(face.wsUrl);
    for (const [n, text] of o.script.turns.entries()) {
      const clientMessageId = `${o.script.id}-t${n + 1}`;
      const sentAt = performance.now();
      o.ws.socket.send(
        JSON.stringify({
          action: 'sendMessage',
          text,
          clientMessageId,
          ...(o.conversationId ? { conversationId: o.conversationId } : {}),
        }),
      );
      const frame = await answerTo(o.ws, clientMessageId);
      const receivedAt = performance.now();
      roundTripsMs.push(receivedAt - sentAt);
      if (n === 0) o.createdWithinMs = receivedAt - movedAt;
      o.conversationId ??= frame.conversationId as string;
      o.turnsSent++;
      if (frame.type === 'escalated') {
        const withinMs = receivedAt - movedAt;
        o.escalation = { caseId: frame.caseId as string, reason: frame.reason as string, withinMs };
        return;
      }
      o.answered++;
      o.lastIntent = frame.intent as string;
      o.lastArea = frame.productArea as string;
    }
  };

  let socketsClosed = 0;
  const leave = (o: Observed) => {
    o.ws!.socket.close();
    socketsClosed++;
  };
  /**
   * Resolves once $disconnect has finished for every socket closed so far (its trace line is printed after
   * the handler returns, so the resolution event is stamped by then): only then may the clock move on.
   */
  const disconnectsHandled = () => {
    const handled = () => face.output().split('[trace] disconnect ').length - 1 >= socketsClosed;
    if (handled()) return Promise.resolve();
    return new Promise<void>((done, fail) => {
      const stdout = face.child.stdout!;
      const stop = () => {
        clearTimeout(timer);
        stdout.off('data', onData);
      };
      const onData = () => {
        if (!handled()) return;
        stop();
        done();
      };
      const timer = setTimeout(() => {
        stop();
        fail(new Error(`$disconnect did not run for all ${socketsClosed} closed sockets within 20 s`));
      }, 20_000);
      stdout.on('data', onData);
    });
  };

  type Ending = { readonly atSeconds: number; readonly o: Observed; readonly step: string };

  /** The scripted endings of a group, in time order, given what the frames said. */
  const endingsOf = (group: readonly Observed[]): Ending[] =>
    group
      .flatMap((o): Ending[] =>
        o.escalation && o.script.operator
          ? [
              { atSeconds: o.script.operator.takeOverAfterSeconds, o, step: 'takeover' },
              { atSeconds: o.script.operator.replyAfterSeconds, o, step: 'reply' },
              { atSeconds: o.script.operator.resolveAfterSeconds, o, step: 'resolve' },
            ]
          : [{ atSeconds: o.script.leaveAfterSeconds, o, step: 'leave' }],
      )
      .sort((a, b) => a.atSeconds - b.atSeconds);

  /**
   * Plays one ending. A resolution's duration lies between its scripted offset minus the real time the
   * conversation's creation may have lagged its group's clock move, and the offset plus the real time from
   * this clock move until the server stamped the resolution (`hi` is filled in by the caller for customers
   * leaving, once $disconnect has run). First responses likewise, from the case's creation.
   */
  const play = async ({ o, step, atSeconds }: Ending, movedAt: number) => {
    const caseId = o.escalation?.caseId;
    const lo = atSeconds - o.createdWithinMs / 1000;
    const slack = () => (performance.now() - movedAt) / 1000;
    if (step === 'leave') {
      leave(o);
      if (!o.escalation && o.answered > 0) {
        o.resolution = { by: 'automated', seconds: atSeconds, lo, hi: Number.NaN };
        expected.automated++;
      }
    } else if (step === 'takeover') {
      await api(`/api/cases/${caseId}/takeover`, {
        method: 'POST',
        body: JSON.stringify({ agentName: AGENT }),
      });
    } else if (step === 'reply') {
      const text = 'Hello, Dana here. I have looked into it: all sorted now.';
      await api(`/api/cases/${caseId}/reply`, {
        method: 'POST',
        body: JSON.stringify({ agentName: AGENT, text }),
      });
      o.firstResponse = { lo: atSeconds - o.escalation!.withinMs / 1000, hi: atSeconds + slack() };
    } else {
      await api(`/api/cases/${caseId}/resolve`, { method: 'POST', body: '{}' });
      o.resolution = { by: 'human', seconds: atSeconds, lo, hi: atSeconds + slack() };
      leave(o);
    }
  };

  beforeAll(async () => {
    stub = await startConverseStub({
      kind: 'answer',
      text: 'Here is what our help centre says about that. [faq:x]',
      ...USAGE,
    });
    face = await startLocalFaceProcess(dataDir, faceEnv());
    operator = await loginOperator(face.url, 'admin', TEST_ADMIN_PASSWORD);

    // Act: the whole day, group by group
    const started = performance.now();
    const groups = new Map<number, Observed[]>();
    for (const script of SCRIPT.conversations) {
      const o: Observed = {
        script,
        hour: Math.floor(script.startMinute / 60),
        turnsSent: 0,
        answered: 0,
        createdWithinMs: 0,
      };
      observed.push(o);
      groups.set(script.startMinute, [...(groups.get(script.startMinute) ?? []), o]);
    }
    for (const [startMinute, group] of [...groups].sort(([a], [b]) => a - b)) {
      const groupStart = dayStart + startMinute * 60_000;
      const movedAt = performance.now();
      await setClock(groupStart);
      await inPool(group, CONCURRENT_CONVERSATIONS, (o) => converse(o, movedAt));
      phases.turns += performance.now() - movedAt;
      for (const o of group) {
        expected.conversations++;
        expected.messages += o.turnsSent;
        if (o.escalation) expected.escalated++;
      }
      const countedFrom = performance.now();
      await counted();
      phases.counting += performance.now() - countedFrom;
      const endings = endingsOf(group);
      for (const atSeconds of [...new Set(endings.map((e) => e.atSeconds))]) {
        const movedForEnding = performance.now();
        await setClock(groupStart + atSeconds * 1000);
        const due = endings.filter((e) => e.atSeconds === atSeconds);
        await Promise.all(due.map((e) => play(e, movedForEnding)));
        phases.endings += performance.now() - movedForEnding;
        // A customer leaving resolves in $disconnect, after the close: wait for it before the clock moves on.
        const leftResolved = due.filter((e) => e.step === 'leave' && e.o.resolution?.by === 'automated');
        if (leftResolved.length === 0) continue;
        const leftFrom = performance.now();
        await disconnectsHandled();
        phases.disconnects += performance.now() - leftFrom;
        const hi = atSeconds + (performance.now() - movedForEnding) / 1000;
        for (const { o } of leftResolved) o.resolution = { ...o.resolution!, hi };
      }
    }
    await counted();
    replayMs = performance.now() - started;
    await setClock(dayEnd);
    day = await metrics('24h');
    mkdirSync(ARTIFACTS, { recursive: true });
    // For reading next to the screenshot: what the clients saw and what the API reported.
    const slack = observed.flatMap((o) => (o.resolution ? [o.resolution.hi - o.resolution.lo] : []));
    writeFileSync(
      join(ARTIFACTS, 'metrics-replay.json'),
      JSON.stringify(
        {
          replaySeconds: Math.round(replayMs) / 1000,
          phaseSeconds: Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, Math.round(v) / 1000])),
          observed: {
            conversations: observed.length,
            messages: sum(observed.map((o) => o.turnsSent)),
            answeredTurns: sum(observed.map((o) => o.answered)),
            automated: observed.filter((o) => o.resolution?.by === 'automated').length,
            escalated: observed.filter((o) => o.escalation).length,
            resolvedByHumans: observed.filter((o) => o.resolution?.by === 'human').length,
            clientRoundTripP95Ms: Math.round(nearestRank(roundTripsMs, 95)),
            scriptedMedianResolutionSeconds: nearestRank(
              observed.flatMap((o) => (o.resolution ? [o.resolution.seconds] : [])),
              50,
            ),
            /** Widest [lo, hi] a resolution duration was known within (real time between clock reads). */
            maxResolutionUncertaintySeconds: Math.round(Math.max(...slack) * 1000) / 1000,
            converseCalls: countBy(stub.requests.map((r) => r.modelId)),
          },
          reported: day,
        },
        null,
        2,
      ),
    );
  }, 240_000);

  afterAll(async () => {
    for (const o of observed) o.ws?.socket.close();
    if (face) writeFileSync(join(ARTIFACTS, 'metrics-replay-face.log'), face.output());
    await face?.stop();
    await stub?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const automated = () => observed.filter((o) => o.resolution?.by === 'automated');
  const escalated = () => observed.filter((o) => o.escalation);

  it('replays 200 conversations over 24 fake hours within the time budget', () => {
    expect(observed).toHaveLength(200);
    expect(new Set(observed.map((o) => o.hour)).size).toBe(24);
    expect(replayMs).toBeLessThan(REPLAY_BUDGET_MS);
    // The script is mostly answerable FAQs: most conversations were answered, some escalated.
    expect(automated().length).toBeGreaterThan(120);
    expect(escalated().length).toBeGreaterThan(20);
  });

  it('counts every conversation and customer message of the day', () => {
    expect(day.conversations).toBe(200);
    expect(day.messages).toBe(sum(observed.map((o) => o.turnsSent)));
  });

  it('computes automation and escalation rates from the outcomes the frames showed', () => {
    const bot = automated().length;
    const humans = escalated().length;
    expect(day.automationRate).toBe(Math.round((bot / (bot + humans)) * 10_000) / 10_000);
    expect(day.escalationRate).toBe(Math.round((humans / 200) * 10_000) / 10_000);
    expect(day.escalationReasons).toEqual(countBy(escalated().map((o) => o.escalation!.reason)));
    expect(day.cases.opened).toBe(humans);
  });

  it("reports the scripted median resolution and first response within the histogram's relative error", () => {
    // Prepare: bot resolutions at the customer's leave time, human ones at the operator's resolve time
    const resolved = observed.flatMap((o) => (o.resolution ? [o.resolution] : []));
    const firstResponses = observed.flatMap((o) => (o.firstResponse ? [o.firstResponse] : []));
    // Assess
    expect(resolved).toHaveLength(automated().length + escalated().filter((o) => o.script.operator).length);
    expectHistogramMedian(day.medianResolutionSeconds, resolved);
    expect(firstResponses).toHaveLength(escalated().filter((o) => o.script.operator).length);
    expectHistogramMedian(day.cases.medianFirstResponseSeconds, firstResponses);
  });

  it('reports a p95 turn latency above zero and no higher than the p95 round trip the clients measured', () => {
    const clientP95 = nearestRank(roundTripsMs, 95);
    expect(roundTripsMs).toHaveLength(day.messages);
    expect(day.latencyMs.p95).toBeGreaterThan(0);
    // Server latency ends before the frame reaches the client; the histogram may read up to 10 % high.
    expect(day.latencyMs.p95).toBeLessThanOrEqual(Math.ceil(clientP95 * HISTOGRAM_GROWTH));
    expect(day.latencyMs.p50).toBeLessThanOrEqual(day.latencyMs.p95!);
    expect(day.latencyMs.p95).toBeLessThanOrEqual(day.latencyMs.p99!);
  });

  it('bills every answered turn from the fixed price table: total and per automated resolution', () => {
    // Prepare: one Converse call per answered turn, none for escalations, no fallback to the free local model
    expect(PRICE_TABLE_VERSION).toBe('2025-06-01');
    const answeredTurns = sum(observed.map((o) => o.answered));
    expect(stub.requests).toHaveLength(answeredTurns);
    const micros = sum(stub.requests.map((r) => MICROS_PER_ANSWER[r.modelId]!));
    // Assess
    expect(Math.abs(day.costUsd.total - micros / 1_000_000)).toBeLessThan(1e-9);
    expect(Math.abs(day.costUsd.perConversation - Math.round(micros / 200) / 1_000_000)).toBeLessThan(1e-9);
    expect(
      Math.abs(day.costUsd.perAutomatedResolution! - Math.round(micros / automated().length) / 1_000_000),
    ).toBeLessThan(1e-9);
  });

  it('splits outcomes by intent and product area, summing to the automated and escalated totals', () => {
    for (const breakdown of [day.byIntent, day.byProductArea]) {
      const groups = Object.values(breakdown);
      expect(sum(groups.map((g) => g.automated))).toBe(automated().length);
      expect(sum(groups.map((g) => g.escalated))).toBe(escalated().length);
      expect(sum(groups.map((g) => g.conversations))).toBe(automated().length + escalated().length);
    }
    // A bot resolution counts under the intent and area of the conversation's last answer.
    const automatedBy = (field: 'byIntent' | 'byProductArea') =>
      Object.fromEntries(
        Object.entries(day[field])
          .filter(([, g]) => g.automated > 0)
          .map(([key, g]) => [key, g.automated]),
      );
    expect(automatedBy('byIntent')).toEqual(countBy(automated().map((o) => o.lastIntent!)));
    expect(automatedBy('byProductArea')).toEqual(countBy(automated().map((o) => o.lastArea!)));
  });

  it('places every event in its scripted hour: the 24h series sums to the totals, the 1h window is the last hour', async () => {
    // Prepare
    const perHour = (pick: (o: Observed) => number) =>
      Array.from({ length: 24 }, (_, hour) => sum(observed.filter((o) => o.hour === hour).map(pick)));
    // Act
    const lastHour = await metrics('1h');
    const week = await metrics('7d');
    // Assess
    expect(day.series).toHaveLength(24);
    expect(day.series[0]!.t).toBe(new Date(dayStart).toISOString());
    expect(day.series.map((p) => p.conversations)).toEqual(perHour(() => 1));
    expect(day.series.map((p) => p.messages)).toEqual(perHour((o) => o.turnsSent));
    expect(day.series.map((p) => p.automated)).toEqual(
      perHour((o) => (o.resolution?.by === 'automated' ? 1 : 0)),
    );
    expect(day.series.map((p) => p.escalated)).toEqual(perHour((o) => (o.escalation ? 1 : 0)));
    expect(Math.round(sum(day.series.map((p) => p.costUsd)) * 1e6)).toBe(Math.round(day.costUsd.total * 1e6));
    const hour23 = day.series[23]!;
    expect(lastHour.series).toHaveLength(12);
    for (const field of ['conversations', 'messages', 'automated', 'escalated'] as const) {
      expect(sum(lastHour.series.map((p) => p[field]))).toBe(hour23[field]);
    }
    expect({ conversations: lastHour.conversations, messages: lastHour.messages }).toEqual({
      conversations: hour23.conversations,
      messages: hour23.messages,
    });
    expect({ ...week, window: '24h', series: day.series }).toEqual(day);
  });

  it('keeps the numbers across a restart on the same DATA_DIR', async () => {
    // Act
    await face.stop();
    face = await startLocalFaceProcess(dataDir, faceEnv());
    operator = await loginOperator(face.url, 'admin', TEST_ADMIN_PASSWORD);
    await setClock(dayEnd);
    const again = await metrics('24h');
    // Assess
    expect(again).toEqual(day);
  }, 90_000);

  it('shows the same numbers on /metrics in Chromium, with every chart drawn', async () => {
    // Prepare: the restarted face, the operator's session cookie in the browser
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    try {
      const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
      const [name, value] = operator.cookie.split('=') as [string, string];
      await context.addCookies([{ name, value, url: face.url }]);
      const page = await context.newPage();
      page.setDefaultTimeout(15_000);
      const problems: string[] = [];
      page.on('pageerror', (error) => problems.push(error.message));
      page.on('console', (message) => {
        if (message.type() === 'error') problems.push(message.text());
      });
      // Act
      await page.goto(`${face.url}/metrics#window=24h`);
      await page.locator('#chart-volume svg .series.s1 circle').first().waitFor();
      for (const slot of ['latency', 'intent', 'area', 'reasons']) {
        await page.locator(`#chart-${slot} svg rect.bar`).first().waitFor();
      }
      await page.locator('#chart-cost svg .series.s1 circle').first().waitFor();
      // Assess: key figures as the page formats them
      const kpi = (label: string) =>
        page
          .locator('#kpis .kpi', { has: page.locator('dt', { hasText: label }) })
          .locator('dd')
          .evaluate((dd) => dd.firstChild?.textContent ?? '');
      const ms = (value: number) => (value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${value} ms`);
      expect(await kpi('Conversations')).toBe('200');
      expect(await kpi('Automation rate')).toBe(`${(day.automationRate * 100).toFixed(1)}%`);
      expect(await kpi('Escalation rate')).toBe(`${(day.escalationRate * 100).toFixed(1)}%`);
      expect(await kpi('Reply latency p95')).toBe(ms(day.latencyMs.p95!));
      expect(await kpi('Cost per automated resolution')).toBe(
        `$${day.costUsd.perAutomatedResolution!.toFixed(4)}`,
      );
      // Charts: their data tables hold the API's numbers
      const table = (slot: string) =>
        page
          .locator(`#chart-${slot} table tbody tr`)
          .evaluateAll((rows) => rows.map((row) => [...row.children].map((cell) => cell.textContent ?? '')));
      const volume = await table('volume');
      expect(volume).toHaveLength(24);
      expect(volume.map((row) => Number(row[2]))).toEqual(day.series.map((p) => p.conversations));
      expect(volume.map((row) => Number(row[1]))).toEqual(day.series.map((p) => p.messages));
      expect((await table('latency')).map((row) => row[0])).toEqual(['p50', 'p95', 'p99']);
      expect(await table('cost')).toHaveLength(24);
      const intents = await table('intent');
      expect(intents).toHaveLength(Object.keys(day.byIntent).length);
      expect(sum(intents.map((row) => Number(row[3])))).toBe(automated().length + escalated().length);
      expect(sum((await table('area')).map((row) => Number(row[3])))).toBe(
        automated().length + escalated().length,
      );
      await page.screenshot({ path: join(ARTIFACTS, 'metrics.png'), fullPage: true });
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 60_000);
});
