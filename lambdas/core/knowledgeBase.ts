/**
 * The FAQ knowledge base as data: schema, JSONL parsing with per-line errors, and serialisation.
 * Import is idempotent by id (the last line for an id wins and duplicates are reported).
 */
import { z } from 'zod';
import { type Faq, INTENT_NAMES, INTENTS, PRODUCT_AREA_NAMES } from './types';

/** Where KB sources live in the content bucket, as `kb/<name>.jsonl` objects the KB indexer picks up. */
export const KB_SOURCE_PREFIX = 'kb/';
export const KB_SOURCE_SUFFIX = '.jsonl';
/** Where the KB indexer writes the embedded search index the engine functions load (searchBackend 'embedded'). */
export const KB_INDEX_PREFIX = 'index/';
export const KB_INDEX_FAQS_KEY = `${KB_INDEX_PREFIX}faqs.jsonl`;
export const KB_INDEX_EMBEDDINGS_KEY = `${KB_INDEX_PREFIX}kb-embeddings.jsonl`;

const nonBlank = (max: number) =>
  z.string().trim().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);

export const faqSchema = z
  .object({
    id: z
      .union([z.string(), z.number().int().nonnegative()])
      .transform(String)
      .pipe(
        z
          .string()
          .regex(/^\S{1,128}$/, 'must be 1-128 characters without spaces')
          .refine(
            (id) => ![...id].some((c) => c.charCodeAt(0) < 32 || c.charCodeAt(0) === 127),
            'must not contain control characters',
          ),
      ),
    question: nonBlank(1000),
    answer: nonBlank(20_000),
    alternates: z.array(nonBlank(1000)).max(50).default([]),
    productArea: z
      .string()
      .regex(/^[a-z][a-z0-9_]{0,99}$/, 'must be a snake_case id')
      .optional(),
    intent: z.enum(INTENTS).optional(),
    tags: z.array(z.string().trim().min(1).max(100)).max(50).default([]),
    updatedAt: z
      .string()
      .refine((value) => !Number.isNaN(Date.parse(value)), 'must be a date (ISO 8601)')
      .optional(),
  })
  .strict();

/** Field names other knowledge bases use for ours. */
const FIELD_ALIASES: Record<string, keyof z.input<typeof faqSchema>> = {
  alternatePhrasings: 'alternates',
  alternate_phrasings: 'alternates',
  alternativeQuestions: 'alternates',
  alternative_questions: 'alternates',
  paraphrases: 'alternates',
  variants: 'alternates',
  product_area: 'productArea',
  area: 'productArea',
  category: 'productArea',
  updated_at: 'updatedAt',
  lastUpdated: 'updatedAt',
  title: 'question',
  body: 'answer',
  keywords: 'tags',
};

const snakeCase = (value: string) =>
  value
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/&/g, ' ')
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .replace(/^(\d)/, 'a_$1');

const AREA_BY_NAME = new Map(Object.entries(PRODUCT_AREA_NAMES).map(([id, name]) => [snakeCase(name), id]));
const INTENT_BY_NAME = new Map(Object.entries(INTENT_NAMES).map(([id, name]) => [snakeCase(name), id]));

/** An intent id from its id or display name ("Billing Question"), or undefined. */
export function normalizeIntent(value: string): (typeof INTENTS)[number] | undefined {
  if ((INTENTS as readonly string[]).includes(value)) return value as (typeof INTENTS)[number];
  const id = INTENT_BY_NAME.get(snakeCase(value)) ?? snakeCase(value);
  return (INTENTS as readonly string[]).includes(id) ? (id as (typeof INTENTS)[number]) : undefined;
}

/**
 * Maps another KB's shape onto ours before validation: known field aliases, display names of areas and
 * intents, comma-separated tags. Unknown fields are dropped and reported as warnings, not errors.
 */
export function normalizeFaqFields(value: unknown): { value: unknown; warnings: string[] } {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return { value, warnings: [] };
  const known = new Set(Object.keys(faqSchema.shape));
  const out: Record<string, unknown> = {};
  const warnings: string[] = [];
  for (const [key, raw] of Object.entries(value as Record<string, unknown>)) {
    const target = known.has(key) ? key : FIELD_ALIASES[key];
    if (!target) {
      warnings.push(`unknown field "${key}" ignored`);
      continue;
    }
    if (target in out) continue;
    out[target] = raw;
  }
  if (typeof out.tags === 'string')
    out.tags = out.tags
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean);
  if (typeof out.alternates === 'string') out.alternates = [out.alternates];
  if (typeof out.productArea === 'string') {
    const area = snakeCase(out.productArea);
    out.productArea = AREA_BY_NAME.get(area) ?? area;
    if (!out.productArea) delete out.productArea;
  }
  if (typeof out.intent === 'string' && !(INTENTS as readonly string[]).includes(out.intent)) {
    const intent = normalizeIntent(out.intent);
    if (intent) out.intent = intent;
    else {
      warnings.push(`intent "${out.intent}" is not one of ${INTENTS.join(', ')}; ignored`);
      delete out.intent;
    }
  }
  return { value: out, warnings };
}

export interface LineError {
  readonly line: number;
  readonly message: string;
}

export interface ParsedKnowledgeBase {
  readonly faqs: Faq[];
  readonly errors: LineError[];
  /** Lines accepted with a change (unknown field dropped, unknown intent ignored). */
  readonly warnings: LineError[];
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
  const warnings: LineError[] = [];
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
    const normalized = normalizeFaqFields(value);
    const parsed = faqSchema.safeParse(normalized.value);
    if (!parsed.success) {
      errors.push({ line, message: describeZodError(parsed.error) });
      return;
    }
    for (const message of normalized.warnings) warnings.push({ line, message });
    if (byId.has(parsed.data.id)) duplicates.add(parsed.data.id);
    byId.set(parsed.data.id, parsed.data);
    if (onProgress && line % 1000 === 0) onProgress(line, lines.length);
  });
  onProgress?.(lines.length, lines.length);
  return { faqs: [...byId.values()], errors, warnings, duplicates: [...duplicates] };
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
  readonly warnings: readonly LineError[];
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
  const report = {
    added: 0,
    updated: 0,
    unchanged: 0,
    errors: parsed.errors,
    warnings: parsed.warnings,
    duplicates: parsed.duplicates,
  };
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
