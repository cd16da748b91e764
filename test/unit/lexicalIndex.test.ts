import { describe, expect, it } from 'vitest';
import { LexicalIndex } from '#core/lexicalIndex';
import { analyze } from '#core/textAnalysis';

const docs = [
  ['How do I reset my password?', 'Use the reset link on the login page.'],
  ['How do I download an invoice?', 'Invoices are in Settings, Billing, Invoices.'],
  ['Why is my dashboard slow?', 'Limit widgets to 20 and use extracts.'],
].map((fields) => fields.map((f) => analyze(f)));

describe('LexicalIndex (BM25F)', () => {
  it('ranks the document that contains the query terms first', () => {
    // Prepare
    const index = new LexicalIndex(docs, { fieldWeights: [1, 0.35] });
    // Act
    const hits = index.search(analyze('invoice download'), 3);
    // Assess
    expect(hits[0]?.doc).toBe(1);
    expect(hits).toHaveLength(1);
  });

  it('weights question matches above answer-only matches', () => {
    const index = new LexicalIndex(
      [
        [analyze('reset password'), analyze('nothing')],
        [analyze('other topic'), analyze('reset password')],
      ],
      { fieldWeights: [1, 0.35] },
    );
    const hits = index.search(analyze('reset password'), 2);
    expect(hits.map((h) => h.doc)).toEqual([0, 1]);
    expect(hits[0]!.score).toBeGreaterThan(hits[1]!.score);
  });

  it('reports the share of query idf mass covered by a document', () => {
    const index = new LexicalIndex(docs, { fieldWeights: [1, 0.35] });
    expect(index.coverage(analyze('reset password'), 0)).toBeCloseTo(1);
    expect(index.coverage(analyze('reset password'), 2)).toBe(0);
    expect(index.coverage(analyze('reset zebra'), 0)).toBeGreaterThan(0);
    expect(index.coverage(analyze('reset zebra'), 0)).toBeLessThan(1);
  });

  it('returns the k best of many documents in descending order and leaves no state between searches', () => {
    const many = Array.from({ length: 500 }, (_, i) => [
      analyze(`topic ${i % 7 === 0 ? 'billing' : 'misc'} number${i}`),
      [],
    ]);
    const index = new LexicalIndex(many, { fieldWeights: [1, 0.35] });
    const first = index.search(analyze('billing'), 10);
    const second = index.search(analyze('billing'), 10);
    expect(first).toEqual(second);
    expect(first).toHaveLength(10);
    for (let i = 1; i < first.length; i++)
      expect(first[i - 1]!.score).toBeGreaterThanOrEqual(first[i]!.score);
  });
});
