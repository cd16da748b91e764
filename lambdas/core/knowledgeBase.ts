/**
 * The FAQ knowledge base as data: schema, JSONL parsing with per-line errors, and serialisation.
 * Import is idempotent by id (the last line for an id wins and duplicates are reported).
 */
import { z } from 'zod';
import { type Faq, INTENTS } from './types';

const nonBlank = (max: number) =>
  z.string().trim().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);

export const faqSchema = z
  .object({
    id: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/, 'must be 1-64 characters of letters, digits, _ . : -'),
    question: nonBlank(500),
    answer: nonBlank(8000),
    alternates: z.array(nonBlank(500)).max(20).default([]),
    productArea: z
      .string()
      .regex(/^[a-z][a-z0-9_]{0,63}$/, 'must be a snake_case id')
      .optional(),
    intent: z.enum(INTENTS).optional(),
    tags: z.array(z.string().trim().min(1).max(50)).max(20).default([]),
    updatedAt: z.string().datetime({ offset: true }).optional(),
  })
  .strict();

export interface LineError {
  readonly line: number;
  readonly message: string;
}

export interface ParsedKnowledgeBase {
  readonly faqs: Faq[];
  readonly errors: LineError[];
  /** Ids that appeared more than once (the last occurrence is kept). */
  readonly duplicates: string[];
}

export function describeZodError(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || 'line'}: ${issue.message}`).join('; ');
}

/** Parses JSONL text; never throws on bad lines, reports them with 1-based line numbers. */
export function parseKnowledgeBaseJsonl(
  text: string,
  onProgress?: (linesDone: number, linesTotal: number) => void,
): ParsedKnowledgeBase {
  const lines = text.split(/\r?\n/);
  const byId = new Map<string, Faq>();
  const errors: LineError[] = [];
  const duplicates = new Set<string>();
  lines.forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (error) {
      errors.push({ line, message: `not valid JSON (${(error as Error).message})` });
      return;
    }
    const parsed = faqSchema.safeParse(value);
    if (!parsed.success) {
      errors.push({ line, message: describeZodError(parsed.error) });
      return;
    }
    if (byId.has(parsed.data.id)) duplicates.add(parsed.data.id);
    byId.set(parsed.data.id, parsed.data);
    if (onProgress && line % 1000 === 0) onProgress(line, lines.length);
  });
  onProgress?.(lines.length, lines.length);
  return { faqs: [...byId.values()], errors, duplicates: [...duplicates] };
}

export function toJsonl(faqs: readonly Faq[]): string {
  return faqs.map((faq) => JSON.stringify(faq)).join('\n') + (faqs.length ? '\n' : '');
}

/** Where FAQs are kept: a JSONL file locally, a DynamoDB table on AWS. */
export interface KnowledgeBaseStore {
  list(): Promise<Faq[]>;
  /** Inserts or replaces FAQs by id. */
  put(faqs: readonly Faq[]): Promise<void>;
}

export interface ImportReport {
  readonly added: number;
  readonly updated: number;
  readonly unchanged: number;
  readonly errors: readonly LineError[];
  readonly duplicates: readonly string[];
}

const sameFaq = (a: Faq, b: Faq) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Validates every line, then upserts the valid FAQs by id. Re-importing the same file changes nothing.
 * With `atomic`, any bad line aborts the import before anything is written.
 */
export async function importKnowledgeBase(
  jsonl: string,
  store: KnowledgeBaseStore,
  options: { readonly atomic?: boolean; readonly onProgress?: (done: number, total: number) => void } = {},
): Promise<ImportReport> {
  const parsed = parseKnowledgeBaseJsonl(jsonl, options.onProgress);
  const report = { added: 0, updated: 0, unchanged: 0, errors: parsed.errors, duplicates: parsed.duplicates };
  if (options.atomic && parsed.errors.length) return report;
  const existing = new Map((await store.list()).map((f) => [f.id, f]));
  const changed: Faq[] = [];
  for (const faq of parsed.faqs) {
    const before = existing.get(faq.id);
    if (!before) report.added++;
    else if (sameFaq(before, faq)) {
      report.unchanged++;
      continue;
    } else report.updated++;
    changed.push(faq);
  }
  if (changed.length) await store.put(changed);
  return report;
}
