/**
 * Loaders for the project's seed data (data/) and the public training sets (../shared/data), with the
 * deterministic splits the training and evaluation scripts share. Any bad line is an error naming it.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describeZodError, parseKnowledgeBaseJsonl } from '#core/knowledgeBase';
import { hashString } from '#core/textAnalysis';
import { type Faq, INTENTS, type Intent, PRODUCT_AREAS, type ProductArea } from '#core/types';
import { z } from 'zod';

export const ROOT = resolve(import.meta.dirname, '..');
export const DATA_DIR = join(ROOT, 'data');
export const MODELS_DIR = join(ROOT, 'models');
/** Public data shipped beside the project (read-only); see ../shared/data/README.md for licences. */
export const SHARED_DATA_DIR = process.env.SHARED_DATA_DIR ?? resolve(ROOT, '..', 'shared', 'data');

export class DatasetError extends Error {}

/** Reads a JSONL file, validating each non-empty line with the schema; errors name file and line. */
export function readJsonl<T>(path: string, schema: z.ZodType<T>): T[] {
  if (!existsSync(path)) throw new DatasetError(`${path}: file not found`);
  const rows: T[] = [];
  readFileSync(path, 'utf8')
    .split(/\r?\n/)
    .forEach((line, i) => {
      if (!line.trim()) return;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (error) {
        throw new DatasetError(`${path}:${i + 1}: not valid JSON (${(error as Error).message})`);
      }
      const parsed = schema.safeParse(value);
      if (!parsed.success) throw new DatasetError(`${path}:${i + 1}: ${describeZodError(parsed.error)}`);
      rows.push(parsed.data);
    });
  return rows;
}

export function loadKnowledgeBaseFile(path: string): Faq[] {
  if (!existsSync(path)) throw new DatasetError(`${path}: file not found`);
  const parsed = parseKnowledgeBaseJsonl(readFileSync(path, 'utf8'));
  if (parsed.errors.length) {
    const first = parsed.errors.slice(0, 5).map((e) => `${path}:${e.line}: ${e.message}`);
    throw new DatasetError(`${parsed.errors.length} invalid KB line(s):\n${first.join('\n')}`);
  }
  return parsed.faqs;
}

/** The built-in KB: every data/kb/*.jsonl in name order. */
export function loadBuiltInKnowledgeBase(): Faq[] {
  const dir = join(DATA_DIR, 'kb');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl'))
    .sort()
    .flatMap((f) => loadKnowledgeBaseFile(join(dir, f)));
}

export const labelledMessageSchema = z
  .object({ text: z.string().min(1), intent: z.enum(INTENTS), productArea: z.enum(PRODUCT_AREAS) })
  .strict();
export type LabelledMessage = z.infer<typeof labelledMessageSchema>;

export const retrievalCaseSchema = z.object({ text: z.string().min(1), faqId: z.string().min(1).nullable() }).strict();
export type RetrievalCase = z.infer<typeof retrievalCaseSchema>;

export function loadIntentSplit(split: 'train' | 'test'): LabelledMessage[] {
  return readJsonl(join(DATA_DIR, 'intents', `${split}.jsonl`), labelledMessageSchema);
}

export function loadRetrievalEval(): RetrievalCase[] {
  const dir = join(DATA_DIR, 'eval');
  return readdirSync(dir)
    .filter((f) => f.startsWith('retrieval-') && f.endsWith('.jsonl'))
    .sort()
    .flatMap((f) => readJsonl(join(dir, f), retrievalCaseSchema));
}

export interface IntentExample {
  readonly text: string;
  readonly intent: Intent;
  readonly source: string;
}

/** Deterministic split by text hash: the same text always falls on the same side. */
export const inHoldout = (text: string, share: number) => (hashString(text) % 1000) / 1000 < share;

/** banking77 rows mapped to the five intents (null-mapped labels dropped), split 80/20 by text hash. */
export function loadBanking77(split: 'train' | 'holdout'): IntentExample[] {
  const mapping = JSON.parse(readFileSync(join(SHARED_DATA_DIR, 'banking77_to_intent5.json'), 'utf8')) as Record<
    string,
    Intent | null
  >;
  const rows: IntentExample[] = [];
  const lines = readFileSync(join(SHARED_DATA_DIR, 'banking77_train.csv'), 'utf8').split(/\r?\n/).slice(1);
  for (const line of lines) {
    if (!line.trim()) continue;
    const match = /^(?:"((?:[^"]|"")*)"|([^,]*)),([^,]+)$/.exec(line);
    if (!match) throw new DatasetError(`banking77_train.csv: cannot parse line ${JSON.stringify(line.slice(0, 80))}`);
    const text = (match[1] ?? match[2] ?? '').replace(/""/g, '"');
    const intent = mapping[match[3]!.trim()];
    if (intent === undefined) throw new DatasetError(`banking77: label ${match[3]} has no mapping`);
    if (intent === null) continue;
    if (inHoldout(text, 0.2) === (split === 'holdout')) rows.push({ text, intent, source: 'banking77' });
  }
  return rows;
}

const clincSchema = z.object({ text: z.string(), intent: z.string(), inScope: z.boolean() });

/** CLINC150 queries (train or validation file); out-of-scope rows have inScope = false. */
export function loadClinc(file: 'train' | 'val') {
  return readJsonl(join(SHARED_DATA_DIR, `clinc150_${file}.jsonl`), clincSchema);
}

export const knownArea = (value: string | undefined): value is ProductArea =>
  (PRODUCT_AREAS as readonly string[]).includes(value ?? '');
