/**
 * FaqSearch in memory: the same BM25F fields as KnowledgeIndex plus an exact vector scan. Writes only
 * mark the index stale; the next search rebuilds it, so a bulk load costs one build, not one per batch.
 * It is the reference implementation the contract tests hold the OpenSearch adapter to.
 */
import type { FaqSearch, FaqSearchHit, FaqSearchQuery } from '#core/faqSearch';
import { LexicalIndex } from '#core/lexicalIndex';
import { analyze } from '#core/textAnalysis';
import type { Faq } from '#core/types';
import { ExactVectorSearch } from '#core/vectorSearch';

export interface EmbeddedFaqSearchOptions {
  /** Length of every vector. @default 512 */
  readonly dimensions?: number;
}

interface Snapshot {
  readonly faqIds: readonly string[];
  readonly lexical: LexicalIndex;
  readonly vectors: ExactVectorSearch;
}

export class EmbeddedFaqSearch implements FaqSearch {
  readonly dimensions: number;
  private readonly entries = new Map<string, { readonly faq: Faq; readonly vector: Float32Array }>();
  private snapshot: Snapshot | undefined;

  constructor(options: EmbeddedFaqSearchOptions = {}) {
    const dimensions = options.dimensions ?? 512;
    if (!Number.isInteger(dimensions) || dimensions < 1) {
      throw new Error(`dimensions must be a positive integer, got ${dimensions}`);
    }
    this.dimensions = dimensions;
  }

  get size(): number {
    return this.entries.size;
  }

  async search(
    query: FaqSearchQuery,
    k: number,
  ): Promise<{ readonly lexical: FaqSearchHit[]; readonly vector: FaqSearchHit[] }> {
    if (k < 1 || this.entries.size === 0) return { lexical: [], vector: [] };
    const { faqIds, lexical, vectors } = this.current();
    return {
      lexical: lexical
        .search(analyze(query.text), k)
        .map((hit) => ({ faqId: faqIds[hit.doc]!, score: hit.score })),
      vector: vectors.search(query.vector, k).map((hit) => ({ faqId: faqIds[hit.id]!, score: hit.score })),
    };
  }

  async upsert(items: readonly { readonly faq: Faq; readonly vector: Float32Array }[]): Promise<void> {
    for (const { faq, vector } of items) {
      if (vector.length !== this.dimensions) {
        throw new Error(`FAQ ${faq.id}: expected a ${this.dimensions}-d vector, got ${vector.length}`);
      }
    }
    for (const item of items) this.entries.set(item.faq.id, item);
    if (items.length) this.snapshot = undefined;
  }

  async remove(faqIds: readonly string[]): Promise<void> {
    let removed = false;
    for (const id of faqIds) removed = this.entries.delete(id) || removed;
    if (removed) this.snapshot = undefined;
  }

  private current(): Snapshot {
    if (this.snapshot) return this.snapshot;
    const entries = [...this.entries.values()];
    this.snapshot = {
      faqIds: entries.map((entry) => entry.faq.id),
      // Same fields, weights and length normalisation as KnowledgeIndex, so both rank alike.
      lexical: new LexicalIndex(
        entries.map(({ faq }) => [
          analyze([faq.question, ...faq.alternates].join('\n')),
          analyze(`${faq.answer}\n${faq.tags.join(' ')}`),
        ]),
        { fieldWeights: [1, 0.35], b: [0.5, 0.75] },
      ),
      vectors: new ExactVectorSearch(
        entries.map((entry) => entry.vector),
        this.dimensions,
      ),
    };
    return this.snapshot;
  }
}
