/**
 * The labelled PII corpus (data/pii/corpus.jsonl) and a search for its values in captured output
 * (model requests, logs). Test-only.
 */
import { readFileSync } from 'node:fs';

export interface PiiCorpusLine {
  readonly text: string;
  /** The PII values in `text`, verbatim. */
  readonly pii: readonly string[];
}

export const piiCorpus: readonly PiiCorpusLine[] = readFileSync(
  new URL('../../data/pii/corpus.jsonl', import.meta.url),
  'utf8',
)
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => JSON.parse(line) as PiiCorpusLine);

export const labelledPiiCount = piiCorpus.reduce((n, line) => n + line.pii.length, 0);

/** Labelled values that occur in `haystack`. */
export const piiLeaksIn = (haystack: string): string[] =>
  piiCorpus.flatMap((line) => line.pii.filter((value) => haystack.includes(value)));
