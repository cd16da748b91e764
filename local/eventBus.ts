/**
 * Local face of EventBridge: an in-process bus with EventBridge event-pattern matching, per-rule retries
 * and dead-letter targets. Imported by the local entry point and integration tests only.
 */
import { randomUUID } from 'node:crypto';
import { type DomainEvent, EVENT_SOURCE, type EventEnvelope, type EventPublisher } from '#core/domainEvents';

/** An EventBridge event pattern (JSON): leaves are arrays of values or content filters. */
export interface EventPattern {
  readonly [field: string]: unknown;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * EventBridge pattern semantics: every field of the pattern must match (AND); a leaf array matches when
 * any of its values or filters matches (OR); an array in the event matches when any element does;
 * `$or` holds alternative sub-patterns. Supported filters: prefix, suffix, anything-but (value, list,
 * prefix, suffix), numeric, exists, equals-ignore-case, wildcard.
 */
export function matchesPattern(pattern: EventPattern, event: unknown): boolean {
  if (!isObject(event)) return false;
  for (const [field, expected] of Object.entries(pattern)) {
    if (field === '$or') {
      if (!Array.isArray(expected)) throw new Error('Event pattern: $or must be an array of patterns');
      if (!expected.some((alternative) => matchesPattern(alternative as EventPattern, event))) return false;
    } else if (Array.isArray(expected)) {
      if (!matchesLeaf(expected, event[field])) return false;
    } else if (isObject(expected)) {
      if (!matchesPattern(expected, event[field])) return false;
    } else {
      throw new Error(
        `Event pattern: field "${field}" must be an array of values/filters or a nested object`,
      );
    }
  }
  return true;
}

const FILTER_OPERATORS = new Set([
  'prefix',
  'suffix',
  'equals-ignore-case',
  'wildcard',
  'numeric',
  'anything-but',
  'exists',
]);

/** Throws a message naming the rule and the field when `pattern` is not a valid event pattern. */
export function assertValidPattern(pattern: unknown, ruleName: string, path = ''): void {
  const fail = (why: string): never => {
    throw new Error(`Event rule "${ruleName}": invalid pattern at ${path || '(root)'}: ${why}`);
  };
  if (!isObject(pattern)) fail('a pattern is a JSON object');
  for (const [field, expected] of Object.entries(pattern as Record<string, unknown>)) {
    const at = path ? `${path}.${field}` : field;
    if (field === '$or') {
      if (!Array.isArray(expected) || expected.length < 2)
        fail('$or needs an array of at least two patterns');
      (expected as unknown[]).forEach((alternative, i) =>
        assertValidPattern(alternative, ruleName, `${at}[${i}]`),
      );
    } else if (isObject(expected)) {
      assertValidPattern(expected, ruleName, at);
    } else if (!Array.isArray(expected) || expected.length === 0) {
      fail(`"${field}" must be a non-empty array of values/filters or a nested object`);
    } else {
      for (const alternative of expected) {
        if (!isObject(alternative)) continue;
        const operators = Object.keys(alternative);
        if (operators.length !== 1 || !FILTER_OPERATORS.has(operators[0]!)) {
          fail(`"${field}" has an unsupported filter ${JSON.stringify(alternative)}`);
        }
        try {
          matchesValue(alternative, operators[0] === 'numeric' ? 0 : '');
        } catch (error) {
          fail(`"${field}": ${(error as Error).message}`);
        }
      }
    }
  }
}

function matchesLeaf(alternatives: readonly unknown[], value: unknown): boolean {
  return alternatives.some((alternative) => {
    if (isObject(alternative) && 'exists' in alternative) {
      // exists applies to the field, not to each element of an array value.
      return (value !== undefined) === alternative.exists;
    }
    if (value === undefined) return false;
    const candidates = Array.isArray(value) ? value : [value];
    return candidates.some((candidate) => matchesValue(alternative, candidate));
  });
}

function matchesValue(filter: unknown, value: unknown): boolean {
  if (!isObject(filter)) return filter === value;
  const entries = Object.entries(filter);
  if (entries.length !== 1) {
    throw new Error(`Event pattern: a filter has exactly one operator, got ${JSON.stringify(filter)}`);
  }
  const [operator, operand] = entries[0]!;
  switch (operator) {
    case 'prefix':
      return matchesAffix(operand, value, (v, a) => v.startsWith(a));
    case 'suffix':
      return matchesAffix(operand, value, (v, a) => v.endsWith(a));
    case 'equals-ignore-case':
      if (typeof operand !== 'string') throw new Error('equals-ignore-case takes a string');
      return typeof value === 'string' && value.toLowerCase() === operand.toLowerCase();
    case 'wildcard':
      if (typeof operand !== 'string') throw new Error('wildcard takes a string');
      return typeof value === 'string' && wildcardRegExp(operand).test(value);
    case 'numeric':
      return typeof value === 'number' && matchesNumeric(operand, value);
    case 'anything-but':
      return matchesAnythingBut(operand, value);
    case 'exists':
      if (typeof operand !== 'boolean') throw new Error('exists takes true or false');
      return operand;
    default:
      throw new Error(`Event pattern: unsupported filter "${operator}"`);
  }
}

function matchesAffix(
  operand: unknown,
  value: unknown,
  test: (value: string, affix: string) => boolean,
): boolean {
  if (typeof value !== 'string') return false;
  if (typeof operand === 'string') return test(value, operand);
  // { prefix: { 'equals-ignore-case': 'abc' } }
  if (isObject(operand) && typeof operand['equals-ignore-case'] === 'string') {
    return test(value.toLowerCase(), operand['equals-ignore-case'].toLowerCase());
  }
  throw new Error(`Event pattern: invalid prefix/suffix operand ${JSON.stringify(operand)}`);
}

function matchesAnythingBut(operand: unknown, value: unknown): boolean {
  if (Array.isArray(operand)) return !operand.includes(value);
  if (isObject(operand)) return !matchesValue(operand, value);
  return operand !== value;
}

const NUMERIC_OPERATORS: Record<string, (a: number, b: number) => boolean> = {
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '=': (a, b) => a === b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
};

function matchesNumeric(operand: unknown, value: number): boolean {
  if (!Array.isArray(operand) || operand.length === 0 || operand.length % 2 !== 0) {
    throw new Error(`Event pattern: numeric needs operator/number pairs, got ${JSON.stringify(operand)}`);
  }
  for (let i = 0; i < operand.length; i += 2) {
    const compare = NUMERIC_OPERATORS[operand[i] as string];
    const bound = operand[i + 1];
    if (!compare || typeof bound !== 'number') {
      throw new Error(`Event pattern: invalid numeric condition ${JSON.stringify(operand)}`);
    }
    if (!compare(value, bound)) return false;
  }
  return true;
}

function wildcardRegExp(pattern: string): RegExp {
  const escaped = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${escaped.join('.*')}$`);
}

export type EventRuleTarget = (envelope: EventEnvelope) => Promise<void>;

export interface EventRule {
  readonly name: string;
  readonly pattern: EventPattern;
  readonly target: EventRuleTarget;
  /** Retries after the first failed delivery (EventBridge MaximumRetryAttempts). @default 2 */
  readonly retryAttempts?: number;
  /** Receives envelopes whose deliveries all failed (the rule's DLQ). */
  readonly deadLetter?: (envelope: EventEnvelope, error: unknown) => Promise<void>;
}

export interface LocalEventBusOptions {
  /** Pause before the first retry, doubled per retry. @default 50 */
  readonly retryDelayMs?: number;
  /** Upper bound of a single pause. @default 2000 */
  readonly maxRetryDelayMs?: number;
  /** Called when an event is lost: all retries failed and there is no (working) dead-letter target. */
  readonly onUndelivered?: (rule: string, envelope: EventEnvelope, error: unknown) => void;
  readonly now?: () => Date;
}

/** EventPublisher for the local face: asynchronous fan-out to every matching rule. */
export class LocalEventBus implements EventPublisher {
  private readonly rules = new Map<string, EventRule>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly retryDelayMs: number;
  private readonly maxRetryDelayMs: number;
  private readonly onUndelivered: NonNullable<LocalEventBusOptions['onUndelivered']>;
  private readonly now: () => Date;

  constructor(options: LocalEventBusOptions = {}) {
    this.retryDelayMs = options.retryDelayMs ?? 50;
    this.maxRetryDelayMs = options.maxRetryDelayMs ?? 2_000;
    this.now = options.now ?? (() => new Date());
    this.onUndelivered =
      options.onUndelivered ??
      ((rule, envelope, error) => console.error(`Event ${envelope.id} lost by rule ${rule}`, error));
  }

  addRule(rule: EventRule): void {
    if (this.rules.has(rule.name)) throw new Error(`Event rule "${rule.name}" already exists`);
    const retryAttempts = rule.retryAttempts ?? 2;
    if (!Number.isInteger(retryAttempts) || retryAttempts < 0 || retryAttempts > 185) {
      throw new Error(`Event rule "${rule.name}": retryAttempts must be an integer from 0 to 185`);
    }
    // Fail on a malformed pattern now rather than on the first event.
    assertValidPattern(rule.pattern, rule.name);
    this.rules.set(rule.name, rule);
  }

  /** Never throws because of a target: failures are retried, then dead-lettered. */
  async publish(events: readonly DomainEvent[]): Promise<void> {
    await this.publishEntries(events.map((event) => ({ event })));
  }

  /**
   * PutEvents entries: an entry's `time` (PutEvents `Time`) becomes the envelope's time, as on EventBridge;
   * without one the bus stamps its own clock's time.
   */
  async publishEntries(
    entries: readonly { readonly event: DomainEvent; readonly time?: Date }[],
  ): Promise<void> {
    for (const { event, time } of entries) {
      const envelope: EventEnvelope = {
        id: randomUUID(),
        source: EVENT_SOURCE,
        'detail-type': event.type,
        time: (time ?? this.now()).toISOString(),
        detail: event,
      };
      for (const rule of this.rules.values()) {
        if (!matchesPattern(rule.pattern, envelope)) continue;
        const delivery = this.deliver(rule, envelope).finally(() => this.inFlight.delete(delivery));
        this.inFlight.add(delivery);
      }
    }
  }

  /** Resolves once every delivery in flight, including those started meanwhile by targets, has ended. */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
  }

  private async deliver(rule: EventRule, envelope: EventEnvelope): Promise<void> {
    // Let publish() return before any target runs, as with PutEvents.
    await new Promise((resolve) => setImmediate(resolve));
    const attempts = 1 + (rule.retryAttempts ?? 2);
    let lastError: unknown;
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (attempt > 0) {
        const delay = Math.min(this.retryDelayMs * 2 ** (attempt - 1), this.maxRetryDelayMs);
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
      try {
        await rule.target(envelope);
        return;
      } catch (error) {
        lastError = error;
      }
    }
    if (rule.deadLetter) {
      try {
        await rule.deadLetter(envelope, lastError);
        return;
      } catch (error) {
        lastError = error;
      }
    }
    try {
      this.onUndelivered(rule.name, envelope, lastError);
    } catch {
      // A failing reporter must not turn into an unhandled rejection.
    }
  }
}
