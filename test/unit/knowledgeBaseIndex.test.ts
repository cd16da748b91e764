/**
 * The embedded KB index in S3 (aws-sdk-client-mock, a fake embedder): how the indexer merges every KB source
 * into the two index objects, and how engine functions load them or fall back to the packaged KB.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GetObjectCommand,
  type GetObjectCommandOutput,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddingStore } from '#adapters/embeddingStore';
import { buildKnowledgeBaseIndex, loadKnowledgeBaseIndex } from '#adapters/knowledgeBaseIndex';
import { KB_INDEX_EMBEDDINGS_KEY, KB_INDEX_FAQS_KEY, parseKnowledgeBaseJsonl } from '#core/knowledgeBase';
import { faqEmbeddingTexts } from '#core/knowledgeIndex';
import type { Embedder } from '#core/ports';
import { normalize } from '#core/vectorSearch';

const BUCKET = 'supportmax-content';
const s3Mock = mockClient(S3Client);
const s3 = new S3Client({ region: 'us-east-1' });
const dirs: string[] = [];

afterEach(() => {
  s3Mock.reset();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

class RecordingEmbedder implements Embedder {
  readonly dimensions = 8;
  readonly texts: string[] = [];
  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    this.texts.push(...texts);
    return texts.map((text) =>
      normalize(Float32Array.from({ length: this.dimensions }, (_, i) => (text.charCodeAt(i) || 0) + 1)),
    );
  }
}

const silent = { info: () => {}, warn: () => {} };
const body = (text: string) =>
  ({ transformToString: async () => text }) as unknown as GetObjectCommandOutput['Body'];
const faqLine = (id: string, question: string) =>
  JSON.stringify({ id, question, answer: `Answer to ${question}`, alternates: [] });
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'kb-index-'));
  dirs.push(dir);
  return dir;
};
const putBody = (key: string) =>
  String(s3Mock.commandCalls(PutObjectCommand).find((c) => c.args[0].input.Key === key)?.args[0].input.Body);

describe('building the KB index', () => {
  it('merges every KB source with later files overriding ids and writes vectors before FAQs', async () => {
    // Prepare
    const embedder = new RecordingEmbedder();
    const warnings: unknown[] = [];
    s3Mock
      .on(ListObjectsV2Command)
      .resolvesOnce({
        Contents: [{ Key: 'kb/b-billing.jsonl' }, { Key: 'kb/readme.txt' }],
        IsTruncated: true,
        NextContinuationToken: 'page-2',
      })
      .resolvesOnce({ Contents: [{ Key: 'kb/a-account.jsonl' }], IsTruncated: false });
    s3Mock.on(GetObjectCommand, { Key: 'kb/a-account.jsonl' }).resolves({
      Body: body([faqLine('refund', 'Old refund question?'), faqLine('reset', 'How do I reset?')].join('\n')),
    });
    s3Mock.on(GetObjectCommand, { Key: 'kb/b-billing.jsonl' }).resolves({
      Body: body([faqLine('refund', 'How do I get a refund?'), '{not json'].join('\n')),
    });

    // Act
    const report = await buildKnowledgeBaseIndex(
      { s3, embedder, log: { ...silent, warn: (...args: unknown[]) => warnings.push(args) } },
      BUCKET,
    );

    // Assess
    expect(report.sources).toEqual(['kb/a-account.jsonl', 'kb/b-billing.jsonl']);
    expect(report.rejected).toEqual([expect.objectContaining({ key: 'kb/b-billing.jsonl', line: 2 })]);
    expect(JSON.stringify(warnings)).toContain('kb/b-billing.jsonl:2: not valid JSON');
    expect(s3Mock.commandCalls(GetObjectCommand).map((c) => c.args[0].input.Key)).not.toContain(
      'kb/readme.txt',
    );
    const puts = s3Mock.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Key);
    expect(puts).toEqual([KB_INDEX_EMBEDDINGS_KEY, KB_INDEX_FAQS_KEY]);
    const faqs = parseKnowledgeBaseJsonl(putBody(KB_INDEX_FAQS_KEY)).faqs;
    expect(faqs.map((f) => [f.id, f.question])).toEqual([
      ['refund', 'How do I get a refund?'],
      ['reset', 'How do I reset?'],
    ]);
    const dir = tempDir();
    const path = join(dir, 'vectors.jsonl');
    writeFileSync(path, putBody(KB_INDEX_EMBEDDINGS_KEY));
    const failing: Embedder = {
      dimensions: 8,
      embed: async () => {
        throw new Error('every FAQ text should have a stored vector');
      },
    };
    const stored = new EmbeddingStore(failing, path);
    const texts = faqs.flatMap(faqEmbeddingTexts);
    await expect(stored.embed(texts)).resolves.toHaveLength(texts.length);
    expect(stored.size).toBe(new Set(texts).size);
  });

  it('embeds only texts the seed cache does not hold', async () => {
    // Prepare
    const seedDir = tempDir();
    const seedPath = join(seedDir, 'kb-embeddings.jsonl');
    const known = [faqLine('reset', 'How do I reset?')];
    const seed = new EmbeddingStore(new RecordingEmbedder(), seedPath);
    await seed.embed(parseKnowledgeBaseJsonl(known.join('\n')).faqs.flatMap(faqEmbeddingTexts));
    seed.save();
    const embedder = new RecordingEmbedder();
    s3Mock.on(ListObjectsV2Command).resolves({ Contents: [{ Key: 'kb/faqs.jsonl' }] });
    s3Mock.on(GetObjectCommand).resolves({
      Body: body([...known, faqLine('sso', 'How do I enable SSO?')].join('\n')),
    });

    // Act
    const report = await buildKnowledgeBaseIndex(
      { s3, embedder, seedEmbeddingsPath: seedPath, log: silent },
      BUCKET,
    );

    // Assess
    expect(embedder.texts).toEqual(['How do I enable SSO?', 'Answer to How do I enable SSO?']);
    expect(report).toMatchObject({ faqs: 2, texts: 4, embedded: 2 });
  });
});

describe('loading the KB index', () => {
  it('downloads both index objects and returns their FAQs and the vectors file', async () => {
    // Prepare
    const dir = tempDir();
    s3Mock
      .on(GetObjectCommand, { Bucket: BUCKET, Key: KB_INDEX_FAQS_KEY })
      .resolves({ Body: body(`${faqLine('reset', 'How do I reset?')}\n`) });
    s3Mock
      .on(GetObjectCommand, { Bucket: BUCKET, Key: KB_INDEX_EMBEDDINGS_KEY })
      .resolves({ Body: body('{"k":"x","s":1,"q":"AA=="}\n') });

    // Act
    const index = await loadKnowledgeBaseIndex(s3, BUCKET, dir, silent);

    // Assess
    expect(index?.faqs.map((f) => f.id)).toEqual(['reset']);
    expect(index?.embeddingsPath).toBe(join(dir, 'kb-embeddings.jsonl'));
    expect(readFileSync(index!.embeddingsPath, 'utf8')).toBe('{"k":"x","s":1,"q":"AA=="}\n');
  });

  it('falls back (undefined) when the index has not been built yet', async () => {
    // Prepare
    const infos: unknown[] = [];
    s3Mock.on(GetObjectCommand).rejects(Object.assign(new Error('missing'), { name: 'NoSuchKey' }));

    // Act
    const index = await loadKnowledgeBaseIndex(s3, BUCKET, tempDir(), {
      ...silent,
      info: (...args: unknown[]) => infos.push(args),
    });

    // Assess
    expect(index).toBeUndefined();
    expect(JSON.stringify(infos)).toContain('no KB index in the bucket yet');
  });

  it('falls back with a warning when the index cannot be read', async () => {
    // Prepare
    const warnings: unknown[] = [];
    s3Mock.on(GetObjectCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDenied' }));

    // Act
    const index = await loadKnowledgeBaseIndex(s3, BUCKET, tempDir(), {
      ...silent,
      warn: (...args: unknown[]) => warnings.push(args),
    });

    // Assess
    expect(index).toBeUndefined();
    expect(JSON.stringify(warnings)).toContain('AccessDenied');
  });
});
