import { describe, expect, it } from 'vitest';
import { CaseWorkflow, handoffDescription, type TaskCallbacks } from '#core/caseWorkflow';
import type { Crm, CrmCaseUpsert, CustomerProfile } from '#core/crm';
import { SlaPolicy } from '#core/slaPolicy';
import type { CaseRecord } from '#core/supportRecords';
import { parsePriorityRules } from '#core/triageRules';
import {
  FakeClock,
  InMemoryCaseStore,
  InMemoryConversationStore,
  RecordingEventPublisher,
} from '../support/inMemoryStores';

const DANA: CustomerProfile = {
  customerId: 'CUST-1001',
  name: 'Dana Whitfield',
  email: 'dana@northwind.example',
  tier: 'enterprise',
  company: 'Northwind',
};

class FakeCrm implements Crm {
  readonly name = 'fake';
  readonly upserts: CrmCaseUpsert[] = [];
  failUpserts = false;
  constructor(private readonly customers: CustomerProfile[] = [DANA]) {}
  async findCustomer(ref: { customerId?: string }) {
    return this.customers.find((c) => c.customerId === ref.customerId);
  }
  async upsertCase(request: CrmCaseUpsert) {
    if (this.failUpserts) throw new Error('Salesforce is down');
    this.upserts.push(request);
    return { crmCaseId: `500${request.record.caseId.slice(3)}` };
  }
  readonly calls: string[] = [];
  async addComment(id: string, comment: { author: string; text: string }) {
    this.calls.push(`comment ${id} ${comment.author}: ${comment.text}`);
  }
  async closeCase(id: string, resolution: { status: string }) {
    this.calls.push(`close ${id} ${resolution.status}`);
  }
}

class RecordingCallbacks implements TaskCallbacks {
  readonly sent: { token: string; output: object }[] = [];
  async succeed(taskToken: string, output: object) {
    this.sent.push({ token: taskToken, output });
  }
}

async function fixture(options: { customerId?: string; signals?: string[]; rules?: string } = {}) {
  const clock = new FakeClock();
  const cases = new InMemoryCaseStore();
  const conversations = new InMemoryConversationStore();
  const events = new RecordingEventPublisher();
  const crm = new FakeCrm();
  const callbacks = new RecordingCallbacks();
  const now = new Date(clock.now()).toISOString();
  await conversations.createConversation({
    conversationId: 'conv-0001',
    status: 'escalated',
    channel: 'chat',
    createdAt: now,
    updatedAt: now,
    ...(options.customerId ? { customerId: options.customerId } : {}),
  });
  const record: CaseRecord = {
    caseId: 'CS-ABCD1234',
    conversationId: 'conv-0001',
    status: 'open',
    priority: 'P3',
    queue: 'technical',
    reason: 'negative_sentiment_urgent',
    subject: 'Production is down',
    intent: 'technical_issue',
    productArea: 'integrations',
    confidence: 0.2,
    handoff: {
      summary: 'Technical issue about integrations; escalated: negative sentiment urgent.',
      intent: 'technical_issue',
      productArea: 'integrations',
      confidence: 0.2,
      reason: 'negative_sentiment_urgent',
      sentiment: -0.7,
      urgency: 0.8,
      faqsTried: [{ faqId: 'int-001', question: 'Why is my webhook failing?' }],
      entities: { errorCodes: ['HTTP 503'] },
      signals: options.signals ?? ['outage', 'angry', 'urgent'],
    },
    createdAt: now,
    updatedAt: now,
  };
  await cases.createCase(record);
  const workflow = new CaseWorkflow({
    cases,
    conversations,
    crm,
    events,
    clock,
    sla: new SlaPolicy(),
    callbacks,
    ...(options.rules ? { priorityRules: parsePriorityRules(options.rules) } : {}),
  });
  return { clock, cases, events, crm, callbacks, workflow, caseId: record.caseId };
}

describe('CaseWorkflow', () => {
  it('makes an enterprise outage a P1 with a 5-minute first-response deadline and notifies once', async () => {
    // Prepare
    const { workflow, cases, events, crm, caseId } = await fixture({ customerId: 'CUST-1001' });

    // Act
    const step = await workflow.prepare(caseId);
    const again = await workflow.prepare(caseId);

    // Assess
    const stored = (await cases.getCase(caseId))!;
    expect(stored).toMatchObject({
      priority: 'P1',
      tier: 'enterprise',
      level: 'L1',
      slaTargetSeconds: 300,
      queue: 'technical-enterprise',
    });
    expect(stored.handoff.customer).toMatchObject({ customerId: 'CUST-1001', tier: 'enterprise' });
    expect(stored.handoff.priorityReason).toBeTruthy();
    expect(stored.crm).toEqual({ system: 'fake', caseId: '500ABCD1234' });
    expect(step).toEqual({ caseId, done: false, level: 'L1', timeoutSeconds: 300 });
    expect(again).toEqual(step);
    expect(events.ofType('CaseOpened')).toHaveLength(1);
    expect(crm.upserts).toHaveLength(1);
    expect(crm.upserts[0]!.description).toContain('Dana Whitfield');
  });

  it('keeps the stored deadline when a restarted workflow prepares the case again', async () => {
    // Prepare
    const { workflow, clock, caseId } = await fixture({ customerId: 'CUST-1001' });
    await workflow.prepare(caseId);

    // Act
    clock.advance(120_000);
    const resumed = await workflow.prepare(caseId);

    // Assess
    expect(resumed.timeoutSeconds).toBe(180);
  });

  it('moves an unanswered case L1 → L2 → L3 and emits SlaBreached each time', async () => {
    // Prepare
    const { workflow, clock, cases, events, caseId } = await fixture({ customerId: 'CUST-1001' });
    await workflow.prepare(caseId);

    // Act
    clock.advance(300_000);
    const second = await workflow.slaBreached(caseId);
    clock.advance(150_000);
    const third = await workflow.slaBreached(caseId);
    clock.advance(150_000);
    const rearmed = await workflow.slaBreached(caseId);

    // Assess
    expect([second.level, third.level, rearmed.level]).toEqual(['L2', 'L3', 'L3']);
    expect(second.timeoutSeconds).toBe(150);
    const breaches = events.ofType('SlaBreached');
    expect(breaches.map((b) => `${b.fromLevel}>${b.toLevel}`)).toEqual(['L1>L2', 'L2>L3', 'L3>L3']);
    expect(breaches[0]).toMatchObject({ priority: 'P1', tier: 'enterprise', overdueSeconds: 0, breaches: 1 });
    expect((await cases.getCase(caseId))!.slaBreaches).toBe(3);
  });

  it('ignores a timer that fires before the deadline (restart rounding)', async () => {
    // Prepare
    const { workflow, clock, events, caseId } = await fixture({ customerId: 'CUST-1001' });
    await workflow.prepare(caseId);

    // Act
    clock.advance(299_000);
    const step = await workflow.slaBreached(caseId);

    // Assess
    expect(step).toMatchObject({ done: false, level: 'L1', timeoutSeconds: 1 });
    expect(events.ofType('SlaBreached')).toHaveLength(0);
  });

  it('gives an anonymous customer the unknown-tier SLA and the rule table a say', async () => {
    // Prepare
    const rules = JSON.stringify([
      { when: { signals: ['outage'] }, priority: 'P2', why: 'any outage is P2 here' },
      { when: {}, priority: 'P4', why: 'everything else' },
    ]);
    const { workflow, cases, caseId } = await fixture({ rules });

    // Act
    await workflow.prepare(caseId);

    // Assess
    expect(await cases.getCase(caseId)).toMatchObject({
      priority: 'P2',
      tier: 'unknown',
      slaTargetSeconds: 7200,
      handoff: { priorityReason: 'any outage is P2 here' },
    });
  });

  it('answers the wait at once when the agent replied before the token was parked', async () => {
    // Prepare
    const { workflow, cases, callbacks, caseId } = await fixture({ customerId: 'CUST-1001' });
    await workflow.prepare(caseId);
    await cases.markFirstResponse(caseId, new Date().toISOString());

    // Act
    await workflow.registerWait(caseId, 'token-1');

    // Assess
    expect(callbacks.sent).toEqual([{ token: 'token-1', output: { outcome: 'replied' } }]);
  });

  it('parks the token and releases it when the case resolves', async () => {
    // Prepare
    const { workflow, cases, callbacks, caseId } = await fixture({ customerId: 'CUST-1001' });
    await workflow.prepare(caseId);
    await workflow.registerWait(caseId, 'token-2');

    // Act
    const waiting = (await cases.getCase(caseId))!;
    await workflow.releaseWait(waiting, 'resolved');
    await workflow.finish(caseId, 'resolved');

    // Assess
    expect(waiting.waitToken).toBe('token-2');
    expect(callbacks.sent).toEqual([{ token: 'token-2', output: { outcome: 'resolved' } }]);
    expect(await cases.getCase(caseId)).toMatchObject({ workflowOutcome: 'resolved', waitToken: '' });
  });

  it('still hands the case to humans when the CRM is down, and says so on the case', async () => {
    // Prepare
    const { workflow, cases, crm, events, caseId } = await fixture({ customerId: 'CUST-1001' });
    crm.failUpserts = true;

    // Act
    const step = await workflow.prepare(caseId);

    // Assess
    expect(step.done).toBe(false);
    expect((await cases.getCase(caseId))!.crmError).toContain('Salesforce is down');
    expect(events.ofType('CaseOpened')).toHaveLength(1);
  });

  it('reports done for a case that is already resolved', async () => {
    // Prepare
    const { workflow, cases, caseId } = await fixture();
    await cases.updateCase(caseId, { status: 'resolved' });

    // Act
    const step = await workflow.prepare(caseId);

    // Assess
    expect(step).toEqual({ caseId, done: true });
  });

  it("ends every step quietly for a case erased at the customer's request", async () => {
    // Prepare
    const { workflow, cases, callbacks, caseId } = await fixture();
    await cases.deleteCase(caseId);

    // Act
    const prepared = await workflow.prepare(caseId);
    await workflow.registerWait(caseId, 'token-erased');
    const breached = await workflow.slaBreached(caseId);
    const finished = await workflow.finish(caseId, 'abandoned');

    // Assess
    expect([prepared, breached]).toEqual([
      { caseId, done: true },
      { caseId, done: true },
    ]);
    expect(callbacks.sent).toEqual([{ token: 'token-erased', output: { outcome: 'abandoned' } }]);
    expect(finished).toEqual({ caseId, outcome: 'abandoned' });
    expect(await cases.getCase(caseId)).toBeUndefined();
  });

  it('renders the handoff packet for a CRM description', async () => {
    // Prepare
    const { workflow, cases, caseId } = await fixture({ customerId: 'CUST-1001' });
    await workflow.prepare(caseId);

    // Act
    const text = handoffDescription((await cases.getCase(caseId))!);

    // Assess
    expect(text).toContain('Priority: P1');
    expect(text).toContain('errorCodes: HTTP 503');
    expect(text).toContain('int-001 "Why is my webhook failing?"');
    expect(text).toContain('enterprise tier');
  });

  it('mirrors agent replies and closures into an external CRM, and nothing into the built-in one', async () => {
    // Prepare
    const { workflow, cases, crm, caseId } = await fixture({ customerId: 'CUST-1001' });
    const conversations = (workflow as unknown as { deps: { conversations: InMemoryConversationStore } }).deps
      .conversations;
    await workflow.prepare(caseId);
    await conversations.appendMessage({
      conversationId: 'conv-0001',
      messageId: 'a-1',
      role: 'agent',
      text: 'We failed over to the standby region.',
      createdAt: new Date().toISOString(),
    });

    // Act
    const replied = await workflow.syncToCrm({ kind: 'reply', caseId, messageId: 'a-1', agentName: 'Ana' });
    const closed = await workflow.syncToCrm({ kind: 'close', caseId, status: 'resolved' });
    await cases.updateCase(caseId, { crm: { system: 'builtin', caseId } });
    const builtin = await workflow.syncToCrm({ kind: 'close', caseId, status: 'abandoned' });

    // Assess
    expect([replied, closed, builtin]).toEqual(['synced', 'synced', 'skipped']);
    expect(crm.calls).toEqual([
      'comment 500ABCD1234 Ana: We failed over to the standby region.',
      'close 500ABCD1234 resolved',
    ]);
  });
});
