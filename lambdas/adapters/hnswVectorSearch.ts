/**
 * Approximate nearest-neighbour search with hnswlib-node (HNSW graph, inner-product space on unit vectors).
 * Injected into KnowledgeIndex for very large knowledge bases, where an exact scan costs tens of ms.
 */
import { createRequire } from 'node:module';
import type { VectorHit, VectorSearch, VectorSearchFactory } from '#core/vectorSearch';

interface HnswIndex {
  initIndex(maxElements: number, m?: number, efConstruction?: number, randomSeed?: number): void;
  addPoint(point: Float32Array | number[], label: number): void;
  setEf(ef: number): void;
  searchKnn(query: Float32Array | number[], k: number): { distances: number[]; neighbors: number[] };
}

const require = createRequire(import.meta.url);

export interface HnswOptions {
  /** Graph degree. @default 16 */
  readonly m?: number;
  /** @default 100 */
  readonly efConstruction?: number;
  /** Search breadth; higher is more exact and slower. @default 128 */
  readonly efSearch?: number;
}

export class HnswVectorSearch implements VectorSearch {
  private readonly index: HnswIndex;

  constructor(vectors: readonly Float32Array[], dimensions: number, options: HnswOptions = {}) {
    const { HierarchicalNSW } = require('hnswlib-node') as {
      HierarchicalNSW: new (space: string, dims: number) => HnswIndex;
    };
    this.index = new HierarchicalNSW('ip', dimensions);
    this.index.initIndex(Math.max(vectors.length, 1), options.m ?? 16, options.efConstruction ?? 100, 42);
    vectors.forEach((vector, i) => this.index.addPoint(Array.from(vector), i));
    this.index.setEf(options.efSearch ?? 128);
    this.size = vectors.length;
  }

  readonly size: number;

  search(query: Float32Array, k: number): VectorHit[] {
    if (this.size === 0) return [];
    const { distances, neighbors } = this.index.searchKnn(Array.from(query), Math.min(k, this.size));
    return neighbors.map((id, i) => ({ id, score: 1 - distances[i]! }));
  }
}

export const hnswVectorSearch =
  (options: HnswOptions = {}): VectorSearchFactory =>
  (vectors, dimensions) =>
    new HnswVectorSearch(vectors, dimensions, options);
