import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  type AuditEntry,
  type AuditedEvent,
  type AuditLog,
  assertNoRawPii,
  auditEntriesOf,
  auditIdOf,
  auditTrail,
  operatorActionEntry,
  promptHashOf,
  redactAuditEntry,
} from '#core/auditLog';
import type { DomainEvent } from '#core/domainEvents';
import { createAuditRecorder } from '#handlers/events/auditRecorder';

const TIME = '2026-03-02T09:15:30.000Z';
const HASH = 'a'.repeat(64);

const event = (detail: DomainEvent, id = 'evt-1'): AuditedEvent => ({ id, time: TIME, detail });

const answered: DomainEvent = {
  type: 'MessageAnswered',
  conversationId: 'c-1',
  messageId: 'r-abc',
  intent: 'billing_question',
  productArea: 'billing',
  confidence: 0.9,
  faqIds: ['bill-004'],
  turnLatencyMs: 900,
  retrievalLatencyMs: 12,
  modelLatencyMs: 700,
  modelId: 'anthropic.claude-3-haiku-20240307-v1:0',
  inputTokens: 1200,
  outputTokens: 150,
  costUsd: 0.0004875,
  budgetActions: ['history_trimmed'],
  promptHash: HASH,
};

/** Remembers what it was given. */
class MemoryAuditLog implements AuditLog {
  readonly batches: AuditEntry[][] = [];
  async append(entries: readonly AuditEntry[]) {
    this.batches.push([...entries]);
  }
}

describe('audit entries from domain events', () => {
  it('records a model call with tokens, cost, prompt hash and budget actions, and no text', () => {
    // Act
    const [entry, ...rest] = auditEntriesOf(event(answered));

    // Assess
    expect(rest).toEqual([]);
    expect(entry).toEqual({
      auditId: expect.stringMatching(/^au-[0-9a-f]{32}$/),
      at: TIME,
      kind: 'model_call',
      actor: { type: 'system', id: 'assistant' },
      subject: { conversationId: 'c-1' },
      details: {
        modelId: 'anthropic.claude-3-haiku-20240307-v1:0',
        inputTokens: 1200,
        outputTokens: 150,
        costUsd: 0.0004875,
        promptHash: HASH,
        budgetActions: ['history_trimmed'],
      },
    });
  });

  it('gives a retried or re-published event the same audit id', () => {
    // Act
    const first = auditEntriesOf(event(answered, 'evt-1'))[0]!;
    const retried = auditEntriesOf(event(answered, 'evt-1'))[0]!;
    const republished = auditEntriesOf(event(answered, 'evt-2'))[0]!;
    const other = auditEntriesOf(event({ ...answered, messageId: 'r-def' }, 'evt-3'))[0]!;

    // Assess
    expect(retried.auditId).toBe(first.auditId);
    expect(republished.auditId).toBe(first.auditId);
    expect(other.auditId).not.toBe(first.auditId);
  });

  it('records an escalation with its reason, priority and queue', () => {
    // Act
    const entries = auditEntriesOf(
      event({
        type: 'ConversationEscalated',
        conversationId: 'c-1',
        caseId: 'CS-ABCD1234',
        reason: 'human_requested',
        intent: 'account_access',
        productArea: 'auth',
        confidence: 0.3,
        turnLatencyMs: 500,
        priority: 'P2',
        queue: 'accounts',
      }),
    );

    // Assess
    expect(entries).toEqual([
      expect.objectContaining({
        kind: 'escalation',
        actor: { type: 'system', id: 'escalation-policy' },
        subject: { conversationId: 'c-1', caseId: 'CS-ABCD1234' },
        details: { stage: 'escalated', reason: 'human_requested', priority: 'P2', queue: 'accounts' },
      }),
    ]);
  });

  it('records each agent reply of a case as its own escalation update by the agent', () => {
    // Prepare
    const reply: DomainEvent = {
      type: 'AgentReplied',
      conversationId: 'c-1',
      caseId: 'CS-ABCD1234',
      agentName: 'Dana',
      priority: 'P2',
      firstResponseSeconds: 95,
    };

    // Act
    const first = auditEntriesOf(event(reply, 'evt-1'));
    const second = auditEntriesOf(event({ ...reply, firstResponseSeconds: undefined }, 'evt-2'));

    // Assess
    expect(first[0]).toMatchObject({
      kind: 'escalation',
      actor: { type: 'operator', id: 'Dana' },
      details: { stage: 'agent_replied', priority: 'P2', firstResponseSeconds: 95 },
    });
    expect(second[0]!.details).toEqual({ stage: 'agent_replied', priority: 'P2' });
    expect(second[0]!.auditId).not.toBe(first[0]!.auditId);
  });

  it('records human resolutions and abandoned cases, and nothing for automated resolutions', () => {
    // Act
    const human = auditEntriesOf(
      event({
        type: 'ConversationResolved',
        conversationId: 'c-1',
        resolvedBy: 'human',
        caseId: 'CS-ABCD1234',
        resolutionSeconds: 600,
      }),
    );
    const automated = auditEntriesOf(
      event({
        type: 'ConversationResolved',
        conversationId: 'c-2',
        resolvedBy: 'automated',
        resolutionSeconds: 60,
      }),
    );
    const abandoned = auditEntriesOf(
      event({ type: 'CaseAbandoned', conversationId: 'c-3', caseId: 'CS-WXYZ9876', waitedSeconds: 120 }),
    );

    // Assess
    expect(human[0]).toMatchObject({ kind: 'escalation', details: { stage: 'resolved' } });
    expect(automated).toEqual([]);
    expect(abandoned[0]).toMatchObject({
      kind: 'escalation',
      actor: { type: 'customer', id: 'conversation:c-3' },
      details: { stage: 'abandoned', waitedSeconds: 120 },
    });
  });

  it('audits nothing for events without audit value', () => {
    // Act
    const entries = auditEntriesOf(
      event({
        type: 'MessageReceived',
        conversationId: 'c-1',
        messageId: 'm-1',
        channel: 'chat',
        firstMessage: true,
      }),
    );

    // Assess
    expect(entries).toEqual([]);
  });
});

describe('operator action entries', () => {
  it('attributes the action to the signed-in operator, with an id derived from the request', () => {
    // Prepare
    const input = {
      requestId: 'req-1',
      at: TIME,
      operator: 'dana',
      action: 'reply' as const,
      caseId: 'CS-ABCD1234',
      conversationId: 'c-1',
    };

    // Act
    const entry = operatorActionEntry(input);
    const retried = operatorActionEntry(input);
    const resolve = operatorActionEntry({ ...input, action: 'resolve' });

    // Assess
    expect(entry).toEqual({
      auditId: auditIdOf('operator_action:reply:req-1'),
      at: TIME,
      kind: 'operator_action',
      actor: { type: 'operator', id: 'dana' },
      subject: { caseId: 'CS-ABCD1234', conversationId: 'c-1' },
      details: { action: 'reply', caseId: 'CS-ABCD1234' },
    });
    expect(retried.auditId).toBe(entry.auditId);
    expect(resolve.auditId).not.toBe(entry.auditId);
  });
});

describe('prompt hash', () => {
  it('hashes the masked prompt: raw and masked questions give the same hash, which holds no text', () => {
    // Prepare
    const prompt = { modelId: 'local', passageIds: ['bill-004'] };

    // Act
    const raw = promptHashOf({ ...prompt, question: 'Refund to jane.doe@example.com please' });
    const masked = promptHashOf({ ...prompt, question: 'Refund to [EMAIL] please' });
    const otherModel = promptHashOf({
      ...prompt,
      modelId: 'anthropic.claude-3-haiku-20240307-v1:0',
      question: 'Refund to [EMAIL] please',
    });

    // Assess
    expect(raw).toMatch(/^[0-9a-f]{64}$/);
    expect(raw).toBe(masked);
    expect(otherModel).not.toBe(raw);
  });
});

interface CorpusLine {
  readonly text: string;
  readonly pii: readonly string[];
}

describe('audit redaction with the PII corpus', () => {
  const corpus: CorpusLine[] = readFileSync(new URL('../../data/pii/corpus.jsonl', import.meta.url), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as CorpusLine);

  /** Entries of every kind with the corpus text in each free string field an event or request can fill. */
  const entriesCarrying = (text: string): AuditEntry[] => [
    {
      ...auditEntriesOf(
        event({
          type: 'AgentReplied',
          conversationId: text,
          caseId: text,
          agentName: text,
          priority: text,
        }),
      )[0]!,
      subject: { conversationId: text, caseId: text, customerId: text },
    },
    {
      ...auditEntriesOf(event({ ...answered, modelId: text, budgetActions: undefined }))[0]!,
    },
    {
      ...auditEntriesOf(
        event({
          type: 'ConversationEscalated',
          conversationId: 'c-1',
          caseId: 'CS-ABCD1234',
          reason: 'low_confidence',
          intent: 'x',
          productArea: 'y',
          confidence: 0,
          turnLatencyMs: 0,
          queue: text,
        }),
      )[0]!,
    },
    operatorActionEntry({ requestId: 'req-1', at: TIME, operator: text, action: 'takeover', caseId: text }),
    {
      auditId: auditIdOf(`customer_data:${text}`),
      at: TIME,
      kind: 'customer_data',
      actor: { type: 'operator', id: text },
      subject: { customerId: text },
      details: { operation: 'export', fields: [text] },
    },
  ];

  it('leaks no labelled PII of any corpus line into any audit entry', () => {
    // Prepare
    const leaks: string[] = [];
    let entries = 0;

    // Act
    for (const { text, pii } of corpus) {
      for (const entry of entriesCarrying(text)) {
        entries++;
        const stored = JSON.stringify(redactAuditEntry(entry));
        for (const value of pii) if (stored.includes(value)) leaks.push(`${value} (${entry.kind})`);
      }
    }

    // Assess
    expect(corpus.length).toBeGreaterThanOrEqual(150);
    expect(entries).toBe(corpus.length * 5);
    expect(leaks).toEqual([]);
  });

  it('passes the no-PII assertion after redaction and names the masked fields', () => {
    // Prepare
    const withPii = corpus.filter((line) => line.pii.length > 0);

    // Act
    const redacted = withPii.flatMap((line) => entriesCarrying(line.text).map(redactAuditEntry));

    // Assess
    for (const entry of redacted) expect(() => assertNoRawPii(entry)).not.toThrow();
    expect(redacted[0]!.redacted).toEqual(
      expect.arrayContaining(['actor.id', 'subject.conversationId', 'subject.customerId']),
    );
  });

  it('leaves an entry of a line without PII unchanged', () => {
    // Prepare
    const clean = corpus.filter((line) => line.pii.length === 0);

    // Act
    const changed = clean
      .flatMap((line) => entriesCarrying(line.text))
      .filter((entry) => redactAuditEntry(entry) !== entry);

    // Assess
    expect(clean.length).toBeGreaterThan(0);
    expect(changed).toEqual([]);
  });

  it('refuses raw PII, naming the field but not the value', () => {
    // Prepare
    const entry = operatorActionEntry({
      requestId: 'req-1',
      at: TIME,
      operator: 'jane.doe@example.com',
      action: 'takeover',
      caseId: 'CS-ABCD1234',
    });

    // Act
    const check = () => assertNoRawPii(entry);

    // Assess
    expect(check).toThrow(/actor\.id holds PII \(email\)/);
    expect(check).not.toThrow(/jane/);
  });

  it('refuses a generated field that is not in its format, where PII could otherwise hide', () => {
    // Prepare
    const entry = { ...auditEntriesOf(event(answered))[0]! } as AuditEntry & {
      details: { promptHash: string };
    };
    const tampered = {
      ...entry,
      details: { ...entry.details, promptHash: 'call me on 415 555 0132' },
    } as AuditEntry;

    // Act
    const redact = () => redactAuditEntry(tampered);

    // Assess
    expect(redact).toThrow(/details\.promptHash is not in its expected format/);
  });
});

describe('audit trail', () => {
  it('hands every store the same redacted entries', async () => {
    // Prepare
    const table = new MemoryAuditLog();
    const archive = new MemoryAuditLog();
    const trail = auditTrail([table, archive]);
    const entry = operatorActionEntry({
      requestId: 'req-1',
      at: TIME,
      operator: 'dana@example.com',
      action: 'resolve',
      caseId: 'CS-ABCD1234',
    });

    // Act
    await trail.append([entry]);

    // Assess
    expect(table.batches).toEqual(archive.batches);
    expect(table.batches[0]![0]).toMatchObject({ actor: { id: '[EMAIL]' }, redacted: ['actor.id'] });
  });
});

describe('audit recorder handler', () => {
  const envelope = (detail: Record<string, unknown> & { type: string }, id = 'evt-1') => ({
    id,
    time: TIME,
    'detail-type': detail.type,
    detail,
  });

  it('records a model call from a MessageAnswered event', async () => {
    // Prepare
    const log = new MemoryAuditLog();
    const record = createAuditRecorder({ log });

    // Act
    const outcome = await record(envelope(answered as unknown as Record<string, unknown> & { type: string }));

    // Assess
    expect(outcome).toBe('recorded');
    expect(log.batches).toEqual([[expect.objectContaining({ kind: 'model_call', at: TIME })]]);
  });

  it('ignores events the audit does not record and automated resolutions', async () => {
    // Prepare
    const log = new MemoryAuditLog();
    const record = createAuditRecorder({ log });

    // Act
    const received = await record(
      envelope({
        type: 'MessageReceived',
        conversationId: 'c-1',
        messageId: 'm-1',
        channel: 'chat',
        firstMessage: true,
      }),
    );
    const automated = await record(
      envelope({
        type: 'ConversationResolved',
        conversationId: 'c-1',
        resolvedBy: 'automated',
        resolutionSeconds: 5,
      }),
    );

    // Assess
    expect([received, automated]).toEqual(['ignored', 'ignored']);
    expect(log.batches).toEqual([]);
  });

  it('rejects an audited event whose detail is invalid, naming the field', async () => {
    // Prepare
    const record = createAuditRecorder({ log: new MemoryAuditLog() });

    // Act
    const outcome = record(envelope({ ...(answered as object), type: 'MessageAnswered', inputTokens: -1 }));

    // Assess
    await expect(outcome).rejects.toThrow(/invalid MessageAnswered event evt-1: inputTokens/);
  });
});
