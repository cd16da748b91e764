/**
 * Embedder on Amazon Titan Text Embeddings v2 (Bedrock InvokeModel). The model embeds one text per call,
 * so a batch is a bounded pool of concurrent calls; vectors come back in input order, unit length.
 */
import { type BedrockRuntimeClient, InvokeModelCommand } from '@aws-sdk/client-bedrock-runtime';
import type { Embedder } from '#core/ports';
import { normalize } from '#core/vectorSearch';

export const TITAN_EMBED_TEXT_V2 = 'amazon.titan-embed-text-v2:0';

export interface TitanEmbedderOptions {
  readonly client: BedrockRuntimeClient;
  /** @default 'amazon.titan-embed-text-v2:0' */
  readonly modelId?: string;
  /** Titan v2 offers 256, 512 or 1024. @default 512 */
  readonly dimensions?: 256 | 512 | 1024;
  /** Calls in flight at once; keeps a large batch under the account's InvokeModel rate. @default 4 */
  readonly concurrency?: number;
}

export class TitanEmbedder implements Embedder {
  readonly dimensions: number;
  private readonly client: BedrockRuntimeClient;
  private readonly modelId: string;
  private readonly concurrency: number;

  constructor(options: TitanEmbedderOptions) {
    const dimensions = options.dimensions ?? 512;
    if (![256, 512, 1024].includes(dimensions)) {
      throw new Error(`dimensions must be 256, 512 or 1024, got ${dimensions}`);
    }
    const concurrency = options.concurrency ?? 4;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new Error(`concurrency must be a positive integer, got ${concurrency}`);
    }
    this.client = options.client;
    this.modelId = options.modelId ?? TITAN_EMBED_TEXT_V2;
    this.dimensions = dimensions;
    this.concurrency = concurrency;
  }

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    const vectors = new Array<Float32Array>(texts.length);
    let next = 0;
    // Each worker takes the next text as soon as its previous call returns; the first failure rejects.
    const worker = async () => {
      while (next < texts.length) {
        const at = next++;
        vectors[at] = await this.embedOne(texts[at]!);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, texts.length) }, worker));
    return vectors;
  }

  private async embedOne(text: string): Promise<Float32Array> {
    const response = await this.client.send(
      new InvokeModelCommand({
        modelId: this.modelId,
        contentType: 'application/json',
        accept: 'application/json',
        body: JSON.stringify({ inputText: text, dimensions: this.dimensions, normalize: true }),
      }),
    );
    const { embedding } = JSON.parse(new TextDecoder().decode(response.body)) as { embedding?: unknown };
    if (!Array.isArray(embedding) || embedding.length !== this.dimensions) {
      throw new Error(
        `Bedrock model '${this.modelId}' returned no ${this.dimensions}-d embedding (got ${
          Array.isArray(embedding) ? `${embedding.length} values` : typeof embedding
        })`,
      );
    }
    // Titan normalises already; renormalising in float32 makes dot products exact cosines.
    return normalize(Float32Array.from(embedding as number[]));
  }
}
