/**
 * Loaders for the project's seed data (data/) and the public training sets (../shared/data), with the
 * deterministic splits the training and evaluation scripts share. Any bad line is an error naming it.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { loadKnowledgeBaseFiles } from '#adapters/fileKnowledgeBaseStore';
import { describeZodError } from '#core/knowledgeBase';
import { hashString } from '#core/textAnalysis';
import { type Faq, INTENTS, type Intent, PRODUCT_AREAS, type ProductArea } from '#core/types';

export const ROOT = resolve(import.meta.dirname, '..');
export const DATA_DIR = join(ROOT, 'data');
export const MODELS_DIR = join(ROOT, 'models');
/** Public data shipped beside the project (read-only); see ../shared/data/README.md for licences. */
export const SHARED_DATA_DIR = process.env.SHARED_DATA_DIR ?? resolve(ROOT, '..', 'shared', 'data');

export class DatasetError extends Error {}

/** Reads a JSONL file, validating each non-empty line with the schema; errors name file and line. */
export function readJsonlLines<S extends z.ZodTypeAny>(
  path: string,
  schema: S,
): { line: number; value: z.infer<S> }[] {
  if (!existsSync(path)) throw new DatasetError(`${path}: file not found`);
  const rows: { line: number; value: z.infer<S> }[] = [];
  readFileSync(path, 'utf8')
    .split(/\r?\n/)
    .forEach((text, i) => {
      if (!text.trim()) return;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (error) {
        throw new DatasetError(`${path}:${i + 1}: not valid JSON (${(error as Error).message})`);
      }
      const parsed = schema.safeParse(value);
      if (!parsed.success) throw new DatasetError(`${path}:${i + 1}: ${describeZodError(parsed.error)}`);
      rows.push({ line: i + 1, value: parsed.data });
    });
  return rows;
}

export function readJsonl<S extends z.ZodTypeAny>(path: string, schema: S): z.infer<S>[] {
  return readJsonlLines(path, schema).map((row) => row.value);
}

export function loadKnowledgeBaseFile(path: string): Faq[] {
  try {
    return loadKnowledgeBaseFiles([path]);
  } catch (error) {
    throw new DatasetError((error as Error).message);
  }
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

export const retrievalCaseSchema = z
  .object({ text: z.string().min(1), faqId: z.string().min(1).nullable() })
  .strict();
export type RetrievalCase = z.infer<typeof retrievalCaseSchema>;

export function loadIntentSplit(split: 'train' | 'test'): LabelledMessage[] {
  return readJsonl(join(DATA_DIR, 'intents', `${split}.jsonl`), labelledMessageSchema);
}

/**
 * Held-out retrieval cases. 'dev' (the first paraphrase of each FAQ and half of the unanswerable cases)
 * may tune the ranker and confidence; 'test' (the rest) is only ever evaluated.
 */
export function loadRetrievalEval(split: 'dev' | 'test' | 'all' = 'all'): RetrievalCase[] {
  const dir = join(DATA_DIR, 'eval');
  const cases = readdirSync(dir)
    .filter((f) => f.startsWith('retrieval-') && f.endsWith('.jsonl'))
    .sort()
    .flatMap((f) => readJsonl(join(dir, f), retrievalCaseSchema));
  if (split === 'all') return cases;
  const seen = new Set<string>();
  return cases.filter((c) => {
    let dev: boolean;
    if (c.faqId === null) dev = hashString(c.text) % 2 === 0;
    else {
      dev = !seen.has(c.faqId);
      seen.add(c.faqId);
    }
    return dev === (split === 'dev');
  });
}

/**
 * Paraphrase-standard: one ordinary rephrasing per FAQ (data/eval/paraphrase-standard.jsonl), split by FAQ
 * id hash: 'dev' may tune ranker and confidence, 'test' is only evaluated.
 */
export function loadStandardParaphrases(split: 'dev' | 'test' | 'all' = 'all'): RetrievalCase[] {
  const cases = readJsonl(join(DATA_DIR, 'eval', 'paraphrase-standard.jsonl'), retrievalCaseSchema);
  if (split === 'all') return cases;
  return cases.filter((c) => (hashString(`std:${c.faqId}`) % 2 === 0) === (split === 'dev'));
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
  const mapping = JSON.parse(
    readFileSync(join(SHARED_DATA_DIR, 'banking77_to_intent5.json'), 'utf8'),
  ) as Record<string, Intent | null>;
  const rows: IntentExample[] = [];
  const records = parseCsv(readFileSync(join(SHARED_DATA_DIR, 'banking77_train.csv'), 'utf8')).slice(1);
  for (const [rawText, label] of records) {
    if (rawText === undefined || label === undefined) continue;
    const text = rawText.replace(/\s+/g, ' ').trim();
    const intent = mapping[label.trim()];
    if (intent === undefined) throw new DatasetError(`banking77: label ${label} has no mapping`);
    if (intent === null || !text) continue;
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

/** RFC 4180 CSV: quoted fields may hold commas, doubled quotes and line breaks. */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      record.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      record.push(field);
      if (record.some((f) => f !== '')) records.push(record);
      record = [];
      field = '';
    } else field += ch;
  }
  record.push(field);
  if (record.some((f) => f !== '')) records.push(record);
  return records;
}
