/**
 * The embedded search index kept in S3 (searchBackend 'embedded'): the indexer merges every kb/*.jsonl source
 * into index/faqs.jsonl plus the USE-lite vectors of its texts in index/kb-embeddings.jsonl, and engine
 * functions download both at cold start, so a KB update needs no redeploy and nothing is embedded at start.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  KB_INDEX_EMBEDDINGS_KEY,
  KB_INDEX_FAQS_KEY,
  KB_SOURCE_PREFIX,
  KB_SOURCE_SUFFIX,
  type LineError,
  parseKnowledgeBaseJsonl,
  toJsonl,
} from '#core/knowledgeBase';
import { faqEmbeddingTexts } from '#core/knowledgeIndex';
import type { Embedder } from '#core/ports';
import type { Faq } from '#core/types';
import { EmbeddingStore } from './embeddingStore';

/** ListObjectsV2 pages read at most (1,000 keys each): a larger KB fails loudly instead of going partial. */
const MAX_LIST_PAGES = 20;
/** Texts per embedder call: bounds the memory of one USE-lite batch. */
const EMBED_BATCH = 256;
/** Bad lines quoted in one log entry; the count is always complete. */
const LOGGED_LINE_ERRORS = 50;
/** Time allowed for one index object download at cold start. */
const DOWNLOAD_TIMEOUT_MS = 15_000;

/** Where the index code reports; Powertools' logger and console both fit. */
export type IndexLog = Pick<Console, 'info' | 'warn'>;

export interface KbLineError extends LineError {
  readonly key: string;
}

export interface KbIndexReport {
  readonly bucket: string;
  readonly sources: readonly string[];
  readonly faqs: number;
  readonly texts: number;
  /** Texts the embedder had to embed (the others came from the seed cache). */
  readonly embedded: number;
  readonly rejected: readonly KbLineError[];
}

export interface KbIndexBuilderDependencies {
  readonly s3: S3Client;
  readonly embedder: Embedder;
  /** Vectors already known (the layer's models/kb-embeddings.jsonl), so unchanged FAQs cost nothing. */
  readonly seedEmbeddingsPath?: string;
  readonly log?: IndexLog;
}

const bodyText = async (s3: S3Client, bucket: string, key: string, abortSignal?: AbortSignal) => {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal });
  return (await object.Body?.transformToString('utf-8')) ?? '';
};

async function listKbSources(s3: S3Client, bucket: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  for (let page = 0; page < MAX_LIST_PAGES; page++) {
    const listed = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: KB_SOURCE_PREFIX, ContinuationToken: token }),
    );
    for (const { Key } of listed.Contents ?? []) {
      if (Key?.endsWith(KB_SOURCE_SUFFIX)) keys.push(Key);
    }
    token = listed.IsTruncated ? listed.NextContinuationToken : undefined;
    if (!token) return keys.sort();
  }
  throw new Error(`s3://${bucket}/${KB_SOURCE_PREFIX} holds more than ${MAX_LIST_PAGES} pages of objects`);
}

/**
 * Rebuilds the index objects from every current KB source of the bucket (key order; later files replace ids
 * of earlier ones). Bad lines are reported with file and line, never thrown. The embeddings object is written
 * first: readers key on faqs.jsonl, so they never see FAQs whose vectors are not stored yet.
 */
export async function buildKnowledgeBaseIndex(
  deps: KbIndexBuilderDependencies,
  bucket: string,
): Promise<KbIndexReport> {
  const { s3, log = console } = deps;
  const sources = await listKbSources(s3, bucket);
  const byId = new Map<string, Faq>();
  const rejected: KbLineError[] = [];
  for (const key of sources) {
    const { faqs, errors } = parseKnowledgeBaseJsonl(await bodyText(s3, bucket, key));
    rejected.push(...errors.map((error) => ({ key, ...error })));
    for (const faq of faqs) byId.set(faq.id, faq);
  }
  if (rejected.length) {
    log.warn('KB source lines rejected', {
      bucket,
      rejectedLines: rejected.length,
      errors: rejected.slice(0, LOGGED_LINE_ERRORS).map((e) => `${e.key}:${e.line}: ${e.message}`),
    });
  }

  const faqs = [...byId.values()];
  const texts = [...new Set(faqs.flatMap(faqEmbeddingTexts))];
  let embedded = 0;
  const counting: Embedder = {
    dimensions: deps.embedder.dimensions,
    embed: (batch) => {
      embedded += batch.length;
      return deps.embedder.embed(batch);
    },
  };
  const store = new EmbeddingStore(counting, deps.seedEmbeddingsPath);
  for (let start = 0; start < texts.length; start += EMBED_BATCH) {
    await store.embed(texts.slice(start, start + EMBED_BATCH));
  }

  const put = (key: string, body: string) =>
    s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/x-ndjson' }),
    );
  await put(KB_INDEX_EMBEDDINGS_KEY, store.serialize(texts));
  await put(KB_INDEX_FAQS_KEY, toJsonl(faqs));
  const report = { bucket, sources, faqs: faqs.length, texts: texts.length, embedded, rejected };
  log.info('KB index written', { ...report, rejected: rejected.length });
  return report;
}

export interface LoadedKnowledgeBaseIndex {
  readonly faqs: Faq[];
  /** The downloaded vectors, usable as the engine's embedding cache. */
  readonly embeddingsPath: string;
}

const isMissing = (error: unknown) =>
  ['NoSuchKey', 'NotFound'].includes((error as { name?: string }).name ?? '');

/**
 * Downloads the index objects into `dir`. Undefined when there is no usable index (not built yet, unreadable
 * or empty): the caller then serves the layer's KB. Without s3:ListBucket a missing object reads as
 * AccessDenied, so every failure falls back, logged.
 */
export async function loadKnowledgeBaseIndex(
  s3: S3Client,
  bucket: string,
  dir: string,
  log: IndexLog = console,
): Promise<LoadedKnowledgeBaseIndex | undefined> {
  try {
    const faqsText = await bodyText(s3, bucket, KB_INDEX_FAQS_KEY, AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS));
    const vectorsText = await bodyText(
      s3,
      bucket,
      KB_INDEX_EMBEDDINGS_KEY,
      AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS),
    );
    const { faqs, errors } = parseKnowledgeBaseJsonl(faqsText);
    if (errors.length) log.warn('KB index lines rejected', { bucket, errors: errors.slice(0, 5) });
    if (!faqs.length) {
      log.warn('KB index holds no FAQs; using the packaged KB', { bucket });
      return undefined;
    }
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'faqs.jsonl'), faqsText);
    const embeddingsPath = join(dir, 'kb-embeddings.jsonl');
    writeFileSync(embeddingsPath, vectorsText);
    log.info('KB index loaded', { bucket, faqs: faqs.length });
    return { faqs, embeddingsPath };
  } catch (error) {
    const details = { bucket, error: (error as Error).name, message: (error as Error).message };
    if (isMissing(error)) log.info('no KB index in the bucket yet; using the packaged KB', details);
    else log.warn('KB index unreadable; using the packaged KB', details);
    return undefined;
  }
}
