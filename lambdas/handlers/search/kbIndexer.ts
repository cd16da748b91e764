/**
 * KB indexer (S3 ObjectCreated on kb/*.jsonl), in one of two modes (SEARCH_BACKEND):
 * - 'embedded' (default): rebuilds the whole embedded index (index/faqs.jsonl + index/kb-embeddings.jsonl)
 *   from every current KB source of the bucket; see #adapters/knowledgeBaseIndex.
 * - 'opensearch': keeps the OpenSearch collection in step with the KB sources. Each created object version is read, validated line by line (bad lines are logged with their numbers and
 * skipped, never thrown), embedded with Titan and upserted by FAQ id, so re-delivered events are harmless.
 *
 * Limit: only creations are indexed. S3 delete events carry no content, so deleting a source or dropping an
 * FAQ from it does not remove that FAQ from the index; remove it with FaqSearch.remove or rebuild the index.
 */

import { join } from 'node:path';
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { S3Event } from 'aws-lambda';
import { z } from 'zod';
import { buildKnowledgeBaseIndex, type KbIndexReport } from '#adapters/knowledgeBaseIndex';
import { OpenSearchFaqSearch } from '#adapters/openSearchFaqSearch';
import { TITAN_EMBED_TEXT_V2, TitanEmbedder } from '#adapters/titanEmbedder';
import { UseLiteEmbedder } from '#adapters/useLiteEmbedder';
import { type FaqSearch, faqEmbeddingText } from '#core/faqSearch';
import {
  KB_SOURCE_PREFIX,
  KB_SOURCE_SUFFIX,
  type LineError,
  parseKnowledgeBaseJsonl,
} from '#core/knowledgeBase';
import type { Embedder } from '#core/ports';
import { optionalEnv, requireEnv } from '../shared/env';
import { instrumented } from '../shared/middleware';
import { logger } from '../shared/powertools';

/** FAQs embedded and written per round trip: bounds memory and the work a timeout would lose. */
const BATCH_SIZE = 100;
/** Bad lines quoted in one log entry; the count is always complete. */
const LOGGED_LINE_ERRORS = 50;

const kbEvent = z.object({
  Records: z.array(
    z.object({
      eventName: z.string(),
      s3: z.object({
        bucket: z.object({ name: z.string().min(1) }),
        object: z.object({ key: z.string().min(1), versionId: z.string().min(1).optional() }),
      }),
    }),
  ),
});

/** What one KB source contributed to the index. */
export interface KbSourceReport {
  readonly bucket: string;
  readonly key: string;
  readonly indexed: number;
  readonly rejected: readonly LineError[];
}

export interface KbIndexerDependencies {
  readonly s3: S3Client;
  readonly embedder: Embedder;
  /** Where FAQs are written; ensureIndex, when offered, runs before the first write. */
  readonly search: FaqSearch & { ensureIndex?(): Promise<void> };
}

/** S3 event keys are URL-encoded with '+' for spaces. */
const objectKey = (encoded: string) => decodeURIComponent(encoded.replace(/\+/g, ' '));

const isKbSource = (key: string) => key.startsWith(KB_SOURCE_PREFIX) && key.endsWith(KB_SOURCE_SUFFIX);

/** The indexer without Lambda wiring, for tests. */
export function createKbIndexer({ s3, embedder, search }: KbIndexerDependencies) {
  const indexSource = async (bucket: string, key: string, versionId?: string): Promise<KbSourceReport> => {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
    const text = (await object.Body?.transformToString('utf-8')) ?? '';
    const { faqs, errors, warnings, duplicates } = parseKnowledgeBaseJsonl(text);
    if (errors.length) {
      logger.warn('KB source lines rejected', {
        bucket,
        key,
        rejectedLines: errors.length,
        errors: errors.slice(0, LOGGED_LINE_ERRORS),
      });
    }
    if (warnings.length || duplicates.length) {
      logger.info('KB source lines accepted with changes', {
        bucket,
        key,
        warnings: warnings.slice(0, LOGGED_LINE_ERRORS),
        duplicates: duplicates.slice(0, LOGGED_LINE_ERRORS),
      });
    }
    if (faqs.length) await search.ensureIndex?.();
    for (let start = 0; start < faqs.length; start += BATCH_SIZE) {
      const batch = faqs.slice(start, start + BATCH_SIZE);
      const vectors = await embedder.embed(batch.map(faqEmbeddingText));
      await search.upsert(batch.map((faq, at) => ({ faq, vector: vectors[at]! })));
    }
    logger.info('KB source indexed', { bucket, key, indexed: faqs.length, rejected: errors.length });
    return { bucket, key, indexed: faqs.length, rejected: errors };
  };

  return async (event: unknown): Promise<KbSourceReport[]> => {
    const { Records } = kbEvent.parse(event);
    const reports: KbSourceReport[] = [];
    // One file after another: a file's Titan calls already run concurrently, up to the embedder's limit.
    for (const { eventName, s3: source } of Records) {
      const key = objectKey(source.object.key);
      if (!eventName.startsWith('ObjectCreated:') || !isKbSource(key)) {
        logger.info('ignoring an object that is not a created KB source', { eventName, key });
        continue;
      }
      reports.push(await indexSource(source.bucket.name, key, source.object.versionId));
    }
    return reports;
  };
}

/** Buckets with a created KB source among the event's records (others are logged and ignored). */
function createdSourceBuckets(event: unknown): string[] {
  const buckets = new Set<string>();
  for (const { eventName, s3: source } of kbEvent.parse(event).Records) {
    const key = objectKey(source.object.key);
    if (eventName.startsWith('ObjectCreated:') && isKbSource(key)) buckets.add(source.bucket.name);
    else logger.info('ignoring an object that is not a created KB source', { eventName, key });
  }
  return [...buckets];
}

export interface EmbeddedIndexerDependencies {
  readonly s3: S3Client;
  /** USE-lite on AWS: the engine functions embed queries with the same model. */
  readonly embedder: Embedder;
  readonly seedEmbeddingsPath?: string;
}

/** The embedded-mode indexer without Lambda wiring: one full rebuild per bucket named by the event. */
export function createEmbeddedIndexer(deps: EmbeddedIndexerDependencies) {
  return async (event: unknown): Promise<KbIndexReport[]> => {
    const reports: KbIndexReport[] = [];
    for (const bucket of createdSourceBuckets(event)) {
      reports.push(await buildKnowledgeBaseIndex({ ...deps, log: logger }, bucket));
    }
    return reports;
  };
}

let indexKbSources: ((event: unknown) => Promise<KbSourceReport[] | KbIndexReport[]>) | undefined;

const buildIndexer = async () => {
  if ((optionalEnv('SEARCH_BACKEND') ?? 'embedded') !== 'opensearch') {
    return createEmbeddedIndexer({
      s3: new S3Client({}),
      embedder: await UseLiteEmbedder.load(),
      seedEmbeddingsPath: join(requireEnv('MODELS_DIR'), 'kb-embeddings.jsonl'),
    });
  }
  return createKbIndexer({
    s3: new S3Client({}),
    embedder: new TitanEmbedder({
      client: new BedrockRuntimeClient({}),
      modelId: optionalEnv('TITAN_MODEL_ID') ?? TITAN_EMBED_TEXT_V2,
    }),
    search: await OpenSearchFaqSearch.forServerless({
      endpoint: requireEnv('OPENSEARCH_ENDPOINT'),
      region: requireEnv('AWS_REGION'),
      index: optionalEnv('OPENSEARCH_INDEX') ?? 'faqs',
    }),
  });
};

export const handler = instrumented(async (event: S3Event) => {
  indexKbSources ??= await buildIndexer();
  return indexKbSources(event);
});
