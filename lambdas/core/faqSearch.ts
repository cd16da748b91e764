/**
 * The search port: where FAQ candidates come from. The embedded adapter serves the local face and the
 * contract tests; the OpenSearch Serverless adapter serves AWS. Both return plain (faqId, score) lists so
 * the domain can blend them the same way, whichever engine produced them.
 */
import type { Faq } from './types';

export interface FaqSearchHit {
  readonly faqId: string;
  /** Higher is better. Lexical: engine-specific BM25; vector: cosine similarity of unit vectors. */
  readonly score: number;
}

export interface FaqSearchQuery {
  readonly text: string;
  /** Unit-length query embedding, same dimensions as the indexed vectors. */
  readonly vector: Float32Array;
}

export interface FaqSearch {
  /** Lexical (BM25 over question, alternates, answer, tags) and vector (kNN) candidates, best first. */
  search(
    query: FaqSearchQuery,
    k: number,
  ): Promise<{ readonly lexical: FaqSearchHit[]; readonly vector: FaqSearchHit[] }>;
  /** Inserts or replaces FAQs (by id) with their vectors. */
  upsert(items: readonly { readonly faq: Faq; readonly vector: Float32Array }[]): Promise<void>;
  remove(faqIds: readonly string[]): Promise<void>;
}

/**
 * The text an FAQ's indexed vector embeds: its question and alternate phrasings, one per line. Every
 * writer of vectors into a FaqSearch embeds this text, so vectors from different writers stay comparable.
 */
export const faqEmbeddingText = (faq: Pick<Faq, 'question' | 'alternates'>): string =>
  `${faq.question}\n${faq.alternates.join('\n')}`;
