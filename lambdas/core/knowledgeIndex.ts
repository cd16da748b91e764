/**
 * Hybrid index over the FAQ knowledge base: BM25F over (question + alternates, answer + tags) and
 * sentence vectors of each question, alternate and answer. It produces candidates with the features the
 * learned ranker (faqRanker.ts) blends. Embedding happens outside (Embedder port); this module is pure.
 */
import { LexicalIndex } from './lexicalIndex';
import type { Embedder } from './ports';
import { analyze } from './textAnalysis';
import type { Distribution, Faq, Intent, ProductArea } from './types';
import {
  dot,
  exactVectorSearch,
  meanVector,
  type VectorSearch,
  type VectorSearchFactory,
} from './vectorSearch';

export interface FaqVectors {
  readonly question: Float32Array;
  readonly alternates: readonly Float32Array[];
  readonly answer: Float32Array;
}

/** The texts embedded for one FAQ, in the order FaqVectors expects: question, alternates..., answer. */
export function faqEmbeddingTexts(faq: Faq): string[] {
  return [faq.question, ...faq.alternates, answerSnippet(faq.answer)];
}

/** The opening of an answer without markdown, which carries most of its meaning for embeddings. */
export function answerSnippet(answer: string): string {
  const plain = answer
    .replace(/```[\s\S]*?```/g, ' ')
    .replace(/[#*_>`[\]()|]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return plain.length > 320 ? `${plain.slice(0, 320).replace(/\s+\S*$/, '')}` : plain;
}

export function faqVectorsFrom(faq: Faq, vectors: readonly Float32Array[]): FaqVectors {
  const expected = faq.alternates.length + 2;
  if (vectors.length !== expected) {
    throw new Error(`FAQ ${faq.id}: expected ${expected} vectors, got ${vectors.length}`);
  }
  return {
    question: vectors[0]!,
    alternates: vectors.slice(1, 1 + faq.alternates.length),
    answer: vectors[vectors.length - 1]!,
  };
}

/** A query analysed once and shared by classification and retrieval. */
export interface AnalyzedQuery {
  readonly text: string;
  readonly terms: readonly string[];
  readonly vector: Float32Array;
}

export interface QueryPriors {
  readonly intent?: Distribution<Intent>;
  readonly productArea?: Distribution<ProductArea>;
}

export const RANKER_FEATURES = [
  'lexQuestion',
  'lexAnswer',
  'lexRelative',
  'coverageQuestion',
  'coverageAll',
  'simBest',
  'simQuestion',
  'simAnswer',
  'simCentroid',
  'simGap',
  'lexReciprocalRank',
  'vecReciprocalRank',
  'areaPrior',
  'intentPrior',
  'simBestSquared',
  'lexTimesSim',
] as const;

/** Candidate FAQ ids chosen by an external search backend, best first. */
export interface ExternalCandidates {
  readonly lexical: readonly string[];
  readonly vector: readonly string[];
}

export interface Candidate {
  readonly doc: number;
  readonly faq: Faq;
  readonly features: Float64Array;
}

export interface KnowledgeIndexOptions {
  /** How many candidates each retriever contributes before reranking. @default 30 */
  readonly candidatesPerRetriever?: number;
  /**
   * Up to this many FAQs, vector candidates come from every question/alternate vector (best recall);
   * above it, from one centroid per FAQ (10x fewer vectors to scan). @default 5000
   */
  readonly allVectorsUpTo?: number;
  /** @default exact scan */
  readonly vectorSearchFactory?: VectorSearchFactory;
}

const QUESTION_FIELD = 0;
const ANSWER_FIELD = 1;

export class KnowledgeIndex {
  private readonly lexical: LexicalIndex;
  private readonly vectorIndex: VectorSearch;
  /** FAQ (doc) of each row in vectorIndex. */
  private readonly vectorOwner: Int32Array;
  private readonly byId = new Map<string, number>();
  private readonly candidatesPerRetriever: number;

  constructor(
    readonly faqs: readonly Faq[],
    private readonly vectors: readonly FaqVectors[],
    readonly dimensions: number,
    options: KnowledgeIndexOptions = {},
  ) {
    if (faqs.length !== vectors.length) throw new Error('KnowledgeIndex: one FaqVectors per FAQ is required');
    faqs.forEach((faq, doc) => {
      if (this.byId.has(faq.id)) throw new Error(`KnowledgeIndex: duplicate FAQ id ${faq.id}`);
      this.byId.set(faq.id, doc);
    });
    this.candidatesPerRetriever = options.candidatesPerRetriever ?? 30;
    this.lexical = new LexicalIndex(
      faqs.map((faq) => [
        analyze([faq.question, ...faq.alternates].join('\n')),
        analyze(`${faq.answer}\n${faq.tags.join(' ')}`),
      ]),
      { fieldWeights: [1, 0.35], b: [0.5, 0.75] },
    );
    const factory = options.vectorSearchFactory ?? exactVectorSearch;
    const rows: Float32Array[] = [];
    const owners: number[] = [];
    vectors.forEach((v, doc) => {
      if (faqs.length <= (options.allVectorsUpTo ?? 5000)) {
        for (const row of [v.question, ...v.alternates]) {
          rows.push(row);
          owners.push(doc);
        }
      } else {
        rows.push(meanVector([v.question, ...v.alternates], dimensions));
        owners.push(doc);
      }
    });
    this.vectorIndex = factory(rows, dimensions);
    this.vectorOwner = Int32Array.from(owners);
  }

  get size(): number {
    return this.faqs.length;
  }

  docOf(faqId: string): number | undefined {
    return this.byId.get(faqId);
  }

  analyzeQuery(text: string, vector: Float32Array): AnalyzedQuery {
    return { text, terms: analyze(text), vector };
  }

  /** Union of the lexical and vector candidates with their ranking features. */
  candidates(query: AnalyzedQuery, priors: QueryPriors = {}, external?: ExternalCandidates): Candidate[] {
    const k = this.candidatesPerRetriever;
    // An external search backend (OpenSearch) may choose the candidates; features are computed here either way.
    const lexicalHits = external
      ? this.docsOf(external.lexical).map((doc) => ({ doc, score: this.lexical.score(query.terms, doc) }))
      : this.lexical.search(query.terms, k);
    const vectorHits = external
      ? this.docsOf(external.vector).map((id) => ({ id, score: 0 }))
      : this.vectorCandidates(query.vector, k);
    const lexRank = new Map(lexicalHits.map((hit, rank) => [hit.doc, rank]));
    const vecRank = new Map(vectorHits.map((hit, rank) => [hit.id, rank]));
    const lexScore = new Map(lexicalHits.map((hit) => [hit.doc, hit.score]));
    const docs = [...new Set([...lexicalHits.map((h) => h.doc), ...vectorHits.map((h) => h.id)])];
    const maxLex = Math.max(0, ...lexicalHits.map((hit) => hit.score));
    const queryNorm = this.queryNorm(query.terms);

    const sims = docs.map((doc) => this.similarities(query.vector, doc));
    const bestSim = Math.max(0, ...sims.map((s) => s.best));

    return docs.map((doc, i) => {
      const faq = this.faqs[doc]!;
      const sim = sims[i]!;
      const lexQuestion = this.lexical.fieldScore(query.terms, doc, QUESTION_FIELD) / queryNorm;
      const lexAnswer = this.lexical.fieldScore(query.terms, doc, ANSWER_FIELD) / queryNorm;
      const combined = lexScore.get(doc) ?? 0;
      const features = Float64Array.from([
        lexQuestion,
        lexAnswer,
        maxLex > 0 ? combined / maxLex : 0,
        this.lexical.coverage(query.terms, doc, QUESTION_FIELD),
        this.lexical.coverage(query.terms, doc),
        sim.best,
        sim.question,
        sim.answer,
        sim.centroid,
        sim.best - bestSim,
        lexRank.has(doc) ? 1 / (1 + lexRank.get(doc)!) : 0,
        vecRank.has(doc) ? 1 / (1 + vecRank.get(doc)!) : 0,
        priorOf(priors.productArea, faq.productArea, 0.1),
        priorOf(priors.intent, faq.intent, 0.2),
        sim.best * sim.best,
        lexQuestion * sim.best,
      ]);
      return { doc, faq, features };
    });
  }

  /** Docs of the given FAQ ids that this index holds, in order. */
  private docsOf(faqIds: readonly string[]): number[] {
    return faqIds.map((id) => this.byId.get(id)).filter((doc): doc is number => doc !== undefined);
  }

  /** The k FAQs whose nearest question/alternate (or centroid) vector is closest to the query. */
  private vectorCandidates(query: Float32Array, k: number): { id: number; score: number }[] {
    const perFaq = this.vectorOwner.length / Math.max(this.faqs.length, 1);
    const hits = this.vectorIndex.search(query, Math.ceil(k * perFaq * 1.5));
    const seen = new Set<number>();
    const out: { id: number; score: number }[] = [];
    for (const hit of hits) {
      const doc = this.vectorOwner[hit.id]!;
      if (seen.has(doc)) continue;
      seen.add(doc);
      out.push({ id: doc, score: hit.score });
      if (out.length === k) break;
    }
    return out;
  }

  /** Cosines between the query and one FAQ's question, alternates, answer and their mean. */
  private similarities(query: Float32Array, doc: number) {
    const v = this.vectors[doc]!;
    const question = dot(query, v.question);
    let best = question;
    let centroidSum = question;
    for (const alternate of v.alternates) {
      const s = dot(query, alternate);
      centroidSum += s;
      if (s > best) best = s;
    }
    return {
      best,
      question,
      answer: dot(query, v.answer),
      centroid: centroidSum / (1 + v.alternates.length),
    };
  }

  /** Normaliser that makes BM25 scores comparable across queries: the summed idf of the query. */
  private queryNorm(terms: readonly string[]): number {
    let norm = 0;
    for (const term of new Set(terms)) norm += this.lexical.idf(term);
    return Math.max(norm, 1);
  }
}

function priorOf<K extends string>(
  distribution: Distribution<K> | undefined,
  key: string | undefined,
  fallback: number,
) {
  if (!distribution || key === undefined) return fallback;
  const value = (distribution as Record<string, number>)[key];
  return value ?? fallback;
}

/** Embeds every FAQ text in batches and builds the index. */
export async function buildKnowledgeIndex(
  faqs: readonly Faq[],
  embedder: Embedder,
  options: KnowledgeIndexOptions & { readonly batchSize?: number } = {},
): Promise<KnowledgeIndex> {
  const texts = faqs.flatMap(faqEmbeddingTexts);
  const batchSize = options.batchSize ?? 64;
  const vectors: Float32Array[] = [];
  for (let start = 0; start < texts.length; start += batchSize) {
    vectors.push(...(await embedder.embed(texts.slice(start, start + batchSize))));
  }
  let cursor = 0;
  const faqVectors = faqs.map((faq) => {
    const count = faq.alternates.length + 2;
    const slice = vectors.slice(cursor, cursor + count);
    cursor += count;
    return faqVectorsFrom(faq, slice);
  });
  return new KnowledgeIndex(faqs, faqVectors, embedder.dimensions, options);
}
