/**
 * A local stand-in for the OpenSearch Serverless REST subset OpenSearchFaqSearch uses: HEAD/GET/PUT
 * index, _bulk (index without _id, delete by _id), _search (terms on faqId, multi_match, knn), _msearch
 * and DELETE _doc. Results are real: documents live in an EmbeddedFaqSearch keyed by generated _id, and
 * kNN scores go through the k-NN plugin's transform for the mapped space type. Like an AOSS vector
 * collection, it rejects custom document ids on index. Every request is recorded (with its raw body, so
 * tests can check the SigV4 payload hash). Test-only.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EmbeddedFaqSearch } from '#adapters/embeddedFaqSearch';

export interface RecordedOpenSearchRequest {
  readonly method: string;
  /** Path without the query string, e.g. '/faqs/_msearch'. */
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly headers: IncomingHttpHeaders;
  readonly rawBody: string;
  /** JSON body, an array of objects for NDJSON (_bulk, _msearch), or undefined when empty. */
  readonly body: unknown;
}

export interface OpenSearchStubError {
  readonly status: number;
  readonly type: string;
  readonly reason: string;
}

export interface OpenSearchStub {
  readonly url: string;
  readonly requests: readonly RecordedOpenSearchRequest[];
  /** Stored documents of an index by _id (undefined when the index does not exist). */
  documents(index: string): ReadonlyMap<string, StoredDocument> | undefined;
  /** The body the index was created with. */
  definition(index: string): IndexDefinition | undefined;
  /** Answers the next request with this error instead of serving it. */
  failNextRequest(error: OpenSearchStubError): void;
  close(): Promise<void>;
}

export interface StoredDocument {
  readonly faqId: string;
  readonly question: string;
  readonly alternates: readonly string[];
  readonly answer: string;
  readonly tags: readonly string[];
  readonly vector: readonly number[];
}

export interface IndexDefinition {
  readonly settings?: { readonly index?: { readonly knn?: boolean } };
  readonly mappings?: {
    readonly properties?: Record<
      string,
      { type?: string; analyzer?: string; dimension?: number; method?: { space_type?: string } }
    >;
  };
}

interface StubIndex {
  readonly definition: IndexDefinition;
  readonly spaceType: string;
  readonly documents: Map<string, StoredDocument>;
  readonly search: EmbeddedFaqSearch;
}

class StubFailure extends Error {
  constructor(readonly failure: OpenSearchStubError) {
    super(failure.reason);
  }
}

interface SearchBody {
  readonly size?: number;
  readonly _source?: boolean | string[];
  readonly query?: {
    readonly terms?: Record<string, unknown[]>;
    readonly multi_match?: { readonly query?: string };
    readonly knn?: Record<string, { readonly vector?: number[]; readonly k?: number }>;
  };
}

export const startOpenSearchStub = async (): Promise<OpenSearchStub> => {
  const requests: RecordedOpenSearchRequest[] = [];
  const indices = new Map<string, StubIndex>();
  let nextFailure: OpenSearchStubError | undefined;
  let generatedIds = 0;

  const requireIndex = (name: string): StubIndex => {
    const index = indices.get(name);
    if (!index) throw notFound(name);
    return index;
  };

  const createIndex = (name: string, body: unknown): unknown => {
    if (indices.has(name)) {
      throw new StubFailure({
        status: 400,
        type: 'resource_already_exists_exception',
        reason: `index [${name}] already exists`,
      });
    }
    const definition = (body ?? {}) as IndexDefinition;
    const vector = Object.values(definition.mappings?.properties ?? {}).find((p) => p.type === 'knn_vector');
    if (!vector?.dimension || definition.settings?.index?.knn !== true) {
      throw badRequest('mapper_parsing_exception', 'a knn index needs index.knn and a knn_vector dimension');
    }
    indices.set(name, {
      definition,
      spaceType: vector.method?.space_type ?? 'l2',
      documents: new Map(),
      search: new EmbeddedFaqSearch({ dimensions: vector.dimension }),
    });
    return { acknowledged: true, shards_acknowledged: true, index: name };
  };

  const bulk = async (name: string, lines: unknown[]): Promise<unknown> => {
    const index = requireIndex(name);
    const items: Record<string, unknown>[] = [];
    for (let i = 0; i < lines.length; i++) {
      const [action, meta] = Object.entries(lines[i] as Record<string, { _id?: string }>)[0] ?? [];
      if (action === 'delete') {
        const id = meta?._id ?? '';
        const found = index.documents.delete(id);
        await index.search.remove([id]);
        items.push({
          delete: {
            _index: name,
            _id: id,
            status: found ? 200 : 404,
            result: found ? 'deleted' : 'not_found',
          },
        });
      } else if (action === 'index' || action === 'create') {
        const source = lines[++i] as StoredDocument;
        if (meta?._id !== undefined) {
          items.push({
            [action]: {
              _index: name,
              status: 400,
              error: {
                type: 'illegal_argument_exception',
                reason: 'Document ID is not supported in create/index operation request',
              },
            },
          });
          continue;
        }
        const dimension = index.search.dimensions;
        if (!Array.isArray(source.vector) || source.vector.length !== dimension) {
          items.push({
            [action]: {
              _index: name,
              status: 400,
              error: {
                type: 'mapper_parsing_exception',
                reason: `Vector dimension mismatch. Expected: ${dimension}, Given: ${source.vector?.length}`,
              },
            },
          });
          continue;
        }
        const id = `auto-${++generatedIds}`;
        index.documents.set(id, source);
        await index.search.upsert([
          {
            faq: {
              id,
              question: source.question ?? '',
              alternates: source.alternates ?? [],
              answer: source.answer ?? '',
              tags: source.tags ?? [],
            },
            vector: Float32Array.from(source.vector),
          },
        ]);
        items.push({ [action]: { _index: name, _id: id, status: 201, result: 'created' } });
      } else {
        throw badRequest('illegal_argument_exception', `Malformed action/metadata line [${i + 1}]`);
      }
    }
    const errors = items.some((item) => Object.values(item).some((r) => (r as { error?: unknown }).error));
    return { took: 1, errors, items };
  };

  const search = async (name: string, body: SearchBody): Promise<unknown> => {
    const index = requireIndex(name);
    const size = body.size ?? 10;
    const query = body.query ?? {};
    let scored: { id: string; score: number }[];
    if (query.terms) {
      const [field, values] = Object.entries(query.terms)[0] ?? ['', []];
      scored = [...index.documents]
        .filter(([, doc]) => values.includes((doc as unknown as Record<string, unknown>)[field]))
        .map(([id]) => ({ id, score: 1 }));
    } else if (query.multi_match) {
      const { lexical } = await index.search.search(
        { text: query.multi_match.query ?? '', vector: new Float32Array(index.search.dimensions) },
        size,
      );
      scored = lexical.map((hit) => ({ id: hit.faqId, score: hit.score }));
    } else if (query.knn) {
      const [, knn] = Object.entries(query.knn)[0] ?? [];
      if (!knn?.vector || knn.vector.length !== index.search.dimensions) {
        throw badRequest('illegal_argument_exception', 'Query vector has invalid dimension');
      }
      const { vector } = await index.search.search(
        { text: '', vector: Float32Array.from(knn.vector) },
        Math.min(size, knn.k ?? size),
      );
      scored = vector.map((hit) => ({ id: hit.faqId, score: knnScore(index.spaceType, hit.score) }));
    } else {
      throw badRequest('parsing_exception', 'the stub serves terms, multi_match and knn queries only');
    }
    const hits = scored.slice(0, size).map(({ id, score }) => ({
      _index: name,
      _id: id,
      _score: score,
      ...sourceOf(index.documents.get(id)!, body._source),
    }));
    return {
      took: 1,
      timed_out: false,
      hits: { total: { value: scored.length, relation: 'eq' }, max_score: hits[0]?._score ?? null, hits },
    };
  };

  const msearch = async (pathIndex: string | undefined, lines: unknown[]): Promise<unknown> => {
    const responses: unknown[] = [];
    for (let i = 0; i + 1 < lines.length; i += 2) {
      const header = lines[i] as { index?: string };
      const name = header.index ?? pathIndex ?? '';
      try {
        responses.push({ ...((await search(name, lines[i + 1] as SearchBody)) as object), status: 200 });
      } catch (error) {
        if (!(error instanceof StubFailure)) throw error;
        responses.push({ error: errorBody(error.failure).error, status: error.failure.status });
      }
    }
    return { took: 1, responses };
  };

  const route = async (method: string, segments: string[], body: unknown): Promise<[number, unknown]> => {
    const [name = '', action, id] = segments;
    if (segments.length === 1 && name && !name.startsWith('_')) {
      if (method === 'HEAD') return [indices.has(name) ? 200 : 404, undefined];
      if (method === 'GET') {
        const index = requireIndex(name);
        return [200, { [name]: index.definition }];
      }
      if (method === 'PUT') return [200, createIndex(name, body)];
    }
    if (action === '_bulk' && method === 'POST') return [200, await bulk(name, body as unknown[])];
    if (action === '_search' && (method === 'POST' || method === 'GET')) {
      return [200, await search(name, (body ?? {}) as SearchBody)];
    }
    if (action === '_msearch' && (method === 'POST' || method === 'GET')) {
      return [200, await msearch(name, body as unknown[])];
    }
    if (name === '_msearch' && method === 'POST') return [200, await msearch(undefined, body as unknown[])];
    if (action === '_doc' && id && method === 'DELETE') {
      const index = requireIndex(name);
      const found = index.documents.delete(id);
      await index.search.remove([id]);
      return [found ? 200 : 404, { _index: name, _id: id, result: found ? 'deleted' : 'not_found' }];
    }
    throw new StubFailure({
      status: 404,
      type: 'no_handler_found_exception',
      reason: `no handler found for uri [/${segments.join('/')}] and method [${method}]`,
    });
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://stub');
      const rawBody = Buffer.concat(chunks).toString('utf8');
      const method = req.method ?? 'GET';
      let body: unknown;
      try {
        body = parseBody(rawBody, /\/_(bulk|msearch)$/.test(url.pathname));
      } catch {
        send(res, method, 400, errorBody({ status: 400, type: 'parse_exception', reason: 'invalid JSON' }));
        return;
      }
      requests.push({
        method,
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: req.headers,
        rawBody,
        body,
      });
      const failure = nextFailure;
      nextFailure = undefined;
      if (failure) {
        send(res, method, failure.status, errorBody(failure));
        return;
      }
      const segments = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
      route(method, segments, body).then(
        ([status, payload]) => send(res, method, status, payload),
        (error: unknown) => {
          const failure =
            error instanceof StubFailure
              ? error.failure
              : {
                  status: 500,
                  type: 'exception',
                  reason: error instanceof Error ? error.message : String(error),
                };
          send(res, method, failure.status, errorBody(failure));
        },
      );
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    documents: (index) => indices.get(index)?.documents,
    definition: (index) => indices.get(index)?.definition,
    failNextRequest: (error) => {
      nextFailure = error;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // The client keeps sockets alive between requests; they would hold close() open.
        server.closeAllConnections();
      }),
  };
};

/** The k-NN plugin's score for a cosine/inner product on unit vectors. */
const knnScore = (spaceType: string, similarity: number): number => {
  if (spaceType === 'innerproduct') return similarity >= 0 ? similarity + 1 : 1 / (1 - similarity);
  if (spaceType === 'cosinesimil') return (1 + similarity) / 2;
  // l2 on unit vectors: distance² = 2 − 2·cos.
  return 1 / (1 + (2 - 2 * similarity));
};

const sourceOf = (doc: StoredDocument, source: SearchBody['_source']): { _source?: unknown } => {
  if (source === false) return {};
  if (Array.isArray(source)) {
    return {
      _source: Object.fromEntries(
        source.filter((field) => field in doc).map((field) => [field, doc[field as keyof StoredDocument]]),
      ),
    };
  }
  return { _source: doc };
};

const parseBody = (raw: string, ndjson: boolean): unknown => {
  if (!raw.trim()) return undefined;
  if (!ndjson) return JSON.parse(raw) as unknown;
  return raw
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as unknown);
};

const notFound = (index: string) =>
  new StubFailure({ status: 404, type: 'index_not_found_exception', reason: `no such index [${index}]` });

const badRequest = (type: string, reason: string) => new StubFailure({ status: 400, type, reason });

const errorBody = ({ status, type, reason }: OpenSearchStubError) => ({
  error: { root_cause: [{ type, reason }], type, reason },
  status,
});

const send = (res: ServerResponse, method: string, status: number, body: unknown): void => {
  const payload = body === undefined || method === 'HEAD' ? '' : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=UTF-8',
    'content-length': Buffer.byteLength(payload),
  });
  res.end(payload);
};
