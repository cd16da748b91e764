/**
 * The priority rule table of escalation triage: facts about an escalation (signals found in the
 * conversation, customer tier, intent, escalation reason) → P1…P4. First match wins and the last rule is a
 * catch-all, so every escalation gets a priority. Operators replace the whole table with JSON (env
 * TRIAGE_RULES, validated by parsePriorityRules); docs/escalation.md shows the default table.
 */
import { z } from 'zod';
import { CUSTOMER_TIERS, type CustomerTier } from './crm';
import { ESCALATION_REASONS, type EscalationReason } from './escalationPolicy';
import type { Priority } from './supportRecords';
import { INTENTS, type Intent } from './types';

/** What triage reads from a conversation; caseTriage.detectSignals finds them. */
export const TRIAGE_SIGNALS = [
  'outage',
  'security',
  'data_loss',
  'payment_failure',
  'legal',
  'angry',
  'urgent',
  'human_requested',
] as const;
export type TriageSignal = (typeof TRIAGE_SIGNALS)[number];

export const PRIORITIES = ['P1', 'P2', 'P3', 'P4'] as const satisfies readonly Priority[];

export type TriageTier = CustomerTier | 'unknown';

export interface PriorityRule {
  /** Every condition given must hold; an empty `when` matches everything (the catch-all). */
  readonly when: {
    /** All of these signals are present. */
    readonly signals?: readonly TriageSignal[];
    /** At least one of these signals is present. */
    readonly anySignal?: readonly TriageSignal[];
    readonly tiers?: readonly TriageTier[];
    readonly intents?: readonly Intent[];
    readonly reasons?: readonly EscalationReason[];
  };
  readonly priority: Priority;
  /** Shown to operators as the reason for the priority (handoff packet, docs). */
  readonly why: string;
}

const rule = (priority: Priority, when: PriorityRule['when'], why: string): PriorityRule => ({
  when,
  priority,
  why,
});

/** The default table, most specific first. docs/escalation.md mirrors it (a test keeps them in step). */
// biome-ignore format: the rule table stays aligned as a table
export const DEFAULT_PRIORITY_RULES: readonly PriorityRule[] = [
  rule('P1', { signals: ['security'] },                                                 'Security incident (account takeover, breach, leaked credentials), any tier'),
  rule('P1', { signals: ['outage'], tiers: ['enterprise'] },                            'Outage reported by an enterprise customer'),
  rule('P1', { signals: ['data_loss'], tiers: ['enterprise'] },                         'Data loss at an enterprise customer'),
  rule('P1', { signals: ['angry', 'urgent'], tiers: ['enterprise'] },                   'Angry and urgent enterprise customer'),
  rule('P2', { signals: ['outage'] },                                                   'Outage reported by a pro, basic or unknown customer'),
  rule('P2', { signals: ['data_loss'] },                                                'Data loss at a pro, basic or unknown customer'),
  rule('P2', { anySignal: ['payment_failure', 'legal'], tiers: ['enterprise', 'pro'] }, 'Failed or wrong payment, or legal threat, from an enterprise or pro customer'),
  rule('P2', { signals: ['angry', 'urgent'], tiers: ['pro'] },                          'Angry and urgent pro customer'),
  rule('P2', { anySignal: ['angry', 'urgent'], tiers: ['enterprise'] },                 'Angry or urgent enterprise customer'),
  rule('P3', { anySignal: ['payment_failure', 'legal'] },                               'Failed or wrong payment, or legal threat, from a basic or unknown customer'),
  rule('P3', { anySignal: ['angry', 'urgent'] },                                        'Angry or urgent customer'),
  rule('P3', { signals: ['human_requested'] },                                          'Customer asked for a human'),
  rule('P3', { tiers: ['enterprise'] },                                                 'Any other enterprise escalation'),
  rule('P4', {},                                                                        'Any other escalation'),
];

export interface PriorityFacts {
  readonly signals: readonly TriageSignal[];
  readonly tier: TriageTier;
  readonly intent: string;
  readonly reason: EscalationReason;
}

const matches = (when: PriorityRule['when'], facts: PriorityFacts): boolean =>
  (when.signals ?? []).every((s) => facts.signals.includes(s)) &&
  (when.anySignal === undefined || when.anySignal.some((s) => facts.signals.includes(s))) &&
  (when.tiers === undefined || when.tiers.includes(facts.tier)) &&
  (when.intents === undefined || (when.intents as readonly string[]).includes(facts.intent)) &&
  (when.reasons === undefined || when.reasons.includes(facts.reason));

export const isCatchAll = (r: PriorityRule): boolean => Object.values(r.when).every((v) => v === undefined);

/** The first rule whose conditions all hold. A table without a matching rule is a bug: it throws. */
export function decidePriority(
  facts: PriorityFacts,
  rules: readonly PriorityRule[] = DEFAULT_PRIORITY_RULES,
): { readonly priority: Priority; readonly why: string } {
  const hit = rules.find((r) => matches(r.when, facts));
  if (!hit) throw new Error('No priority rule matched; the rule table must end with a catch-all rule');
  return { priority: hit.priority, why: hit.why };
}

const nonEmptyList = <T extends z.ZodTypeAny>(item: T) => z.array(item).min(1).optional();

const ruleSchema = z
  .object({
    when: z
      .object({
        signals: nonEmptyList(z.enum(TRIAGE_SIGNALS)),
        anySignal: nonEmptyList(z.enum(TRIAGE_SIGNALS)),
        tiers: nonEmptyList(z.enum([...CUSTOMER_TIERS, 'unknown'])),
        intents: nonEmptyList(z.enum(INTENTS)),
        reasons: nonEmptyList(z.enum(ESCALATION_REASONS)),
      })
      .strict(),
    priority: z.enum(PRIORITIES),
    why: z.string().trim().min(1).max(200),
  })
  .strict();

export const priorityRulesSchema = z.array(ruleSchema);

const pathOf = (source: string, path: readonly (string | number)[]) =>
  path.reduce<string>((acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : `${acc}.${key}`), source);

/**
 * Parses an operator's rule table (a JSON array of rules). Errors name the bad field, e.g.
 * `TRIAGE_RULES[2].when.tiers[0]: Invalid enum value…`; an empty table, a table that does not end with a
 * catch-all and a catch-all before the end (the rules after it could never match) are refused.
 */
export function parsePriorityRules(json: string, source = 'TRIAGE_RULES'): PriorityRule[] {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (error) {
    throw new Error(`${source} is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = priorityRulesSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .slice(0, 5)
      .map((issue) => `${pathOf(source, issue.path)}: ${issue.message}`);
    throw new Error(`${source} is not a valid priority rule table: ${problems.join('; ')}`);
  }
  const rules: PriorityRule[] = parsed.data;
  if (rules.length === 0)
    throw new Error(`${source} must hold at least one rule (a catch-all with "when": {})`);
  const firstCatchAll = rules.findIndex(isCatchAll);
  if (firstCatchAll === -1) {
    throw new Error(
      `${pathOf(source, [rules.length - 1])}: the last rule must be a catch-all ("when": {}) so that every escalation gets a priority`,
    );
  }
  if (firstCatchAll < rules.length - 1) {
    throw new Error(
      `${pathOf(source, [firstCatchAll])}: a catch-all rule must come last; the ${rules.length - 1 - firstCatchAll} rule(s) after it could never match`,
    );
  }
  return rules;
}
