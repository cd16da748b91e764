/**
 * Nearest-neighbour search over unit vectors (cosine = dot product). The exact scan is the default;
 * an approximate index (e.g. HNSW in lambdas/adapters) can be injected for very large knowledge bases.
 */
import { selectTop } from './lexicalIndex';

export interface VectorHit {
  readonly id: number;
  readonly score: number;
}

export interface VectorSearch {
  readonly size: number;
  search(query: Float32Array, k: number): VectorHit[];
}

export type VectorSearchFactory = (vectors: readonly Float32Array[], dimensions: number) => VectorSearch;

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}

export function normalize(vector: Float32Array): Float32Array {
  let norm = 0;
  for (const x of vector) norm += x * x;
  norm = Math.sqrt(norm) || 1;
  for (let i = 0; i < vector.length; i++) vector[i]! /= norm;
  return vector;
}

export function meanVector(vectors: readonly Float32Array[], dimensions: number): Float32Array {
  const mean = new Float32Array(dimensions);
  for (const vector of vectors) {
    for (let i = 0; i < dimensions; i++) mean[i] = mean[i]! + vector[i]!;
  }
  return normalize(mean);
}

/** Brute-force scan over one contiguous matrix: fastest up to ~20K vectors here. */
export class ExactVectorSearch implements VectorSearch {
  private readonly matrix: Float32Array;
  private readonly scores: Float32Array;
  private readonly all: Int32Array;

  constructor(
    vectors: readonly Float32Array[],
    private readonly dimensions: number,
  ) {
    this.matrix = new Float32Array(vectors.length * dimensions);
    vectors.forEach((vector, i) => this.matrix.set(vector, i * dimensions));
    this.scores = new Float32Array(vectors.length);
    this.all = Int32Array.from(vectors.keys());
  }

  get size(): number {
    return this.scores.length;
  }

  search(query: Float32Array, k: number): VectorHit[] {
    const d = this.dimensions;
    const m = this.matrix;
    for (let row = 0, base = 0; row < this.scores.length; row++, base += d) {
      let sum = 0;
      for (let i = 0; i < d; i++) sum += m[base + i]! * query[i]!;
      this.scores[row] = sum;
    }
    return selectTop(this.all, this.all.length, this.scores, Math.min(k, this.all.length)).map((hit) => ({
      id: hit.doc,
      score: hit.score,
    }));
  }
}

export const exactVectorSearch: VectorSearchFactory = (vectors, dimensions) =>
  new ExactVectorSearch(vectors, dimensions);
