import { describe, expect, it } from 'vitest';
import {
  DEFAULT_FIRST_RESPONSE_MINUTES,
  parseSlaOverrides,
  type SlaPlan,
  SlaPolicy,
  SUPPORT_LEVELS,
} from '#core/slaPolicy';

const OPENED_AT = Date.parse('2025-03-03T09:00:00Z');
const SECOND = 1000;

describe('SLA policy: first response', () => {
  it('waits at L1 for the first-response target of the priority and tier', () => {
    // Prepare
    const policy = new SlaPolicy();

    // Act
    const plan = policy.initial('P1', 'enterprise', OPENED_AT);

    // Assess
    expect(plan).toEqual({
      level: 'L1',
      dueAt: OPENED_AT + 5 * 60 * SECOND,
      targetSeconds: 300,
      breaches: 0,
    });
  });

  it.each([
    ['P1', 'pro', 15],
    ['P2', 'enterprise', 30],
    ['P2', 'basic', 120],
    ['P3', 'pro', 240],
    ['P4', 'basic', 2880],
  ] as const)('gives %s %s customers %i minutes', (priority, tier, minutes) => {
    // Act
    const plan = new SlaPolicy().initial(priority, tier, OPENED_AT);

    // Assess
    expect(plan.targetSeconds).toBe(minutes * 60);
  });

  it('treats an unknown customer like a basic one', () => {
    // Prepare
    const policy = new SlaPolicy();

    // Act
    const targets = (['P1', 'P2', 'P3', 'P4'] as const).map((p) => [
      policy.firstResponseSeconds(p, 'unknown'),
      policy.firstResponseSeconds(p, 'basic'),
    ]);

    // Assess
    for (const [unknown, basic] of targets) expect(unknown).toBe(basic);
  });

  it('never promises a better tier or a lower priority a shorter wait than a worse one', () => {
    // Assess
    const rows = Object.values(DEFAULT_FIRST_RESPONSE_MINUTES);
    for (const row of rows) {
      expect(row.enterprise).toBeLessThanOrEqual(row.pro);
      expect(row.pro).toBeLessThanOrEqual(row.basic);
    }
    for (let i = 1; i < rows.length; i++)
      for (const tier of ['enterprise', 'pro', 'basic', 'unknown'] as const)
        expect(rows[i]![tier]).toBeGreaterThan(rows[i - 1]![tier]);
  });

  it('scales every duration with timeScale', () => {
    // Prepare
    const policy = new SlaPolicy({ timeScale: 0.01 });

    // Act
    const p1 = policy.initial('P1', 'enterprise', OPENED_AT);
    const p4 = policy.initial('P4', 'basic', OPENED_AT);

    // Assess
    expect(p1).toMatchObject({ targetSeconds: 3, dueAt: OPENED_AT + 3 * SECOND });
    expect(p4.targetSeconds).toBe(1728);
  });

  it('keeps every scaled target at least one whole second', () => {
    // Prepare
    const policy = new SlaPolicy({ timeScale: 0.0001 });

    // Act
    const plan = policy.initial('P1', 'enterprise', OPENED_AT);
    const escalated = policy.afterBreach(plan, 'P1', 'enterprise', plan.dueAt);

    // Assess
    expect(plan.targetSeconds).toBe(1);
    expect(escalated.targetSeconds).toBe(1);
    expect(Number.isInteger(escalated.targetSeconds)).toBe(true);
  });

  it('applies operator overrides cell by cell over the defaults', () => {
    // Prepare
    const policy = new SlaPolicy({ firstResponseMinutes: { P1: { enterprise: 10 } } });

    // Act
    const overridden = policy.firstResponseSeconds('P1', 'enterprise');
    const untouched = policy.firstResponseSeconds('P1', 'pro');

    // Assess
    expect(overridden).toBe(600);
    expect(untouched).toBe(15 * 60);
  });

  it.each([0, -1, 1001, Number.NaN])('refuses timeScale %s', (timeScale) => {
    // Act
    const build = () => new SlaPolicy({ timeScale });

    // Assess
    expect(build).toThrow(/timeScale must be > 0 and <= 1000/);
  });

  it('refuses invalid overrides in code with the path of the bad cell', () => {
    // Act
    const build = () => new SlaPolicy({ firstResponseMinutes: { P2: { pro: -5 } } });

    // Assess
    expect(build).toThrow(/firstResponseMinutes\.P2\.pro: Number must be greater than 0/);
  });
});

describe('SLA policy: breaches', () => {
  it('moves L1 → L2 → L3 with half the first-response target from now, then re-alerts at L3 ever less often', () => {
    // Prepare
    const policy = new SlaPolicy();
    const first = policy.initial('P2', 'pro', OPENED_AT);

    // Act
    const l2 = policy.afterBreach(first, 'P2', 'pro', first.dueAt + 2 * SECOND);
    const l3 = policy.afterBreach(l2, 'P2', 'pro', l2.dueAt);
    const stillL3 = policy.afterBreach(l3, 'P2', 'pro', l3.dueAt);

    // Assess
    expect([first, l2, l3, stillL3].map((p) => p.level)).toEqual(['L1', 'L2', 'L3', 'L3']);
    expect([first, l2, l3, stillL3].map((p) => p.breaches)).toEqual([0, 1, 2, 3]);
    expect(l2).toEqual({
      level: 'L2',
      dueAt: first.dueAt + 2 * SECOND + 1800 * SECOND,
      targetSeconds: 1800,
      breaches: 1,
    });
    expect(l3.targetSeconds).toBe(1800);
    expect(stillL3).toEqual({
      level: 'L3',
      dueAt: l3.dueAt + 3600 * SECOND,
      targetSeconds: 3600,
      breaches: 3,
    });
  });

  it('caps the L3 re-alert interval at a day, so an unanswered case never floods its workflow history', () => {
    // Prepare
    const policy = new SlaPolicy();
    let plan = policy.initial('P1', 'enterprise', OPENED_AT);

    // Act
    const targets: number[] = [];
    for (let i = 0; i < 30; i++) {
      plan = policy.afterBreach(plan, 'P1', 'enterprise', plan.dueAt);
      targets.push(plan.targetSeconds);
    }

    // Assess
    expect(targets.slice(0, 4)).toEqual([150, 150, 300, 600]);
    expect(Math.max(...targets)).toBe(86_400);
    expect(targets.at(-1)).toBe(86_400);
  });

  it('halves the scaled target when time is scaled', () => {
    // Prepare
    const policy = new SlaPolicy({ timeScale: 0.01 });
    const plan = policy.initial('P3', 'enterprise', OPENED_AT);

    // Act
    const escalated = policy.afterBreach(plan, 'P3', 'enterprise', plan.dueAt);

    // Assess
    expect(plan.targetSeconds).toBe(72);
    expect(escalated.targetSeconds).toBe(36);
  });

  it('names the levels in order', () => {
    // Assess
    expect(SUPPORT_LEVELS).toEqual(['L1', 'L2', 'L3']);
  });
});

describe('SLA policy: timeouts for the workflow timer', () => {
  const policy = new SlaPolicy();
  const plan = policy.initial('P1', 'enterprise', OPENED_AT);

  it('gives the whole seconds until the plan is due, rounded up', () => {
    // Act
    const atStart = policy.timeoutSeconds(plan, OPENED_AT);
    const midway = policy.timeoutSeconds(plan, OPENED_AT + 100_400);

    // Assess
    expect(atStart).toBe(300);
    expect(midway).toBe(200);
    expect(Number.isInteger(midway)).toBe(true);
  });

  it('gives at least one second when the plan is due or overdue', () => {
    // Act
    const timeouts = [plan.dueAt - 1, plan.dueAt, plan.dueAt + 60 * SECOND].map((now) =>
      policy.timeoutSeconds(plan, now),
    );

    // Assess
    expect(timeouts).toEqual([1, 1, 1]);
  });

  it('resumes a stored plan after a restart with only the remaining time', () => {
    // Prepare: the plan is stored (workflow state, DynamoDB) and the process restarts 120.5 s later.
    const stored = JSON.stringify(new SlaPolicy({ timeScale: 1 }).initial('P1', 'enterprise', OPENED_AT));
    const restartedPolicy = new SlaPolicy();
    const restoredPlan = JSON.parse(stored) as SlaPlan;

    // Act
    const remaining = restartedPolicy.timeoutSeconds(restoredPlan, OPENED_AT + 120_500);
    const afterDue = restartedPolicy.afterBreach(restoredPlan, 'P1', 'enterprise', restoredPlan.dueAt);

    // Assess
    expect(remaining).toBe(180);
    expect(restartedPolicy.timeoutSeconds(afterDue, restoredPlan.dueAt)).toBe(150);
  });

  it('refuses a plan without a numeric due time', () => {
    // Act
    const timeout = () => policy.timeoutSeconds({ ...plan, dueAt: Number.NaN }, OPENED_AT);

    // Assess
    expect(timeout).toThrow(/epoch milliseconds/);
  });
});

describe('SLA overrides (SLA_FIRST_RESPONSE_MINUTES)', () => {
  it('parses a partial table', () => {
    // Act
    const overrides = parseSlaOverrides('{"P1":{"enterprise":10,"unknown":45},"P4":{"basic":1440}}');

    // Assess
    expect(overrides).toEqual({ P1: { enterprise: 10, unknown: 45 }, P4: { basic: 1440 } });
  });

  it.each([
    ['{"P1":{"enterprise":0}}', /SLA_FIRST_RESPONSE_MINUTES\.P1\.enterprise: Number must be greater than 0/],
    ['{"P1":{"gold":5}}', /SLA_FIRST_RESPONSE_MINUTES\.P1: Unrecognized key\(s\) in object: 'gold'/],
    ['{"P5":{"pro":5}}', /SLA_FIRST_RESPONSE_MINUTES: Unrecognized key\(s\) in object: 'P5'/],
    ['{"P2":{"pro":"60"}}', /SLA_FIRST_RESPONSE_MINUTES\.P2\.pro: Expected number, received string/],
    [
      '{"P3":{"pro":100000}}',
      /SLA_FIRST_RESPONSE_MINUTES\.P3\.pro: Number must be less than or equal to 43200/,
    ],
    ['[]', /SLA_FIRST_RESPONSE_MINUTES: Expected object, received array/],
    ['{"P1":', /SLA_FIRST_RESPONSE_MINUTES is not valid JSON/],
  ])('refuses %s with a message naming the field', (json, message) => {
    // Act
    const parse = () => parseSlaOverrides(json);

    // Assess
    expect(parse).toThrow(message);
  });
});
