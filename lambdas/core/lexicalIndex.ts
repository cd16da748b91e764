/**
 * A compact BM25F inverted index over analysed terms, held in typed arrays (CSR postings sorted by doc id).
 * Built once per knowledge-base version; search allocates only a score buffer reused across calls.
 */

export interface LexicalIndexOptions {
  /** Weight of each field in the combined BM25F score, e.g. [question, answer]. */
  readonly fieldWeights: readonly number[];
  /** @default 1.2 */
  readonly k1?: number;
  /** Length normalisation per field. @default 0.75 for each field */
  readonly b?: readonly number[];
}

export interface LexicalHit {
  readonly doc: number;
  readonly score: number;
}

export class LexicalIndex {
  private readonly vocabulary = new Map<string, number>();
  private readonly offsets: Int32Array;
  private readonly postingDocs: Int32Array;
  /** tf per field, field-major: fieldTf[f][posting]. */
  private readonly fieldTf: Float32Array[];
  private readonly fieldLengths: Float32Array[];
  private readonly averageLengths: number[];
  private readonly idfs: Float32Array;
  private readonly scores: Float32Array;
  private readonly touched: Int32Array;
  private readonly k1: number;
  private readonly b: readonly number[];
  private readonly weights: readonly number[];

  /** @param documents analysed terms per document per field: documents[doc][field] = terms */
  constructor(documents: readonly (readonly (readonly string[])[])[], options: LexicalIndexOptions) {
    const fieldCount = options.fieldWeights.length;
    if (fieldCount === 0) throw new Error('LexicalIndex needs at least one field weight');
    this.weights = options.fieldWeights;
    this.k1 = options.k1 ?? 1.2;
    this.b = options.b ?? options.fieldWeights.map(() => 0.75);
    const docCount = documents.length;

    const perDoc: Map<number, number[]>[] = [];
    this.fieldLengths = Array.from({ length: fieldCount }, () => new Float32Array(docCount));
    let postingCount = 0;
    const docFrequency: number[] = [];
    documents.forEach((fields, doc) => {
      const counts = new Map<number, number[]>();
      for (let f = 0; f < fieldCount; f++) {
        const terms = fields[f] ?? [];
        this.fieldLengths[f]![doc] = terms.length;
        for (const term of terms) {
          let id = this.vocabulary.get(term);
          if (id === undefined) {
            id = this.vocabulary.size;
            this.vocabulary.set(term, id);
            docFrequency.push(0);
          }
          let tf = counts.get(id);
          if (!tf) {
            tf = new Array(fieldCount).fill(0);
            counts.set(id, tf);
            docFrequency[id]!++;
            postingCount++;
          }
          tf[f]!++;
        }
      }
      perDoc.push(counts);
    });

    const termCount = this.vocabulary.size;
    this.offsets = new Int32Array(termCount + 1);
    for (let t = 0; t < termCount; t++) this.offsets[t + 1] = this.offsets[t]! + docFrequency[t]!;
    this.postingDocs = new Int32Array(postingCount);
    this.fieldTf = Array.from({ length: fieldCount }, () => new Float32Array(postingCount));
    const cursor = this.offsets.slice(0, termCount);
    perDoc.forEach((counts, doc) => {
      for (const [term, tf] of counts) {
        const at = cursor[term]!++;
        this.postingDocs[at] = doc;
        for (let f = 0; f < fieldCount; f++) this.fieldTf[f]![at] = tf[f]!;
      }
    });
    this.averageLengths = this.fieldLengths.map((lengths) => {
      let sum = 0;
      for (const length of lengths) sum += length;
      return docCount ? Math.max(sum / docCount, 1) : 1;
    });
    this.idfs = new Float32Array(termCount);
    for (let t = 0; t < termCount; t++) {
      const df = docFrequency[t]!;
      this.idfs[t] = Math.log(1 + (docCount - df + 0.5) / (df + 0.5));
    }
    this.scores = new Float32Array(docCount);
    this.touched = new Int32Array(docCount);
  }

  get size(): number {
    return this.scores.length;
  }

  /** Inverse document frequency of an analysed term (0 for unknown terms). */
  idf(term: string): number {
    const id = this.vocabulary.get(term);
    return id === undefined ? 0 : this.idfs[id]!;
  }

  /** The k best documents by combined BM25F score; duplicate query terms count once. */
  search(queryTerms: readonly string[], k: number): LexicalHit[] {
    const scores = this.scores;
    let touchedCount = 0;
    for (const term of new Set(queryTerms)) {
      const id = this.vocabulary.get(term);
      if (id === undefined) continue;
      const idf = this.idfs[id]!;
      for (let p = this.offsets[id]!, end = this.offsets[id + 1]!; p < end; p++) {
        const doc = this.postingDocs[p]!;
        const tf = this.weightedTf(p, doc);
        if (scores[doc] === 0) this.touched[touchedCount++] = doc;
        scores[doc]! += (idf * tf) / (this.k1 + tf);
      }
    }
    const hits = selectTop(this.touched, touchedCount, scores, k);
    for (let i = 0; i < touchedCount; i++) scores[this.touched[i]!] = 0;
    return hits;
  }

  /** The combined BM25F score `search` would give one document. */
  score(queryTerms: readonly string[], doc: number): number {
    return this.saturatedSum(queryTerms, doc, (posting) => this.weightedTf(posting, doc));
  }

  /** Plain BM25 score of one document on one field, for reranking features. */
  fieldScore(queryTerms: readonly string[], doc: number, field: number): number {
    return this.saturatedSum(queryTerms, doc, (posting) => this.normalizedTf(posting, doc, field));
  }

  /** Σ idf · tf / (k1 + tf) over the distinct query terms present in the document. */
  private saturatedSum(
    queryTerms: readonly string[],
    doc: number,
    tfAt: (posting: number) => number,
  ): number {
    let score = 0;
    for (const term of new Set(queryTerms)) {
      const id = this.vocabulary.get(term);
      if (id === undefined) continue;
      const posting = this.findPosting(id, doc);
      if (posting < 0) continue;
      const tf = tfAt(posting);
      score += (this.idfs[id]! * tf) / (this.k1 + tf);
    }
    return score;
  }

  /** Share of the query's idf mass that occurs in the document (any field), in [0, 1]. */
  coverage(queryTerms: readonly string[], doc: number, field?: number): number {
    let total = 0;
    let matched = 0;
    for (const term of new Set(queryTerms)) {
      const id = this.vocabulary.get(term);
      const idf = id === undefined ? Math.log(1 + this.size) : this.idfs[id]!;
      total += idf;
      if (id === undefined) continue;
      const p = this.findPosting(id, doc);
      if (p < 0) continue;
      if (field === undefined || this.fieldTf[field]![p]! > 0) matched += idf;
    }
    return total ? matched / total : 0;
  }

  private weightedTf(posting: number, doc: number): number {
    let tf = 0;
    for (let f = 0; f < this.weights.length; f++) tf += this.weights[f]! * this.normalizedTf(posting, doc, f);
    return tf;
  }

  private normalizedTf(posting: number, doc: number, field: number): number {
    const raw = this.fieldTf[field]![posting]!;
    if (raw === 0) return 0;
    const b = this.b[field]!;
    return raw / (1 - b + (b * this.fieldLengths[field]![doc]!) / this.averageLengths[field]!);
  }

  private findPosting(term: number, doc: number): number {
    let lo = this.offsets[term]!;
    let hi = this.offsets[term + 1]! - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const value = this.postingDocs[mid]!;
      if (value === doc) return mid;
      if (value < doc) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }
}

/** Top-k (doc, score) among candidate docs by a bounded min-heap, best first. */
export function selectTop(
  candidates: Int32Array,
  count: number,
  scores: Float32Array,
  k: number,
): LexicalHit[] {
  const heapDocs = new Int32Array(k);
  const heapScores = new Float32Array(k);
  let size = 0;
  const siftDown = (start: number) => {
    let i = start;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < size && heapScores[left]! < heapScores[smallest]!) smallest = left;
      if (right < size && heapScores[right]! < heapScores[smallest]!) smallest = right;
      if (smallest === i) return;
      [heapDocs[i], heapDocs[smallest]] = [heapDocs[smallest]!, heapDocs[i]!];
      [heapScores[i], heapScores[smallest]] = [heapScores[smallest]!, heapScores[i]!];
      i = smallest;
    }
  };
  for (let c = 0; c < count; c++) {
    const doc = candidates[c]!;
    const score = scores[doc]!;
    if (size < k) {
      let i = size++;
      heapDocs[i] = doc;
      heapScores[i] = score;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (heapScores[parent]! <= heapScores[i]!) break;
        [heapDocs[i], heapDocs[parent]] = [heapDocs[parent]!, heapDocs[i]!];
        [heapScores[i], heapScores[parent]] = [heapScores[parent]!, heapScores[i]!];
        i = parent;
      }
    } else if (score > heapScores[0]!) {
      heapDocs[0] = doc;
      heapScores[0] = score;
      siftDown(0);
    }
  }
  const hits: LexicalHit[] = [];
  for (let i = 0; i < size; i++) hits.push({ doc: heapDocs[i]!, score: heapScores[i]! });
  return hits.sort((x, y) => y.score - x.score);
}
