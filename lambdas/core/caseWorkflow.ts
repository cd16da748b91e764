/**
 * The steps of the escalation workflow (statemachines/escalation.asl.json): prepare the case for humans
 * (customer from the CRM, priority from the rule table with the customer's tier, SLA, CRM mirror, team
 * notification), park the workflow's callback token on the case while it waits for an agent, move the case
 * up a support level when the first-response target passes, and release the wait when an agent answers,
 * the case is resolved or the customer leaves. Every step is idempotent: a restarted workflow (the local
 * face starts open cases' workflows again after a restart) skips what is done and keeps its deadlines.
 */

import { handoffCustomer, routedQueue } from './caseTriage';
import type { Crm, CustomerProfile, CustomerTier } from './crm';
import type { CaseOpened, EventPublisher, SlaBreached } from './domainEvents';
import type { Clock } from './ports';
import type { SlaPlan, SlaPolicy, SupportLevel } from './slaPolicy';
import type { CaseRecord, CaseStore, ConversationStore } from './supportRecords';
import { NotFoundError } from './supportRecords';
import { decidePriority, type PriorityRule, type TriageSignal } from './triageRules';

/** Completes a waiting workflow task: Step Functions SendTaskSuccess on AWS and locally. */
export interface TaskCallbacks {
  /** Resolves even when the token is no longer waiting (timed out, already completed). */
  succeed(taskToken: string, output: object): Promise<void>;
}

export type WaitOutcome = 'replied' | 'resolved' | 'abandoned';

/** What the workflow's Choice states read after prepare and after a breach. */
export interface CaseStep {
  readonly caseId: string;
  /** True when nothing is left to wait for (answered, resolved, abandoned). */
  readonly done: boolean;
  readonly level?: string;
  /** Whole seconds until the current level's first-response deadline (>= 1). */
  readonly timeoutSeconds?: number;
}

export interface CaseWorkflowDependencies {
  readonly cases: CaseStore;
  readonly conversations: ConversationStore;
  readonly crm: Crm;
  readonly events: EventPublisher;
  readonly clock: Clock;
  readonly sla: SlaPolicy;
  readonly callbacks: TaskCallbacks;
  readonly priorityRules?: readonly PriorityRule[];
  readonly logger?: { warn(message: string, extra: Record<string, unknown>): void };
}

const OPEN: CaseRecord['status'][] = ['open', 'assigned'];

/** A case no longer waits for a first response once an agent answered or it was closed. */
export function waitOutcomeOf(record: CaseRecord): WaitOutcome | undefined {
  if (record.status === 'abandoned') return 'abandoned';
  if (record.status === 'resolved') return 'resolved';
  if (record.firstResponseAt) return 'replied';
  return undefined;
}

export class CaseWorkflow {
  constructor(private readonly deps: CaseWorkflowDependencies) {}

  private iso(ms = this.deps.clock.now()) {
    return new Date(ms).toISOString();
  }

  private async load(caseId: string): Promise<CaseRecord> {
    const record = await this.deps.cases.getCase(caseId);
    if (!record) throw new NotFoundError(`case ${caseId} not found`);
    return record;
  }

  /**
   * First step: customer, priority with tier, SLA plan, CRM mirror, operators notified. Repeating it (a
   * restarted workflow) keeps the stored deadline and notifies nobody twice.
   */
  async prepare(caseId: string): Promise<CaseStep> {
    const found = await this.deps.cases.getCase(caseId);
    // Erased at the customer's request (customerData.ts): nothing left to wait for.
    if (!found || waitOutcomeOf(found)) return { caseId, done: true };
    let record = found;
    const customer = await this.customerOf(record);
    if (!record.slaDueAt) record = await this.plan(record, customer);
    if (!record.crm) record = await this.mirror(record, customer);
    if (await this.deps.cases.markNotified(caseId, this.iso())) {
      const opened: CaseOpened = {
        type: 'CaseOpened',
        conversationId: record.conversationId,
        caseId,
        priority: record.priority,
        queue: record.queue,
        level: record.level ?? 'L1',
        tier: record.tier ?? 'unknown',
        slaDueAt: record.slaDueAt!,
      };
      await this.deps.events.publish([opened]);
    }
    return this.step(record);
  }

  /** Parks the callback token on the case; answers at once if the case stopped waiting meanwhile. */
  async registerWait(caseId: string, taskToken: string): Promise<void> {
    const record = await this.deps.cases.getCase(caseId);
    if (!record) {
      // Erased at the customer's request: the wait ends at once.
      await this.deps.callbacks.succeed(taskToken, { outcome: 'abandoned' });
      return;
    }
    const outcome = waitOutcomeOf(record);
    if (!outcome) {
      // The write returns the case as stored: an answer that landed before it found no token, but shows here.
      const latest = await this.deps.cases.updateCase(caseId, { waitToken: taskToken });
      const late = waitOutcomeOf(latest);
      if (late) await this.deps.callbacks.succeed(taskToken, { outcome: late });
      return;
    }
    await this.deps.callbacks.succeed(taskToken, { outcome });
  }

  /** The level's deadline passed without an answer: next level, new deadline, SlaBreached. */
  async slaBreached(caseId: string): Promise<CaseStep> {
    const record = await this.deps.cases.getCase(caseId);
    // Erased at the customer's request: the workflow ends.
    if (!record) return { caseId, done: true };
    if (waitOutcomeOf(record) || !record.slaDueAt) return this.step(record);
    const now = this.deps.clock.now();
    const current = planOf(record);
    // A wait restarted after a restart can time out early by rounding; only a passed deadline counts.
    if (now < current.dueAt) return this.step(record);
    const tier = tierOf(record);
    const next = this.deps.sla.afterBreach(current, record.priority, tier, now);
    const updated = await this.deps.cases.updateCase(
      caseId,
      {
        level: next.level,
        slaDueAt: this.iso(next.dueAt),
        slaTargetSeconds: next.targetSeconds,
        slaBreaches: next.breaches,
        updatedAt: this.iso(now),
      },
      OPEN,
    );
    const breached: SlaBreached = {
      type: 'SlaBreached',
      conversationId: record.conversationId,
      caseId,
      priority: record.priority,
      tier,
      fromLevel: current.level,
      toLevel: next.level,
      overdueSeconds: Math.max(0, Math.round((now - current.dueAt) / 1000)),
      breaches: next.breaches,
    };
    await this.deps.events.publish([breached]);
    return this.step(updated);
  }

  /** Last step: records how the wait ended. */
  async finish(caseId: string, outcome: WaitOutcome): Promise<{ caseId: string; outcome: WaitOutcome }> {
    const record = await this.deps.cases.getCase(caseId);
    // Erased at the customer's request: there is nothing to record the outcome on.
    if (record && record.workflowOutcome !== outcome) {
      await this.deps.cases.updateCase(caseId, { workflowOutcome: outcome, waitToken: '' });
    }
    return { caseId, outcome };
  }

  /** Ends the workflow's wait, if any: an agent answered, the case was resolved or abandoned. */
  async releaseWait(record: CaseRecord, outcome: WaitOutcome): Promise<void> {
    if (record.waitToken) await this.deps.callbacks.succeed(record.waitToken, { outcome });
  }

  /**
   * Mirrors what humans did into the CRM case: an agent's reply becomes a comment, a resolution or an
   * abandonment closes it. The built-in CRM's cases are the cases table itself: nothing to mirror.
   */
  async syncToCrm(
    change:
      | {
          readonly kind: 'reply';
          readonly caseId: string;
          readonly messageId: string;
          readonly agentName: string;
        }
      | { readonly kind: 'close'; readonly caseId: string; readonly status: 'resolved' | 'abandoned' },
  ): Promise<'synced' | 'skipped'> {
    const record = await this.load(change.caseId);
    if (!record.crm?.caseId || record.crm.system === 'builtin') return 'skipped';
    if (change.kind === 'close') {
      await this.deps.crm.closeCase(record.crm.caseId, { status: change.status });
      return 'synced';
    }
    const message = await this.deps.conversations.getMessage(record.conversationId, change.messageId);
    if (!message) throw new NotFoundError(`message ${change.messageId} of case ${change.caseId} not found`);
    await this.deps.crm.addComment(record.crm.caseId, { author: change.agentName, text: message.text });
    return 'synced';
  }

  private step(record: CaseRecord): CaseStep {
    if (waitOutcomeOf(record) || !record.slaDueAt) return { caseId: record.caseId, done: true };
    return {
      caseId: record.caseId,
      done: false,
      level: record.level ?? 'L1',
      timeoutSeconds: this.deps.sla.timeoutSeconds(planOf(record), this.deps.clock.now()),
    };
  }

  private async customerOf(record: CaseRecord): Promise<CustomerProfile | undefined> {
    const conversation = await this.deps.conversations.getConversation(record.conversationId);
    if (!conversation?.customerId) return undefined;
    try {
      return await this.deps.crm.findCustomer({ customerId: conversation.customerId });
    } catch (error) {
      // No CRM, no tier: the case still reaches a human, with the default SLA.
      this.deps.logger?.warn('customer lookup failed', { caseId: record.caseId, error });
      return undefined;
    }
  }

  private async plan(record: CaseRecord, customer: CustomerProfile | undefined): Promise<CaseRecord> {
    const tier = customer?.tier ?? 'unknown';
    const decided = decidePriority(
      {
        signals: (record.handoff.signals ?? []) as TriageSignal[],
        tier,
        intent: record.intent,
        reason: record.reason,
      },
      this.deps.priorityRules,
    );
    const plan = this.deps.sla.initial(decided.priority, tier, Date.parse(record.createdAt));
    return this.deps.cases.updateCase(
      record.caseId,
      {
        priority: decided.priority,
        tier,
        // The customer's tier routes too: enterprise cases go to their team's enterprise lane.
        queue: routedQueue(record.queue, tier),
        level: plan.level,
        slaDueAt: this.iso(plan.dueAt),
        slaTargetSeconds: plan.targetSeconds,
        slaBreaches: plan.breaches,
        handoff: {
          ...record.handoff,
          tier,
          priorityReason: decided.why,
          ...(customer ? { customer: handoffCustomer(customer) } : {}),
        },
        updatedAt: this.iso(),
      },
      OPEN,
    );
  }

  /** Mirrors the case into the CRM; a CRM outage is recorded on the case and does not stop the handoff. */
  private async mirror(record: CaseRecord, customer: CustomerProfile | undefined): Promise<CaseRecord> {
    try {
      const { crmCaseId } = await this.deps.crm.upsertCase({
        record,
        ...(customer ? { customer } : {}),
        description: handoffDescription(record),
      });
      return await this.deps.cases.updateCase(record.caseId, {
        crm: { system: this.deps.crm.name, caseId: crmCaseId },
        crmError: '',
      });
    } catch (error) {
      this.deps.logger?.warn('CRM case sync failed', { caseId: record.caseId, error });
      return this.deps.cases.updateCase(record.caseId, {
        crmError: `${this.deps.crm.name}: ${(error as Error).message}`.slice(0, 300),
      });
    }
  }
}

const tierOf = (record: CaseRecord): CustomerTier | 'unknown' =>
  (record.tier as CustomerTier | undefined) ?? 'unknown';

function planOf(record: CaseRecord): SlaPlan {
  return {
    level: (record.level ?? 'L1') as SupportLevel,
    dueAt: Date.parse(record.slaDueAt!),
    targetSeconds: record.slaTargetSeconds ?? 0,
    breaches: record.slaBreaches ?? 0,
  };
}

/** The handoff packet as plain text, for CRMs that keep it in a description field. */
export function handoffDescription(record: CaseRecord): string {
  const h = record.handoff;
  const lines = [
    h.summary,
    '',
    `Priority: ${record.priority}${h.priorityReason ? ` (${h.priorityReason})` : ''}`,
    `Queue: ${record.queue}; level ${record.level ?? 'L1'}`,
    `Intent: ${h.intent}; product area: ${h.productArea}`,
    `Escalation reason: ${h.reason.replace(/_/g, ' ')}; bot confidence ${Math.round(h.confidence * 100)} %`,
    `Sentiment ${h.sentiment.toFixed(2)}, urgency ${h.urgency.toFixed(2)}${h.signals?.length ? `; signals: ${h.signals.join(', ')}` : ''}`,
  ];
  if (h.customer) {
    lines.push(
      `Customer: ${[h.customer.name, h.customer.email, h.customer.customerId].filter(Boolean).join(', ')} (${h.customer.tier ?? 'unknown'} tier)`,
    );
  }
  const entities = Object.entries(h.entities).filter(([, values]) => values.length);
  if (entities.length) {
    lines.push(`Details: ${entities.map(([key, values]) => `${key}: ${values.join(', ')}`).join('; ')}`);
  }
  if (h.faqsTried.length) {
    lines.push(`FAQs tried: ${h.faqsTried.map((f) => `${f.faqId} "${f.question}"`).join('; ')}`);
  }
  lines.push(`SupportMax case ${record.caseId}, conversation ${record.conversationId}`);
  return lines.join('\n');
}
