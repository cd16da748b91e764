import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddingStore } from '#adapters/embeddingStore';
import type { Embedder } from '#core/ports';
import { normalize } from '#core/vectorSearch';

/** Deterministic 8-d vectors from the text, counting calls. */
class CountingEmbedder implements Embedder {
  readonly dimensions = 8;
  calls = 0;
  async embed(texts: readonly string[]) {
    this.calls += texts.length;
    return texts.map((t) =>
      normalize(Float32Array.from({ length: 8 }, (_, i) => Math.sin(t.length + i * t.charCodeAt(0)))),
    );
  }
}

describe('EmbeddingStore', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('creates missing folders when saving and serves saved vectors without re-embedding', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'embeddings-'));
    dirs.push(dir);
    const path = join(dir, 'not', 'yet', 'there.jsonl');
    const inner = new CountingEmbedder();
    const first = new EmbeddingStore(inner, path);
    const [original] = await first.embed(['How do I reset my password?']);
    // Act
    first.save();
    const reloaded = new EmbeddingStore(inner, path);
    const [again] = await reloaded.embed(['How do I reset my password?']);
    // Assess
    expect(existsSync(path)).toBe(true);
    expect(inner.calls).toBe(1);
    for (let i = 0; i < 8; i++) expect(again![i]).toBeCloseTo(original![i]!, 1);
  });

  it('keeps only the requested texts when saving with a keep list', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'embeddings-'));
    dirs.push(dir);
    const path = join(dir, 'store.jsonl');
    const store = new EmbeddingStore(new CountingEmbedder(), path);
    await store.embed(['kept', 'dropped']);
    store.save(['kept']);
    expect(new EmbeddingStore(new CountingEmbedder(), path).size).toBe(1);
  });
});
