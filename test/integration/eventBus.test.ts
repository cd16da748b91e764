import { describe, expect, it } from 'vitest';
import type {
  ConversationEscalated,
  EventEnvelope,
  MessageAnswered,
  MessageReceived,
} from '#core/domainEvents';
import { type EventPattern, LocalEventBus, matchesPattern } from '#local/eventBus';

const event = {
  id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
  source: 'supportmax',
  'detail-type': 'MessageAnswered',
  time: '2024-05-01T10:00:00.000Z',
  detail: {
    conversationId: 'conv-1',
    intent: 'billing_refund',
    productArea: 'Billing',
    confidence: 0.82,
    faqIds: ['faq-1', 'faq-7'],
    priority: null,
  },
};

const matching: [string, EventPattern][] = [
  ['an exact value', { source: ['supportmax'] }],
  ['one of several values', { 'detail-type': ['ConversationEscalated', 'MessageAnswered'] }],
  ['a nested field', { source: ['supportmax'], detail: { intent: ['billing_refund'] } }],
  ['any element of an array field', { detail: { faqIds: ['faq-7', 'faq-9'] } }],
  ['a null literal', { detail: { priority: [null] } }],
  ['a prefix', { detail: { intent: [{ prefix: 'billing_' }] } }],
  ['a prefix ignoring case', { detail: { productArea: [{ prefix: { 'equals-ignore-case': 'BILL' } }] } }],
  ['a suffix', { detail: { intent: [{ suffix: '_refund' }] } }],
  ['anything-but a value', { detail: { intent: [{ 'anything-but': 'account_login' }] } }],
  ['anything-but a list', { detail: { intent: [{ 'anything-but': ['account_login', 'shipping'] }] } }],
  ['anything-but a prefix', { detail: { intent: [{ 'anything-but': { prefix: 'account_' } }] } }],
  ['a numeric range', { detail: { confidence: [{ numeric: ['>=', 0.8, '<', 0.9] }] } }],
  ['a numeric equality', { detail: { confidence: [{ numeric: ['=', 0.82] }] } }],
  ['exists: true on a present field', { detail: { confidence: [{ exists: true }] } }],
  ['exists: true on a null field', { detail: { priority: [{ exists: true }] } }],
  ['exists: false on a missing field', { detail: { caseId: [{ exists: false }] } }],
  ['equals-ignore-case', { detail: { productArea: [{ 'equals-ignore-case': 'BILLING' }] } }],
  ['a wildcard', { detail: { intent: [{ wildcard: 'billing_*' }] } }],
  ['a value or a filter in one array', { detail: { intent: ['shipping', { prefix: 'billing' }] } }],
  [
    '$or when one alternative matches',
    { detail: { $or: [{ intent: ['shipping'] }, { confidence: [{ numeric: ['>', 0.5] }] }] } },
  ],
];

const notMatching: [string, EventPattern][] = [
  ['another value', { source: ['other'] }],
  ['a nested field with another value', { detail: { intent: ['shipping'] } }],
  ['a value on a missing field', { detail: { caseId: ['case-1'] } }],
  ['no element of an array field', { detail: { faqIds: ['faq-9'] } }],
  ['a number written as a string', { detail: { confidence: ['0.82'] } }],
  ['a nested pattern on a leaf value', { source: { name: ['supportmax'] } }],
  ['another prefix', { detail: { intent: [{ prefix: 'account_' }] } }],
  ['a prefix with different case', { detail: { productArea: [{ prefix: 'bill' }] } }],
  ['another suffix', { detail: { intent: [{ suffix: '_charge' }] } }],
  ['anything-but the value itself', { detail: { intent: [{ 'anything-but': 'billing_refund' }] } }],
  [
    'anything-but a list holding the value',
    { detail: { intent: [{ 'anything-but': ['x', 'billing_refund'] }] } },
  ],
  ['anything-but a matching prefix', { detail: { intent: [{ 'anything-but': { prefix: 'billing' } }] } }],
  ['anything-but on a missing field', { detail: { caseId: [{ 'anything-but': 'case-1' }] } }],
  ['a numeric range excluding the value', { detail: { confidence: [{ numeric: ['>', 0.9] }] } }],
  ['numeric on a string field', { detail: { intent: [{ numeric: ['>', 0] }] } }],
  ['exists: true on a missing field', { detail: { caseId: [{ exists: true }] } }],
  ['exists: false on a present field', { detail: { intent: [{ exists: false }] } }],
  [
    'equals-ignore-case with another word',
    { detail: { productArea: [{ 'equals-ignore-case': 'billings' }] } },
  ],
  ['a wildcard that does not cover the value', { detail: { intent: [{ wildcard: 'account_*' }] } }],
  [
    '$or when no alternative matches',
    { detail: { $or: [{ intent: ['shipping'] }, { confidence: [{ numeric: ['<', 0.5] }] }] } },
  ],
  [
    '$or matching but another field not',
    { source: ['other'], detail: { $or: [{ intent: ['billing_refund'] }, { intent: ['shipping'] }] } },
  ],
];

describe('matchesPattern', () => {
  it.each(matching)('matches %s', (_, pattern) => {
    // Act
    const matched = matchesPattern(pattern, event);

    // Assess
    expect(matched).toBe(true);
  });

  it.each(notMatching)('does not match %s', (_, pattern) => {
    // Act
    const matched = matchesPattern(pattern, event);

    // Assess
    expect(matched).toBe(false);
  });
});

const answered: MessageAnswered = {
  type: 'MessageAnswered',
  conversationId: 'conv-1',
  messageId: 'msg-2',
  intent: 'billing_refund',
  productArea: 'billing',
  confidence: 0.82,
  faqIds: ['faq-1'],
  turnLatencyMs: 900,
  retrievalLatencyMs: 40,
  modelLatencyMs: 700,
  modelId: 'local',
  inputTokens: 300,
  outputTokens: 80,
  costUsd: 0,
};
const escalated: ConversationEscalated = {
  type: 'ConversationEscalated',
  conversationId: 'conv-2',
  caseId: 'case-1',
  reason: 'low_confidence',
  intent: 'billing_refund',
  productArea: 'billing',
  confidence: 0.3,
  turnLatencyMs: 1200,
};
const received: MessageReceived = {
  type: 'MessageReceived',
  conversationId: 'conv-1',
  messageId: 'msg-1',
  channel: 'chat',
  firstMessage: true,
};

function recorder() {
  const envelopes: EventEnvelope[] = [];
  return { envelopes, target: async (envelope: EventEnvelope) => void envelopes.push(envelope) };
}

describe('LocalEventBus', () => {
  it('delivers each event, in an EventBridge envelope, to the rules whose pattern matches', async () => {
    // Prepare
    const bus = new LocalEventBus({ now: () => new Date('2024-05-01T10:00:00Z') });
    const answers = recorder();
    const escalations = recorder();
    const everything = recorder();
    bus.addRule({ name: 'answers', pattern: { 'detail-type': ['MessageAnswered'] }, target: answers.target });
    bus.addRule({
      name: 'escalations',
      pattern: { detail: { caseId: [{ exists: true }] } },
      target: escalations.target,
    });
    bus.addRule({ name: 'audit', pattern: { source: ['supportmax'] }, target: everything.target });

    // Act
    await bus.publish([answered, escalated]);
    const deliveredBeforeDrain = everything.envelopes.length;
    await bus.drain();

    // Assess
    expect(deliveredBeforeDrain).toBe(0);
    expect(answers.envelopes).toEqual([
      {
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        source: 'supportmax',
        'detail-type': 'MessageAnswered',
        time: '2024-05-01T10:00:00.000Z',
        detail: answered,
      },
    ]);
    expect(escalations.envelopes.map((e) => e.detail)).toEqual([escalated]);
    expect(everything.envelopes.map((e) => e['detail-type'])).toEqual([
      'MessageAnswered',
      'ConversationEscalated',
    ]);
  });

  it('retries a failing target, then hands the envelope and the last error to the dead-letter target', async () => {
    // Prepare
    const bus = new LocalEventBus({ retryDelayMs: 1 });
    let attempts = 0;
    const deadLetters: [EventEnvelope, unknown][] = [];
    bus.addRule({
      name: 'metrics',
      pattern: { 'detail-type': ['MessageAnswered'] },
      retryAttempts: 2,
      target: async () => {
        attempts++;
        throw new Error(`metrics store down (attempt ${attempts})`);
      },
      deadLetter: async (envelope, error) => void deadLetters.push([envelope, error]),
    });

    // Act
    const published = bus.publish([answered]);
    await bus.drain();

    // Assess
    await expect(published).resolves.toBeUndefined();
    expect(attempts).toBe(3);
    expect(deadLetters).toHaveLength(1);
    expect(deadLetters[0]![0].detail).toEqual(answered);
    expect(deadLetters[0]![1]).toEqual(new Error('metrics store down (attempt 3)'));
  });

  it('stops retrying as soon as the target succeeds', async () => {
    // Prepare
    const bus = new LocalEventBus({ retryDelayMs: 1 });
    let attempts = 0;
    const deadLetters: EventEnvelope[] = [];
    bus.addRule({
      name: 'metrics',
      pattern: { source: ['supportmax'] },
      target: async () => {
        attempts++;
        if (attempts === 1) throw new Error('transient');
      },
      deadLetter: async (envelope) => void deadLetters.push(envelope),
    });

    // Act
    await bus.publish([answered]);
    await bus.drain();

    // Assess
    expect(attempts).toBe(2);
    expect(deadLetters).toEqual([]);
  });

  it('reports an event as lost when every attempt fails and the rule has no dead-letter target', async () => {
    // Prepare
    const lost: string[] = [];
    const bus = new LocalEventBus({ retryDelayMs: 1, onUndelivered: (rule) => void lost.push(rule) });
    bus.addRule({
      name: 'notify',
      pattern: { source: ['supportmax'] },
      retryAttempts: 0,
      target: () => Promise.reject(new Error('console offline')),
    });

    // Act
    await bus.publish([escalated]);
    await bus.drain();

    // Assess
    expect(lost).toEqual(['notify']);
  });

  it('drain also waits for deliveries of events published by targets', async () => {
    // Prepare
    const bus = new LocalEventBus();
    const answers = recorder();
    bus.addRule({
      name: 'answer-on-receive',
      pattern: { 'detail-type': ['MessageReceived'] },
      target: () => bus.publish([answered]),
    });
    bus.addRule({ name: 'answers', pattern: { 'detail-type': ['MessageAnswered'] }, target: answers.target });

    // Act
    await bus.publish([received]);
    await bus.drain();

    // Assess
    expect(answers.envelopes.map((e) => e.detail)).toEqual([answered]);
  });

  it.each<[string, EventPattern]>([
    ['a leaf that is not an array', { source: 'supportmax' }],
    ['an empty value array', { source: [] }],
    ['an unknown filter', { detail: { intent: [{ regex: '.*' }] } }],
    ['a numeric filter without a number', { detail: { confidence: [{ numeric: ['>', 'high'] }] } }],
    ['$or with a single alternative', { $or: [{ source: ['supportmax'] }] }],
  ])('rejects a rule whose pattern has %s', (_, pattern) => {
    // Prepare
    const bus = new LocalEventBus();

    // Act
    const add = () => bus.addRule({ name: 'broken', pattern, target: async () => {} });

    // Assess
    expect(add).toThrow(/Event rule "broken": invalid pattern/);
  });

  it('rejects a second rule with the same name', () => {
    // Prepare
    const bus = new LocalEventBus();
    bus.addRule({ name: 'audit', pattern: { source: ['supportmax'] }, target: async () => {} });

    // Act
    const add = () =>
      bus.addRule({ name: 'audit', pattern: { source: ['supportmax'] }, target: async () => {} });

    // Assess
    expect(add).toThrow('Event rule "audit" already exists');
  });
});
