/**
 * FaqSearch on Amazon OpenSearch Serverless (a VECTORSEARCH collection), also usable against any
 * OpenSearch 2.x+/3.x cluster with the k-NN plugin.
 *
 * AOSS vector collections reject custom document ids on index/create and do not offer _delete_by_query or
 * refresh, so each FAQ is stored under a generated _id with its id in the `faqId` keyword field; replacing
 * or removing an FAQ looks its documents up by `faqId` and deletes them by _id in the same _bulk request.
 * Writes become searchable after the collection's refresh (seconds), so a lookup can miss a document
 * indexed moments earlier; search results are therefore de-duplicated by faqId.
 */
// Types only at load time: the client itself is imported on first use (forServerless), so functions that
// bundle this module without using it do not carry the OpenSearch client (it ships in the engine layer).
import type { API, Client, Types } from '@opensearch-project/opensearch';
import type { FaqSearch, FaqSearchHit, FaqSearchQuery } from '#core/faqSearch';
import type { Faq } from '#core/types';

/** How kNN scores are computed; both equal cosine similarity on unit vectors. */
export type KnnSpaceType = 'innerproduct' | 'cosinesimil';

export interface OpenSearchFaqSearchOptions {
  readonly client: Client;
  readonly index: string;
  /** Length of every vector (Titan Text Embeddings v2 at 512). @default 512 */
  readonly dimensions?: number;
  /** @default 'innerproduct' (fastest with faiss; vectors are unit length) */
  readonly spaceType?: KnnSpaceType;
  /** Documents per _bulk request; 512-d vectors are ~10 KB of JSON each. @default 200 */
  readonly bulkBatchSize?: number;
}

export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}

export interface ServerlessFaqSearchOptions extends Omit<OpenSearchFaqSearchOptions, 'client'> {
  /** Collection endpoint, e.g. https://abc123.us-east-1.aoss.amazonaws.com */
  readonly endpoint: string;
  readonly region: string;
  /** @default the AWS SDK default chain (Lambda role credentials) */
  readonly getCredentials?: () => Promise<AwsCredentials>;
}

/** Fields searched lexically, with their boosts. */
export const LEXICAL_FIELDS = ['question^3', 'alternates^2', 'answer', 'tags'] as const;

/** Lookups by faqId fetch at most this many documents per request (the default max_result_window). */
const MAX_LOOKUP_HITS = 10_000;
const LOOKUP_IDS_PER_REQUEST = 1_000;

interface FaqDocument {
  readonly faqId: string;
  readonly question: string;
  readonly alternates: readonly string[];
  readonly answer: string;
  readonly tags: readonly string[];
  readonly vector: number[];
}

interface SearchHits {
  readonly hits?: { readonly hits?: readonly { _id: string; _score?: number | null; _source?: unknown }[] };
  readonly error?: { readonly type?: string; readonly reason?: string };
  readonly status?: number;
}

export class OpenSearchFaqSearch implements FaqSearch {
  readonly dimensions: number;
  readonly index: string;
  private readonly client: Client;
  private readonly spaceType: KnnSpaceType;
  private readonly bulkBatchSize: number;
  private indexReady: Promise<void> | undefined;
  /** Set when forServerless built the client, so close() may release it. */
  private ownsClient = false;

  constructor(options: OpenSearchFaqSearchOptions) {
    const dimensions = options.dimensions ?? 512;
    if (!Number.isInteger(dimensions) || dimensions < 1 || dimensions > 16_000) {
      throw new Error(`dimensions must be an integer between 1 and 16000, got ${dimensions}`);
    }
    if (!/^[a-z0-9][a-z0-9_-]*$/.test(options.index)) {
      throw new Error(`index must be a lower-case OpenSearch index name, got '${options.index}'`);
    }
    const bulkBatchSize = options.bulkBatchSize ?? 200;
    if (!Number.isInteger(bulkBatchSize) || bulkBatchSize < 1) {
      throw new Error(`bulkBatchSize must be a positive integer, got ${bulkBatchSize}`);
    }
    this.client = options.client;
    this.index = options.index;
    this.dimensions = dimensions;
    this.spaceType = options.spaceType ?? 'innerproduct';
    this.bulkBatchSize = bulkBatchSize;
  }

  /** A client for an AOSS collection, signing every request with SigV4 for service 'aoss'. */
  static async forServerless(options: ServerlessFaqSearchOptions): Promise<OpenSearchFaqSearch> {
    const { endpoint, region, getCredentials, ...rest } = options;
    const [{ Client }, { AwsSigv4Signer }, { defaultProvider }] = await Promise.all([
      import('@opensearch-project/opensearch'),
      import('@opensearch-project/opensearch/aws'),
      import('@aws-sdk/credential-provider-node'),
    ]);
    const client = new Client({
      ...AwsSigv4Signer({ region, service: 'aoss', getCredentials: getCredentials ?? defaultProvider() }),
      node: endpoint,
    });
    const search = new OpenSearchFaqSearch({ ...rest, client });
    search.ownsClient = true;
    return search;
  }

  /** Releases the client's keep-alive sockets when this adapter built it (tests, scripts). */
  async close(): Promise<void> {
    if (this.ownsClient) await this.client.close();
  }

  /** The index mapping: english-analysed text fields, a keyword faqId and an HNSW (faiss) vector. */
  indexDefinition(): API.Indices_Create_RequestBody {
    const text = { type: 'text', analyzer: 'english' } satisfies Types.Common_Mapping.TextProperty;
    return {
      settings: { index: { knn: true } },
      mappings: {
        properties: {
          faqId: { type: 'keyword' },
          question: text,
          alternates: text,
          answer: text,
          tags: text,
          vector: {
            type: 'knn_vector',
            dimension: this.dimensions,
            method: {
              name: 'hnsw',
              engine: 'faiss',
              space_type: this.spaceType,
              parameters: { m: 16, ef_construction: 128 },
            },
          },
        },
      },
    };
  }

  /** Creates the index unless it exists; concurrent callers share one attempt, a failure is retried. */
  ensureIndex(): Promise<void> {
    this.indexReady ??= this.createIndexIfMissing().catch((error: unknown) => {
      this.indexReady = undefined;
      throw error;
    });
    return this.indexReady;
  }

  async search(
    query: FaqSearchQuery,
    k: number,
  ): Promise<{ readonly lexical: FaqSearchHit[]; readonly vector: FaqSearchHit[] }> {
    if (k < 1) return { lexical: [], vector: [] };
    this.checkVector('query', query.vector);
    const lexical: Types.Core_Msearch.MultisearchBody = {
      size: k,
      _source: ['faqId'],
      query: {
        multi_match: {
          query: query.text,
          fields: [...LEXICAL_FIELDS],
          type: 'best_fields',
          tie_breaker: 0.3,
        },
      },
    };
    const vector: Types.Core_Msearch.MultisearchBody = {
      size: k,
      _source: ['faqId'],
      query: { knn: { vector: { vector: Array.from(query.vector), k } } },
    };
    const response = await this.call('msearch', () =>
      this.client.msearch({ index: this.index, body: [{}, lexical, {}, vector] }),
    );
    const [lexicalResult, vectorResult] = (response.body as { responses: SearchHits[] }).responses;
    return {
      lexical: this.hitsOf('lexical search', lexicalResult, (score) => score),
      vector: this.hitsOf('kNN search', vectorResult, (score) => this.similarityOf(score)),
    };
  }

  async upsert(items: readonly { readonly faq: Faq; readonly vector: Float32Array }[]): Promise<void> {
    if (items.length === 0) return;
    for (const { faq, vector } of items) this.checkVector(`FAQ ${faq.id}`, vector);
    // The last copy of an id wins, as with a Map; indexing both would leave a duplicate behind.
    const latest = [...new Map(items.map((item) => [item.faq.id, item])).values()];
    await this.ensureIndex();
    for (let start = 0; start < latest.length; start += this.bulkBatchSize) {
      const batch = latest.slice(start, start + this.bulkBatchSize);
      const stale = await this.documentIdsOf(batch.map((item) => item.faq.id));
      await this.bulk([
        ...stale.map((_id) => ({ delete: { _id } })),
        ...batch.flatMap(({ faq, vector }) => [{ index: {} }, documentOf(faq, vector)]),
      ]);
    }
  }

  async remove(faqIds: readonly string[]): Promise<void> {
    if (faqIds.length === 0) return;
    const stale = await this.documentIdsOf(faqIds);
    for (let start = 0; start < stale.length; start += this.bulkBatchSize) {
      await this.bulk(stale.slice(start, start + this.bulkBatchSize).map((_id) => ({ delete: { _id } })));
    }
  }

  private async createIndexIfMissing(): Promise<void> {
    const exists = await this.call('index lookup', () => this.client.indices.exists({ index: this.index }));
    if (exists.body === true) return;
    try {
      await this.client.indices.create({ index: this.index, body: this.indexDefinition() });
    } catch (error) {
      // Another writer created it between our check and our create: that is what we wanted.
      if (errorType(error) === 'resource_already_exists_exception') return;
      throw openSearchError('index creation', error);
    }
  }

  /** Generated _ids of every document stored for these FAQs (none when the index does not exist). */
  private async documentIdsOf(faqIds: readonly string[]): Promise<string[]> {
    const ids: string[] = [];
    const unique = [...new Set(faqIds)];
    for (let start = 0; start < unique.length; start += LOOKUP_IDS_PER_REQUEST) {
      const chunk = unique.slice(start, start + LOOKUP_IDS_PER_REQUEST);
      const response = await this.call('document lookup', () =>
        this.client.search(
          {
            index: this.index,
            body: { size: MAX_LOOKUP_HITS, _source: false, query: { terms: { faqId: chunk } } },
          },
          { ignore: [404] },
        ),
      );
      const result = response.body as SearchHits;
      if (response.statusCode === 404) {
        if (result.error?.type === 'index_not_found_exception') continue;
        throw new Error(`OpenSearch document lookup failed with 404: ${reasonOf(result.error)}`);
      }
      for (const hit of result.hits?.hits ?? []) ids.push(hit._id);
    }
    return ids;
  }

  private async bulk(operations: readonly object[]): Promise<void> {
    if (operations.length === 0) return;
    // client.bulk() sends PUT when an index is named; AOSS documents POST <index>/_bulk.
    const response = await this.call('bulk', () =>
      this.client.transport.request({
        method: 'POST',
        path: `/${encodeURIComponent(this.index)}/_bulk`,
        bulkBody: operations as Record<string, unknown>[],
      }),
    );
    const body = response.body as {
      errors?: boolean;
      items?: Record<string, { status?: number; error?: { type?: string; reason?: string } }>[];
    };
    if (!body.errors) return;
    const failures = (body.items ?? [])
      .flatMap((item) => Object.entries(item))
      // Deleting a document that is already gone is not a failure.
      .filter(([action, result]) => result.error && !(action === 'delete' && result.status === 404))
      .map(([action, result]) => `${action} ${result.status}: ${reasonOf(result.error)}`);
    if (failures.length) {
      throw new Error(
        `OpenSearch bulk failed for ${failures.length} operation(s): ${failures.slice(0, 3).join('; ')}`,
      );
    }
  }

  private hitsOf(
    what: string,
    result: SearchHits | undefined,
    similarity: (score: number) => number,
  ): FaqSearchHit[] {
    if (!result) throw new Error(`OpenSearch ${what} returned no response`);
    if (result.error) {
      // Nothing was ever written: an empty index, not a failure.
      if (result.error.type === 'index_not_found_exception') return [];
      throw new Error(`OpenSearch ${what} failed with ${result.status ?? '?'}: ${reasonOf(result.error)}`);
    }
    const seen = new Set<string>();
    const hits: FaqSearchHit[] = [];
    for (const hit of result.hits?.hits ?? []) {
      const faqId = (hit._source as { faqId?: unknown } | undefined)?.faqId;
      if (typeof faqId !== 'string' || seen.has(faqId)) continue;
      seen.add(faqId);
      hits.push({ faqId, score: similarity(hit._score ?? 0) });
    }
    return hits;
  }

  /** Undoes the k-NN plugin's score transform so vector scores are cosines, as in the embedded index. */
  private similarityOf(score: number): number {
    if (this.spaceType === 'cosinesimil') return 2 * score - 1;
    return score >= 1 ? score - 1 : 1 - 1 / score;
  }

  private checkVector(what: string, vector: Float32Array): void {
    if (vector.length !== this.dimensions) {
      throw new Error(`${what}: expected a ${this.dimensions}-d vector, got ${vector.length}`);
    }
  }

  private async call<T>(operation: string, request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      throw openSearchError(operation, error);
    }
  }
}

const documentOf = (faq: Faq, vector: Float32Array): FaqDocument => ({
  faqId: faq.id,
  question: faq.question,
  alternates: faq.alternates,
  answer: faq.answer,
  tags: faq.tags,
  vector: Array.from(vector),
});

/** The client's ResponseError, recognised by shape (the class is not imported at load time). */
interface ResponseErrorLike {
  readonly name: 'ResponseError';
  readonly body?: unknown;
  readonly statusCode?: number;
  readonly message: string;
}
const isResponseError = (error: unknown): error is ResponseErrorLike =>
  error instanceof Error && error.name === 'ResponseError';

const errorType = (error: unknown): string | undefined =>
  isResponseError(error) ? (error.body as { error?: { type?: string } } | undefined)?.error?.type : undefined;

const reasonOf = (error: { type?: string; reason?: string } | undefined): string =>
  error ? `${error.type ?? 'error'}: ${error.reason ?? 'no reason given'}` : 'unknown error';

/** An Error naming the operation, the HTTP status and OpenSearch's reason. */
const openSearchError = (operation: string, error: unknown): Error => {
  if (isResponseError(error)) {
    const body = error.body as { error?: { type?: string; reason?: string } | string } | string | undefined;
    const detail =
      typeof body === 'object' && body && typeof body.error === 'object'
        ? reasonOf(body.error)
        : typeof body === 'object' && body && typeof body.error === 'string'
          ? body.error
          : String(typeof body === 'string' && body ? body : error.message);
    return new Error(`OpenSearch ${operation} failed with ${error.statusCode}: ${detail}`, { cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new Error(`OpenSearch ${operation} failed: ${message}`, { cause: error });
};
