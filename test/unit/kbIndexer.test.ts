/**
 * The KB indexer handler: S3 reads through aws-sdk-client-mock, a deterministic embedder and the embedded
 * search as the index, so what gets indexed (and what does not) is checked end to end without AWS.
 */
import { GetObjectCommand, type GetObjectCommandOutput, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EmbeddedFaqSearch } from '#adapters/embeddedFaqSearch';
import { faqEmbeddingText } from '#core/faqSearch';
import type { Embedder } from '#core/ports';
import { normalize } from '#core/vectorSearch';
import { createKbIndexer } from '#handlers/search/kbIndexer';
import { logger } from '#handlers/shared/powertools';

const BUCKET = 'supportmax-content';
const s3Mock = mockClient(S3Client);

afterEach(() => {
  s3Mock.reset();
  vi.restoreAllMocks();
});

/** Unit vectors from character codes: equal texts embed equally, and every call is recorded. */
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

/** A GetObject body as the SDK returns it; the indexer only reads it as a string. */
const body = (text: string) =>
  ({ transformToString: async () => text }) as unknown as GetObjectCommandOutput['Body'];

const created = (key: string, eventName = 'ObjectCreated:Put') => ({
  eventName,
  s3: { bucket: { name: BUCKET }, object: { key, versionId: 'v1' } },
});

const faqLine = (id: string, question: string, alternates: string[] = []) =>
  JSON.stringify({ id, question, answer: `Answer to ${question}`, alternates });

const setUp = () => {
  const s3 = new S3Client({ region: 'us-east-1' });
  const embedder = new RecordingEmbedder();
  const search = new EmbeddedFaqSearch({ dimensions: embedder.dimensions });
  return { embedder, search, index: createKbIndexer({ s3, embedder, search }) };
};

describe('KB indexer', () => {
  it('indexes every valid FAQ of a created kb/*.jsonl source, embedding question and alternates', async () => {
    // Prepare
    const { embedder, search, index } = setUp();
    s3Mock.on(GetObjectCommand, { Bucket: BUCKET, Key: 'kb/billing faqs.jsonl', VersionId: 'v1' }).resolves({
      Body: body(
        [
          faqLine('refund', 'How do I get a refund?', ['Can I have my money back?']),
          faqLine('invoice', 'Where is my invoice?'),
        ].join('\n'),
      ),
    });

    // Act
    const reports = await index({ Records: [created('kb/billing+faqs.jsonl')] });

    // Assess
    expect(reports).toEqual([{ bucket: BUCKET, key: 'kb/billing faqs.jsonl', indexed: 2, rejected: [] }]);
    expect(search.size).toBe(2);
    expect(embedder.texts).toEqual([
      'How do I get a refund?\nCan I have my money back?',
      faqEmbeddingText({ question: 'Where is my invoice?', alternates: [] }),
    ]);
    const [vector] = await embedder.embed(['How do I get a refund?\nCan I have my money back?']);
    const hits = await search.search({ text: 'refund money back', vector: vector! }, 1);
    expect(hits.vector[0]?.faqId).toBe('refund');
    expect(hits.lexical[0]?.faqId).toBe('refund');
  });

  it('reports bad lines with their line numbers and still indexes the good ones', async () => {
    // Prepare
    const { search, index } = setUp();
    const warn = vi.spyOn(logger, 'warn');
    s3Mock.on(GetObjectCommand).resolves({
      Body: body(
        [
          faqLine('reset', 'How do I reset my password?'),
          '{not json',
          JSON.stringify({ id: 'no-answer', question: 'Missing its answer?' }),
          '',
          faqLine('sso', 'How do I enable SSO?'),
        ].join('\n'),
      ),
    });

    // Act
    const [report] = await index({ Records: [created('kb/account.jsonl')] });

    // Assess
    expect(report?.indexed).toBe(2);
    expect(report?.rejected.map((error) => error.line)).toEqual([2, 3]);
    expect(report?.rejected[0]?.message).toMatch(/^not valid JSON/);
    expect(report?.rejected[1]?.message).toContain('answer');
    expect(search.size).toBe(2);
    expect(warn).toHaveBeenCalledWith(
      'KB source lines rejected',
      expect.objectContaining({ key: 'kb/account.jsonl', rejectedLines: 2, errors: report?.rejected }),
    );
  });

  it('ignores objects outside kb/, other suffixes and non-creation events without reading them', async () => {
    // Prepare
    const { embedder, search, index } = setUp();

    // Act
    const reports = await index({
      Records: [
        created('transcripts/2025/conv-1.jsonl'),
        created('kb/notes.txt'),
        created('kbx/faqs.jsonl'),
        created('kb/faqs.jsonl', 'ObjectRemoved:Delete'),
      ],
    });

    // Assess
    expect(reports).toEqual([]);
    expect(s3Mock.commandCalls(GetObjectCommand)).toHaveLength(0);
    expect(embedder.texts).toEqual([]);
    expect(search.size).toBe(0);
  });

  it('rejects an event that is not an S3 notification', async () => {
    // Prepare
    const { index } = setUp();

    // Act
    const run = index({ detail: { bucket: BUCKET } });

    // Assess
    await expect(run).rejects.toThrow(/Records/);
  });

  it('fails the invocation when the source cannot be read, so S3 retries it', async () => {
    // Prepare
    const { search, index } = setUp();
    s3Mock.on(GetObjectCommand).rejects(new Error('AccessDenied'));

    // Act
    const run = index({ Records: [created('kb/faqs.jsonl')] });

    // Assess
    await expect(run).rejects.toThrow('AccessDenied');
    expect(search.size).toBe(0);
  });
});
