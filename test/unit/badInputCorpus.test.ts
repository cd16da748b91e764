import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { buildBadInputCorpus, CORPUS_PATH, serializeCorpus } from '../../scripts/badInputCorpus';

const expectation = z.enum(['error', 'safe-answer', 'status:4xx']);
const caseSchema = z.discriminatedUnion('channel', [
  z
    .object({
      id: z.string().regex(/^ws-[a-z-]+-\d{3}$/),
      channel: z.literal('ws'),
      kind: z.string().regex(/^[a-z-]+$/),
      frame: z.string(),
      expect: expectation.exclude(['status:4xx']),
    })
    .strict(),
  z
    .object({
      id: z.string().regex(/^rest-[a-z-]+-\d{3}$/),
      channel: z.literal('rest'),
      kind: z.string().regex(/^[a-z-]+$/),
      request: z
        .object({
          method: z.string().regex(/^[A-Z]+$/),
          path: z.string().startsWith('/api/'),
          headers: z.record(z.string()).optional(),
          body: z.string().optional(),
        })
        .strict(),
      expect: expectation.exclude(['error']),
    })
    .strict(),
]);

describe('bad-input corpus (data/security/bad-input.jsonl)', () => {
  const raw = readFileSync(CORPUS_PATH, 'utf8');
  const lines = raw.split('\n').filter((line) => line !== '');

  it('holds at least 600 valid cases with unique ids', () => {
    // Act
    const cases = lines.map((line, index) => {
      const parsed = caseSchema.safeParse(JSON.parse(line));
      if (!parsed.success) throw new Error(`line ${index + 1}: ${parsed.error.issues[0]?.message}`);
      return parsed.data;
    });

    // Assess
    expect(cases.length).toBeGreaterThanOrEqual(600);
    expect(new Set(cases.map((c) => c.id)).size).toBe(cases.length);
  });

  it('covers every hostile shape the security issue lists, in the numbers it asks for', () => {
    // Prepare
    const cases = lines.map((line) => JSON.parse(line) as { channel: string; kind: string });
    const count = (channel: string, kind: string) =>
      cases.filter((c) => c.channel === channel && c.kind === kind).length;

    // Act + Assess
    expect(count('ws', 'prompt-injection')).toBeGreaterThanOrEqual(80);
    expect(count('ws', 'xss')).toBeGreaterThanOrEqual(60);
    for (const kind of [
      'malformed-json',
      'oversized',
      'wrong-type',
      'deep-nesting',
      'unicode',
      'control-chars',
      'nul',
      'sql-injection',
      'nosql-injection',
      'soql-injection',
      'path-traversal',
      'huge-number',
      'prototype-pollution',
    ]) {
      expect(count('ws', kind), `ws ${kind}`).toBeGreaterThanOrEqual(5);
    }
    for (const kind of ['path-traversal', 'header-abuse', 'query-abuse', 'method-abuse', 'malformed-json']) {
      expect(count('rest', kind), `rest ${kind}`).toBeGreaterThanOrEqual(5);
    }
  });

  it('is pure ASCII, so no bidi override or invisible character hides in the committed file', () => {
    // Act + Assess
    expect(/[^\x20-\x7E\n]/.test(raw)).toBe(false);
  });

  it('is what scripts/badInputCorpus.ts generates (run it after changing the script)', () => {
    // Act + Assess
    expect(raw === serializeCorpus(buildBadInputCorpus())).toBe(true);
  });
});
