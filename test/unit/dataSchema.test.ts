import { describe, expect, it } from 'vitest';
import { INTENTS, PRODUCT_AREAS } from '#core/types';
import { loadBuiltInKnowledgeBase, loadIntentSplit, loadRetrievalEval } from '../../scripts/datasets';

const key = (text: string) => text.trim().toLowerCase().replace(/\s+/g, ' ');

describe('seed data (data/)', () => {
  const faqs = loadBuiltInKnowledgeBase();

  it('holds 500 valid FAQs, 50 in each of the 10 product areas, with unique ids', () => {
    expect(faqs).toHaveLength(500);
    expect(new Set(faqs.map((f) => f.id)).size).toBe(500);
    for (const area of PRODUCT_AREAS) expect(faqs.filter((f) => f.productArea === area)).toHaveLength(50);
  });

  it('gives every FAQ an intent, alternates, tags, a date and a substantive answer', () => {
    for (const faq of faqs) {
      expect(faq.intent, faq.id).toBeDefined();
      expect(faq.alternates.length, faq.id).toBeGreaterThanOrEqual(3);
      expect(faq.tags.length, faq.id).toBeGreaterThanOrEqual(1);
      expect(faq.updatedAt, faq.id).toBeDefined();
      expect(faq.answer.split(/\s+/).length, faq.id).toBeGreaterThanOrEqual(30);
    }
  });

  it('covers every intent in the knowledge base', () => {
    for (const intent of INTENTS)
      expect(faqs.filter((f) => f.intent === intent).length).toBeGreaterThanOrEqual(20);
  });

  it('keeps retrieval evaluation cases disjoint from indexed text and pointing at existing FAQs', () => {
    const cases = loadRetrievalEval();
    const ids = new Set(faqs.map((f) => f.id));
    const indexed = new Set(faqs.flatMap((f) => [f.question, ...f.alternates]).map(key));
    expect(cases.length).toBeGreaterThanOrEqual(1000);
    for (const c of cases) {
      if (c.faqId !== null) expect(ids.has(c.faqId), c.faqId).toBe(true);
      expect(indexed.has(key(c.text)), c.text).toBe(false);
    }
    expect(cases.filter((c) => c.faqId === null).length).toBeGreaterThanOrEqual(100);
  });

  it('splits labelled messages into disjoint train and test sets covering every intent and area', () => {
    const train = loadIntentSplit('train');
    const test = loadIntentSplit('test');
    const trainTexts = new Set(train.map((m) => key(m.text)));
    expect(test.filter((m) => trainTexts.has(key(m.text)))).toEqual([]);
    for (const intent of INTENTS) {
      expect(train.filter((m) => m.intent === intent).length).toBeGreaterThanOrEqual(100);
      expect(test.filter((m) => m.intent === intent).length).toBeGreaterThanOrEqual(30);
    }
    for (const area of PRODUCT_AREAS)
      expect(train.filter((m) => m.productArea === area).length).toBeGreaterThanOrEqual(30);
  });
});
