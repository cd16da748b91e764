/**
 * The search port's contract, run against every adapter: the embedded index and OpenSearchFaqSearch
 * talking SigV4-signed HTTP to a local OpenSearch stub. Then what only the AWS adapters promise: the
 * wire shape of their OpenSearch and Bedrock (Titan embeddings) requests.
 */
import { createHash } from 'node:crypto';
import {
  createServer,
  type Http2ServerResponse,
  type Http2Session,
  type IncomingHttpHeaders,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import { BedrockRuntimeClient, type InvokeModelCommand } from '@aws-sdk/client-bedrock-runtime';
import { describe, expect, it, onTestFinished } from 'vitest';
import { EmbeddedFaqSearch } from '#adapters/embeddedFaqSearch';
import { OpenSearchFaqSearch } from '#adapters/openSearchFaqSearch';
import { TitanEmbedder } from '#adapters/titanEmbedder';
import type { FaqSearch } from '#core/faqSearch';
import type { Faq } from '#core/types';
import { dot, normalize } from '#core/vectorSearch';
import { type OpenSearchStub, startOpenSearchStub } from '../support/openSearchStub';

const DIMENSIONS = 8;
const INDEX = 'faqs';

/** A unit vector leaning on one axis, so each FAQ has its own clear nearest neighbour. */
const axisVector = (axis: number, lean = 0.2): Float32Array =>
  normalize(Float32Array.from({ length: DIMENSIONS }, (_, i) => (i === axis ? 1 : lean * ((i + axis) % 3))));

const faq = (id: string, question: string, answer: string, tags: string[] = []): Faq => ({
  id,
  question,
  alternates: [],
  answer,
  tags,
});

const PASSWORD = faq(
  'pw-reset',
  'How do I reset my password?',
  'Use "Forgot password" on the sign-in page of your account.',
);
const SSO = faq(
  'sso-setup',
  'How do I enable single sign-on with SAML?',
  'Admins turn on SAML under Settings of the account.',
  ['sso'],
);
const INVOICE = faq(
  'invoice-download',
  'Where can I download my invoices?',
  'Billing lists every invoice of the account as a PDF.',
);
const EXPORT = faq(
  'csv-export',
  'Can I export reports to CSV?',
  'Each dashboard of the account has an export button.',
);
const KNOWLEDGE_BASE = [PASSWORD, SSO, INVOICE, EXPORT].map((entry, axis) => ({
  faq: entry,
  vector: axisVector(axis),
}));
const vectorOf = (id: string) => KNOWLEDGE_BASE.find((item) => item.faq.id === id)!.vector;
const NO_VECTOR = new Float32Array(DIMENSIONS);

const STATIC_CREDENTIALS = async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' });

/** OpenSearchFaqSearch against a fresh stub, signing as an AOSS client would; torn down after the test. */
const openSearchAgainstStub = async (): Promise<{ search: OpenSearchFaqSearch; stub: OpenSearchStub }> => {
  const stub = await startOpenSearchStub();
  const search = await OpenSearchFaqSearch.forServerless({
    endpoint: stub.url,
    region: 'us-east-1',
    index: INDEX,
    dimensions: DIMENSIONS,
    getCredentials: STATIC_CREDENTIALS,
  });
  onTestFinished(async () => {
    await search.close();
    await stub.close();
  });
  return { search, stub };
};

const adapters: { name: string; create: () => Promise<FaqSearch> }[] = [
  { name: 'EmbeddedFaqSearch', create: async () => new EmbeddedFaqSearch({ dimensions: DIMENSIONS }) },
  { name: 'OpenSearchFaqSearch', create: async () => (await openSearchAgainstStub()).search },
];

describe.each(adapters)('FaqSearch contract: $name', ({ create }) => {
  it('ranks the FAQ whose words the query uses first among lexical candidates', async () => {
    // Prepare
    const search = await create();
    await search.upsert(KNOWLEDGE_BASE);

    // Act
    const { lexical } = await search.search({ text: 'I forgot my password', vector: NO_VECTOR }, 3);

    // Assess
    expect(lexical[0]?.faqId).toBe('pw-reset');
    expect(lexical[0]!.score).toBeGreaterThan(0);
  });

  it('ranks the FAQ whose vector equals the query first among vector candidates, with cosine 1', async () => {
    // Prepare
    const search = await create();
    await search.upsert(KNOWLEDGE_BASE);

    // Act
    const { vector } = await search.search({ text: '', vector: vectorOf('invoice-download') }, 4);

    // Assess
    expect(vector.map((hit) => hit.faqId)[0]).toBe('invoice-download');
    expect(vector[0]!.score).toBeCloseTo(1, 5);
    expect(vector[1]!.score).toBeLessThan(vector[0]!.score);
  });

  it('replaces an FAQ upserted again under the same id', async () => {
    // Prepare
    const search = await create();
    await search.upsert(KNOWLEDGE_BASE);
    const renamed = faq('pw-reset', 'How do I change my avatar?', 'Upload a picture in your profile.');

    // Act
    await search.upsert([{ faq: renamed, vector: axisVector(5) }]);

    // Assess
    const oldWords = await search.search({ text: 'reset password', vector: axisVector(0) }, 10);
    const newWords = await search.search({ text: 'avatar picture', vector: axisVector(5) }, 10);
    expect(oldWords.lexical.map((hit) => hit.faqId)).not.toContain('pw-reset');
    expect(newWords.lexical[0]?.faqId).toBe('pw-reset');
    expect(newWords.vector[0]?.faqId).toBe('pw-reset');
    expect(newWords.vector.filter((hit) => hit.faqId === 'pw-reset')).toHaveLength(1);
  });

  it('forgets removed FAQs in both candidate lists', async () => {
    // Prepare
    const search = await create();
    await search.upsert(KNOWLEDGE_BASE);

    // Act
    await search.remove(['sso-setup']);

    // Assess
    const { lexical, vector } = await search.search(
      { text: 'enable SAML single sign-on', vector: vectorOf('sso-setup') },
      10,
    );
    expect(lexical.map((hit) => hit.faqId)).not.toContain('sso-setup');
    expect(vector.map((hit) => hit.faqId)).not.toContain('sso-setup');
    expect(vector).toHaveLength(3);
  });

  it('returns at most k candidates per list', async () => {
    // Prepare
    const search = await create();
    await search.upsert(KNOWLEDGE_BASE);

    // Act: every answer mentions the account, every FAQ has a vector.
    const { lexical, vector } = await search.search({ text: 'account', vector: axisVector(1) }, 2);

    // Assess
    expect(lexical).toHaveLength(2);
    expect(vector).toHaveLength(2);
  });

  it('returns empty lists from an empty index', async () => {
    // Prepare
    const search = await create();

    // Act
    const result = await search.search({ text: 'reset my password', vector: axisVector(0) }, 5);

    // Assess
    expect(result).toEqual({ lexical: [], vector: [] });
  });
});

// biome-ignore lint/suspicious/noExplicitAny: recorded request bodies are asserted field by field
type Json = Record<string, any>;

describe('OpenSearchFaqSearch on the OpenSearch Serverless wire', () => {
  it('signs every request with SigV4 for service aoss over the exact payload', async () => {
    // Prepare
    const { search, stub } = await openSearchAgainstStub();

    // Act
    await search.upsert(KNOWLEDGE_BASE);
    await search.search({ text: 'password', vector: axisVector(0) }, 3);
    await search.remove(['csv-export']);

    // Assess
    expect(stub.requests.length).toBeGreaterThanOrEqual(5);
    for (const request of stub.requests) {
      expect(request.headers.authorization).toMatch(
        /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/us-east-1\/aoss\/aws4_request, SignedHeaders=[^,]*x-amz-content-sha256;x-amz-date[^,]*, Signature=[0-9a-f]{64}$/,
      );
      expect(request.headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
      expect(request.headers['x-amz-content-sha256']).toBe(
        createHash('sha256').update(request.rawBody).digest('hex'),
      );
    }
  });

  it('creates the index once, with a faiss knn_vector of the configured dimension and english text', async () => {
    // Prepare
    const { search, stub } = await openSearchAgainstStub();

    // Act
    await search.upsert(KNOWLEDGE_BASE.slice(0, 2));
    await search.upsert(KNOWLEDGE_BASE.slice(2));

    // Assess
    expect(stub.requests.filter((r) => r.method === 'PUT' && r.path === `/${INDEX}`)).toHaveLength(1);
    const definition = stub.definition(INDEX) as Json;
    expect(definition.settings.index.knn).toBe(true);
    expect(definition.mappings.properties.vector).toMatchObject({
      type: 'knn_vector',
      dimension: DIMENSIONS,
      method: { name: 'hnsw', engine: 'faiss', space_type: 'innerproduct' },
    });
    expect(definition.mappings.properties.faqId).toEqual({ type: 'keyword' });
    for (const field of ['question', 'alternates', 'answer', 'tags']) {
      expect(definition.mappings.properties[field]).toEqual({ type: 'text', analyzer: 'english' });
    }
  });

  it('searches with one _msearch holding a boosted multi_match and a knn query on the vector', async () => {
    // Prepare
    const { search, stub } = await openSearchAgainstStub();
    await search.upsert(KNOWLEDGE_BASE);
    const query = { text: 'download invoices', vector: vectorOf('invoice-download') };

    // Act
    await search.search(query, 3);

    // Assess
    const searches = stub.requests.filter((r) => r.path.endsWith('/_msearch'));
    expect(searches).toHaveLength(1);
    expect(searches[0]).toMatchObject({ method: 'POST', path: `/${INDEX}/_msearch` });
    const [, lexical, , knn] = searches[0]!.body as Json[];
    expect(lexical!.size).toBe(3);
    expect(lexical!.query.multi_match).toMatchObject({
      query: 'download invoices',
      fields: ['question^3', 'alternates^2', 'answer', 'tags'],
    });
    expect(knn!.size).toBe(3);
    expect(knn!.query.knn.vector.k).toBe(3);
    expect(knn!.query.knn.vector.vector).toEqual(Array.from(query.vector));
  });

  it('indexes under generated ids and replaces an FAQ by deleting its old document in the same bulk', async () => {
    // Prepare
    const { search, stub } = await openSearchAgainstStub();
    await search.upsert([KNOWLEDGE_BASE[0]!]);
    const [oldId] = [...stub.documents(INDEX)!.keys()];

    // Act
    await search.upsert([{ faq: { ...PASSWORD, answer: 'Ask your admin.' }, vector: axisVector(0) }]);

    // Assess
    const bulks = stub.requests.filter((r) => r.path === `/${INDEX}/_bulk`);
    expect(bulks).toHaveLength(2);
    expect(bulks[0]!.body).toEqual([{ index: {} }, expect.objectContaining({ faqId: 'pw-reset' })]);
    expect(bulks[1]!.body).toEqual([
      { delete: { _id: oldId } },
      { index: {} },
      expect.objectContaining({ faqId: 'pw-reset', answer: 'Ask your admin.' }),
    ]);
    expect([...stub.documents(INDEX)!.values()].map((doc) => doc.answer)).toEqual(['Ask your admin.']);
  });

  it('surfaces an OpenSearch error with its status and reason', async () => {
    // Prepare
    const { search, stub } = await openSearchAgainstStub();
    await search.upsert(KNOWLEDGE_BASE);
    stub.failNextRequest({
      status: 403,
      type: 'security_exception',
      reason: 'no permissions for [indices:data/read/msearch]',
    });

    // Act
    const searching = search.search({ text: 'password', vector: axisVector(0) }, 3);

    // Assess
    await expect(searching).rejects.toThrow(
      /OpenSearch msearch failed with 403: security_exception: no permissions for \[indices:data\/read\/msearch\]/,
    );
  });

  it('rejects a vector of the wrong dimension before calling OpenSearch', async () => {
    // Prepare
    const { search, stub } = await openSearchAgainstStub();

    // Act
    const upserting = search.upsert([{ faq: PASSWORD, vector: new Float32Array(3) }]);

    // Assess
    await expect(upserting).rejects.toThrow('FAQ pw-reset: expected a 8-d vector, got 3');
    expect(stub.requests).toHaveLength(0);
  });
});

interface RecordedInvocation {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: { inputText: string; dimensions: number; normalize: boolean };
}

/** What the stub's Titan returns for a text: deterministic, and unit length only when asked to normalise. */
const titanEmbedding = (text: string, dimensions: number, unit: boolean): number[] => {
  const seed = createHash('sha256').update(text).digest();
  const raw = Array.from({ length: dimensions }, (_, i) => (seed[i % seed.length]! - 127.5) / 10);
  const norm = Math.hypot(...raw);
  return unit ? raw.map((x) => x / norm) : raw;
};

/** A local InvokeModel endpoint over cleartext HTTP/2 (the SDK's default handler), like converseStub. */
const startInvokeModelStub = async () => {
  const invocations: RecordedInvocation[] = [];
  const sessions = new Set<Http2Session>();
  const server = createServer((req, res: Http2ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as RecordedInvocation['body'];
      invocations.push({ path: req.url ?? '', headers: req.headers, body });
      const payload = JSON.stringify({
        embedding: titanEmbedding(body.inputText, body.dimensions, body.normalize),
        inputTextTokenCount: body.inputText.split(/\s+/).length,
      });
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(payload),
      });
      res.end(payload);
    });
  });
  server.on('session', (session: Http2Session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = new BedrockRuntimeClient({
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' },
    maxAttempts: 1,
  });
  onTestFinished(async () => {
    client.destroy();
    await new Promise<void>((resolve, reject) => {
      server.close((error) => (error ? reject(error) : resolve()));
      for (const session of sessions) session.destroy();
    });
  });
  return { client, invocations };
};

describe('TitanEmbedder over the InvokeModel wire format', () => {
  it('asks Titan v2 for 512-d normalised embeddings and returns unit vectors in input order', async () => {
    // Prepare
    const { client, invocations } = await startInvokeModelStub();
    const embedder = new TitanEmbedder({ client });
    const texts = [
      'How do I reset my password?',
      'Where are my invoices?',
      'Export to CSV',
      'SSO',
      'API key',
    ];

    // Act
    const vectors = await embedder.embed(texts);

    // Assess
    expect(embedder.dimensions).toBe(512);
    expect(invocations).toHaveLength(texts.length);
    for (const invocation of invocations) {
      expect(invocation.path).toBe('/model/amazon.titan-embed-text-v2%3A0/invoke');
      expect(invocation.headers['content-type']).toBe('application/json');
      expect(invocation.headers.authorization).toMatch(/\/us-east-1\/bedrock\/aws4_request/);
    }
    expect(invocations.map((i) => i.body).sort((a, b) => a.inputText.localeCompare(b.inputText))).toEqual(
      [...texts].sort().map((inputText) => ({ inputText, dimensions: 512, normalize: true })),
    );
    vectors.forEach((vector, i) => {
      expect(vector).toBeInstanceOf(Float32Array);
      expect(vector).toHaveLength(512);
      expect(Math.sqrt(dot(vector, vector))).toBeCloseTo(1, 5);
      expect(dot(vector, titanEmbedding(texts[i]!, 512, true))).toBeCloseTo(1, 5);
    });
  });

  it('keeps at most four InvokeModel calls in flight', async () => {
    // Prepare: a client whose calls finish only when the test says so.
    const pending: (() => void)[] = [];
    const send = async (command: InvokeModelCommand) => {
      const { dimensions } = JSON.parse(command.input.body as string) as { dimensions: number };
      await new Promise<void>((resolve) => pending.push(resolve));
      return { body: new TextEncoder().encode(JSON.stringify({ embedding: new Array(dimensions).fill(1) })) };
    };
    const embedder = new TitanEmbedder({ client: { send } as unknown as BedrockRuntimeClient });
    const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

    // Act
    const embedding = embedder.embed(Array.from({ length: 10 }, (_, i) => `text ${i}`));
    await settle();
    const inFlightAtStart = pending.length;
    pending.splice(0, 1)[0]!();
    await settle();
    const inFlightAfterOneReturned = pending.length;
    while (pending.length) {
      for (const release of pending.splice(0)) release();
      await settle();
    }

    // Assess
    expect(inFlightAtStart).toBe(4);
    expect(inFlightAfterOneReturned).toBe(4);
    const vectors = await embedding;
    expect(vectors).toHaveLength(10);
    expect(Math.sqrt(dot(vectors[9]!, vectors[9]!))).toBeCloseTo(1, 5);
  });
});
