import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileKnowledgeBaseStore } from '#adapters/fileKnowledgeBaseStore';
import { importKnowledgeBase, parseKnowledgeBaseJsonl, toJsonl } from '#core/knowledgeBase';

const line = (fields: Record<string, unknown>) =>
  JSON.stringify({ id: 'faq-1', question: 'Q?', answer: 'A.', ...fields });

describe('knowledge base JSONL', () => {
  it('reports every bad line with its 1-based number and keeps the good ones', () => {
    // Prepare
    const text = [
      line({}),
      '{not json',
      line({ id: '' }),
      line({ id: 'faq-2', question: '' }),
      line({ id: 'faq-3' }),
    ].join('\n');
    // Act
    const parsed = parseKnowledgeBaseJsonl(text);
    // Assess
    expect(parsed.faqs.map((f) => f.id)).toEqual(['faq-1', 'faq-3']);
    expect(parsed.errors.map((e) => e.line)).toEqual([2, 3, 4]);
    expect(parsed.errors[0]!.message).toMatch(/not valid JSON/);
    expect(parsed.errors[1]!.message).toMatch(/^id:/);
    expect(parsed.errors[2]!.message).toMatch(/^question:/);
  });

  it('drops unknown fields with a warning naming the line instead of rejecting the FAQ', () => {
    const parsed = parseKnowledgeBaseJsonl(line({ anwser: 'typo' }));
    expect(parsed.faqs).toHaveLength(1);
    expect(parsed.warnings).toEqual([{ line: 1, message: 'unknown field "anwser" ignored' }]);
  });

  it("accepts another KB's field names, display names and plain dates", () => {
    // Prepare
    const foreign = JSON.stringify({
      id: 17,
      question: 'How do I get a refund?',
      answer: 'Open Orders and choose Refund.',
      alternate_phrasings: ['money back'],
      product_area: 'Billing & subscriptions',
      intent: 'Billing Question',
      tags: 'refund, orders',
      updated_at: '2026-01-05',
    });
    // Act
    const parsed = parseKnowledgeBaseJsonl(foreign);
    // Assess
    expect(parsed.errors).toEqual([]);
    expect(parsed.faqs[0]).toMatchObject({
      id: '17',
      alternates: ['money back'],
      productArea: 'billing_subscriptions',
      intent: 'billing_question',
      tags: ['refund', 'orders'],
      updatedAt: '2026-01-05',
    });
  });

  it('ignores an unknown intent with a warning but rejects a FAQ without an answer', () => {
    const parsed = parseKnowledgeBaseJsonl(
      [line({ intent: 'complaint' }), JSON.stringify({ id: 'x', question: 'Q?' })].join('\n'),
    );
    expect(parsed.faqs.map((f) => f.intent)).toEqual([undefined]);
    expect(parsed.warnings[0]!.message).toMatch(/intent "complaint"/);
    expect(parsed.errors).toEqual([{ line: 2, message: expect.stringMatching(/^answer:/) }]);
  });

  it('keeps the last line for a repeated id and reports the duplicate', () => {
    const parsed = parseKnowledgeBaseJsonl([line({ answer: 'old' }), line({ answer: 'new' })].join('\n'));
    expect(parsed.faqs).toHaveLength(1);
    expect(parsed.faqs[0]!.answer).toBe('new');
    expect(parsed.duplicates).toEqual(['faq-1']);
  });

  it('fills optional fields with defaults and round-trips through toJsonl', () => {
    const parsed = parseKnowledgeBaseJsonl(line({}));
    expect(parsed.faqs[0]).toEqual({ id: 'faq-1', question: 'Q?', answer: 'A.', alternates: [], tags: [] });
    expect(parseKnowledgeBaseJsonl(toJsonl(parsed.faqs)).faqs).toEqual(parsed.faqs);
  });

  it('reports progress for large files', () => {
    const text = Array.from({ length: 2500 }, (_, i) => line({ id: `faq-${i}` })).join('\n');
    const calls: number[] = [];
    parseKnowledgeBaseJsonl(text, (done) => calls.push(done));
    expect(calls).toEqual([1000, 2000, 2500]);
  });
});

describe('knowledge base import', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
  const store = () => {
    const dir = mkdtempSync(join(tmpdir(), 'kb-'));
    dirs.push(dir);
    return new FileKnowledgeBaseStore(join(dir, 'kb.jsonl'));
  };

  it('is idempotent by id: importing the same file twice changes nothing the second time', async () => {
    // Prepare
    const target = store();
    const file = [line({}), line({ id: 'faq-2' })].join('\n');
    // Act
    const first = await importKnowledgeBase(file, target);
    const second = await importKnowledgeBase(file, target);
    // Assess
    expect(first).toMatchObject({ added: 2, updated: 0, unchanged: 0 });
    expect(second).toMatchObject({ added: 0, updated: 0, unchanged: 2 });
    expect(await target.list()).toHaveLength(2);
  });

  it('updates changed FAQs in place and keeps the others', async () => {
    const target = store();
    await importKnowledgeBase([line({}), line({ id: 'faq-2' })].join('\n'), target);
    const report = await importKnowledgeBase(line({ answer: 'Better answer.' }), target);
    expect(report).toMatchObject({ added: 0, updated: 1 });
    const faqs = await target.list();
    expect(faqs.find((f) => f.id === 'faq-1')!.answer).toBe('Better answer.');
    expect(faqs).toHaveLength(2);
  });

  it('writes nothing in atomic mode when any line is bad', async () => {
    const target = store();
    const report = await importKnowledgeBase([line({}), '{oops'].join('\n'), target, { atomic: true });
    expect(report.errors).toHaveLength(1);
    expect(await target.list()).toEqual([]);
  });
});
