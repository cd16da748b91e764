import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type TriageInput, triageEscalation } from '#core/caseTriage';
import type { CustomerProfile } from '#core/crm';
import { maskPii } from '#core/piiMasking';
import { DEFAULT_FIRST_RESPONSE_MINUTES } from '#core/slaPolicy';
import {
  DEFAULT_PRIORITY_RULES,
  decidePriority,
  isCatchAll,
  type PriorityFacts,
  type PriorityRule,
  parsePriorityRules,
} from '#core/triageRules';

const facts = (overrides: Partial<PriorityFacts> = {}): PriorityFacts => ({
  signals: [],
  tier: 'unknown',
  intent: 'technical_issue',
  reason: 'low_confidence',
  ...overrides,
});

const CATCH_ALL = { when: {}, priority: 'P4', why: 'Everything else' } as const;

describe('priority rules: default table', () => {
  it.each([
    { signals: ['security'], tier: 'basic', priority: 'P1' },
    { signals: ['outage'], tier: 'enterprise', priority: 'P1' },
    { signals: ['data_loss'], tier: 'enterprise', priority: 'P1' },
    { signals: ['angry', 'urgent'], tier: 'enterprise', priority: 'P1' },
    { signals: ['outage'], tier: 'pro', priority: 'P2' },
    { signals: ['outage'], tier: 'unknown', priority: 'P2' },
    { signals: ['data_loss'], tier: 'basic', priority: 'P2' },
    { signals: ['payment_failure'], tier: 'pro', priority: 'P2' },
    { signals: ['legal'], tier: 'enterprise', priority: 'P2' },
    { signals: ['payment_failure'], tier: 'basic', priority: 'P3' },
    { signals: ['angry', 'urgent'], tier: 'pro', priority: 'P2' },
    { signals: ['urgent'], tier: 'enterprise', priority: 'P2' },
    { signals: ['angry'], tier: 'pro', priority: 'P3' },
    { signals: ['human_requested'], tier: 'basic', priority: 'P3' },
    { signals: [], tier: 'enterprise', priority: 'P3' },
    { signals: [], tier: 'basic', priority: 'P4' },
  ] as const)('gives $signals from a $tier customer $priority', ({ signals, tier, priority }) => {
    // Act
    const decided = decidePriority(facts({ signals, tier }));

    // Assess
    expect(decided.priority).toBe(priority);
  });

  it('ends with a catch-all, and only the last rule is one', () => {
    // Act
    const catchAlls = DEFAULT_PRIORITY_RULES.map((rule, index) => (isCatchAll(rule) ? index : -1)).filter(
      (index) => index >= 0,
    );

    // Assess
    expect(catchAlls).toEqual([DEFAULT_PRIORITY_RULES.length - 1]);
  });

  it('gives every rule a distinct reason', () => {
    // Act
    const whys = new Set(DEFAULT_PRIORITY_RULES.map((rule) => rule.why));

    // Assess
    expect(whys.size).toBe(DEFAULT_PRIORITY_RULES.length);
  });

  it('survives a JSON round trip through parsePriorityRules unchanged', () => {
    // Act
    const parsed = parsePriorityRules(JSON.stringify(DEFAULT_PRIORITY_RULES));

    // Assess
    expect(parsed).toEqual(DEFAULT_PRIORITY_RULES);
  });

  it('is documented rule by rule in docs/escalation.md, so the docs cannot drift', () => {
    // Prepare
    const docs = readFileSync(new URL('../../docs/escalation.md', import.meta.url), 'utf8');

    // Assess
    for (const rule of DEFAULT_PRIORITY_RULES) expect(docs, rule.why).toContain(rule.why);
    for (const [priority, row] of Object.entries(DEFAULT_FIRST_RESPONSE_MINUTES))
      expect(docs, priority).toContain(
        `| ${priority} | ${row.enterprise} | ${row.pro} | ${row.basic} | ${row.unknown} |`,
      );
  });
});

describe('priority rules: matching', () => {
  it('uses the first matching rule, not the highest priority', () => {
    // Prepare
    const rules: PriorityRule[] = [
      { when: { signals: ['outage'] }, priority: 'P3', why: 'first' },
      { when: { signals: ['outage'], tiers: ['enterprise'] }, priority: 'P1', why: 'second' },
      CATCH_ALL,
    ];

    // Act
    const decided = decidePriority(facts({ signals: ['outage'], tier: 'enterprise' }), rules);

    // Assess
    expect(decided).toEqual({ priority: 'P3', why: 'first' });
  });

  it('needs every signal of `signals` but only one of `anySignal`', () => {
    // Prepare
    const rules: PriorityRule[] = [
      { when: { signals: ['angry', 'urgent'] }, priority: 'P1', why: 'both' },
      { when: { anySignal: ['angry', 'urgent'] }, priority: 'P2', why: 'either' },
      CATCH_ALL,
    ];

    // Act
    const both = decidePriority(facts({ signals: ['angry', 'urgent'] }), rules);
    const one = decidePriority(facts({ signals: ['urgent'] }), rules);
    const none = decidePriority(facts({ signals: ['legal'] }), rules);

    // Assess
    expect([both.why, one.why, none.why]).toEqual(['both', 'either', 'Everything else']);
  });

  it('matches tiers, intents and reasons together', () => {
    // Prepare
    const rules: PriorityRule[] = [
      {
        when: { tiers: ['pro'], intents: ['billing_question'], reasons: ['human_requested'] },
        priority: 'P2',
        why: 'pro billing human',
      },
      CATCH_ALL,
    ];
    const hit = facts({ tier: 'pro', intent: 'billing_question', reason: 'human_requested' });

    // Act
    const decisions = [
      decidePriority(hit, rules),
      decidePriority({ ...hit, tier: 'basic' }, rules),
      decidePriority({ ...hit, intent: 'technical_issue' }, rules),
      decidePriority({ ...hit, reason: 'low_confidence' }, rules),
    ].map((d) => d.priority);

    // Assess
    expect(decisions).toEqual(['P2', 'P4', 'P4', 'P4']);
  });

  it('throws when a table built in code has no matching rule', () => {
    // Prepare
    const rules: PriorityRule[] = [{ when: { signals: ['legal'] }, priority: 'P2', why: 'legal' }];

    // Act
    const decide = () => decidePriority(facts(), rules);

    // Assess
    expect(decide).toThrow(/catch-all/);
  });
});

describe('priority rules: operator configuration (TRIAGE_RULES)', () => {
  it('changes the outcome when an operator overrides the table', () => {
    // Prepare
    const json = JSON.stringify([
      { when: { signals: ['payment_failure'] }, priority: 'P1', why: 'Payments are critical for us' },
      { when: {}, priority: 'P4', why: 'Everything else' },
    ]);
    const paymentFailure = facts({ signals: ['payment_failure'], tier: 'basic' });

    // Act
    const configured = decidePriority(paymentFailure, parsePriorityRules(json));
    const byDefault = decidePriority(paymentFailure);

    // Assess
    expect(configured).toEqual({ priority: 'P1', why: 'Payments are critical for us' });
    expect(byDefault.priority).toBe('P3');
  });

  it.each([
    {
      problem: 'an unknown signal',
      rules: [{ when: { signals: ['outtage'] }, priority: 'P1', why: 'x' }, CATCH_ALL],
      message: /TRIAGE_RULES\[0\]\.when\.signals\[0\]: Invalid enum value.*'outtage'/,
    },
    {
      problem: 'an unknown tier',
      rules: [CATCH_ALL, { when: { tiers: ['gold'] }, priority: 'P1', why: 'x' }],
      message: /TRIAGE_RULES\[1\]\.when\.tiers\[0\]: Invalid enum value/,
    },
    {
      problem: 'a misspelt condition',
      rules: [{ when: { signal: ['outage'] }, priority: 'P1', why: 'x' }, CATCH_ALL],
      message: /TRIAGE_RULES\[0\]\.when: Unrecognized key\(s\) in object: 'signal'/,
    },
    {
      problem: 'a priority outside P1…P4',
      rules: [{ when: { signals: ['outage'] }, priority: 'P0', why: 'x' }, CATCH_ALL],
      message: /TRIAGE_RULES\[0\]\.priority: Invalid enum value/,
    },
    {
      problem: 'an empty condition list',
      rules: [{ when: { anySignal: [] }, priority: 'P1', why: 'x' }, CATCH_ALL],
      message: /TRIAGE_RULES\[0\]\.when\.anySignal: Array must contain at least 1 element/,
    },
    {
      problem: 'a rule without a reason',
      rules: [{ when: {}, priority: 'P4', why: ' ' }],
      message: /TRIAGE_RULES\[0\]\.why: String must contain at least 1 character/,
    },
    { problem: 'an object instead of a list', rules: { rules: [] }, message: /TRIAGE_RULES: Expected array/ },
    { problem: 'an empty table', rules: [], message: /TRIAGE_RULES must hold at least one rule/ },
    {
      problem: 'no catch-all at the end',
      rules: [{ when: { signals: ['outage'] }, priority: 'P1', why: 'x' }],
      message: /TRIAGE_RULES\[0\]: the last rule must be a catch-all/,
    },
    {
      problem: 'a catch-all before the end',
      rules: [CATCH_ALL, { when: { signals: ['outage'] }, priority: 'P1', why: 'x' }, CATCH_ALL],
      message:
        /TRIAGE_RULES\[0\]: a catch-all rule must come last; the 2 rule\(s\) after it could never match/,
    },
  ])('refuses $problem with a message naming the field', ({ rules, message }) => {
    // Act
    const parse = () => parsePriorityRules(JSON.stringify(rules));

    // Assess
    expect(parse).toThrow(message);
  });

  it('refuses text that is not JSON, naming the source', () => {
    // Act
    const parse = () => parsePriorityRules('[{when:', 'tenant acme rules');

    // Assess
    expect(parse).toThrow(/^tenant acme rules is not valid JSON/);
  });
});

describe('triageEscalation', () => {
  const customer: CustomerProfile = {
    customerId: 'CUST-10042',
    name: 'Ada Lovelace',
    email: 'ada@analytical.example',
    tier: 'enterprise',
    company: 'Analytical Engines',
  };
  const rawText = 'Production is down for everyone, my login is ada@analytical.example, order ORD-77120';
  const input = (overrides: Partial<TriageInput> = {}): TriageInput => ({
    reason: 'low_confidence',
    intent: 'technical_issue',
    productArea: 'performance_reliability',
    confidence: 0.3,
    sentiment: { sentiment: 0, urgency: 0.2, cues: [] },
    faqsTried: [],
    transcript: [{ role: 'customer', text: maskPii(rawText).text }],
    ...overrides,
  });

  it('decides the priority from signals and tier and says which rule matched', () => {
    // Act
    const unknown = triageEscalation(input());
    const enterprise = triageEscalation(input({ tier: 'enterprise' }));

    // Assess
    expect(unknown).toMatchObject({
      signals: ['outage'],
      priority: 'P2',
      priorityRule: 'Outage reported by a pro, basic or unknown customer',
      queue: 'technical',
    });
    expect(enterprise).toMatchObject({
      priority: 'P1',
      priorityRule: 'Outage reported by an enterprise customer',
    });
    expect(enterprise.handoff).toMatchObject({
      signals: ['outage'],
      priorityReason: 'Outage reported by an enterprise customer',
      tier: 'enterprise',
    });
  });

  it('takes the tier from the CRM customer and copies the customer into the handoff packet', () => {
    // Act
    const triage = triageEscalation(input({ customer }));

    // Assess
    expect(triage.priority).toBe('P1');
    expect(triage.handoff.customer).toEqual({
      customerId: 'CUST-10042',
      name: 'Ada Lovelace',
      email: 'ada@analytical.example',
      tier: 'enterprise',
      company: 'Analytical Engines',
    });
    expect(triage.handoff.tier).toBe('enterprise');
  });

  it('reads entities from the unmasked customer text when given, the masked transcript otherwise', () => {
    // Act
    const masked = triageEscalation(input());
    const raw = triageEscalation(input({ rawCustomerText: rawText }));

    // Assess
    expect(masked.handoff.entities.emails).toBeUndefined();
    expect(raw.handoff.entities).toMatchObject({
      emails: ['ada@analytical.example'],
      orderIds: ['ORD-77120'],
      productAreas: ['performance_reliability', 'authentication_sso'],
    });
  });

  it("follows the operator's rule table", () => {
    // Prepare
    const rules = parsePriorityRules(
      JSON.stringify([
        { when: { intents: ['technical_issue'] }, priority: 'P2', why: 'Technical issues first' },
        { when: {}, priority: 'P4', why: 'Everything else' },
      ]),
    );

    // Act
    const triage = triageEscalation(input({ rules, tier: 'enterprise' }));

    // Assess
    expect(triage).toMatchObject({ priority: 'P2', priorityRule: 'Technical issues first' });
  });

  it('marks a request for a human as a signal', () => {
    // Act
    const triage = triageEscalation(
      input({ reason: 'human_requested', transcript: [{ role: 'customer', text: 'agent please' }] }),
    );

    // Assess
    expect(triage).toMatchObject({ signals: ['human_requested'], priority: 'P3' });
  });
});
