/**
 * A persistent cache of sentence vectors keyed by text hash, stored as JSONL of int8-quantised vectors
 * (models/kb-embeddings.jsonl for the built-in KB). Saves re-embedding ~2,500 FAQ texts at every start.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Embedder } from '#core/ports';
import { normalize } from '#core/vectorSearch';

const key = (text: string) => createHash('sha1').update(text).digest('base64url').slice(0, 16);

function quantize(vector: Float32Array): { s: number; q: string } {
  let max = 0;
  for (const x of vector) max = Math.max(max, Math.abs(x));
  const s = max / 127 || 1;
  const bytes = Int8Array.from(vector, (x) => Math.round(x / s));
  return { s, q: Buffer.from(bytes.buffer).toString('base64') };
}

function dequantize(s: number, q: string): Float32Array {
  const bytes = Buffer.from(q, 'base64');
  const ints = new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return normalize(Float32Array.from(ints, (x) => x * s));
}

export class EmbeddingStore implements Embedder {
  private readonly vectors = new Map<string, Float32Array>();
  private dirty = false;

  constructor(
    private readonly inner: Embedder,
    private readonly path?: string,
  ) {
    if (path && existsSync(path)) {
      for (const line of readFileSync(path, 'utf8').split('\n')) {
        if (!line) continue;
        const { k, s, q } = JSON.parse(line) as { k: string; s: number; q: string };
        this.vectors.set(k, dequantize(s, q));
      }
    }
  }

  get dimensions(): number {
    return this.inner.dimensions;
  }

  get size(): number {
    return this.vectors.size;
  }

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    const missing = [...new Set(texts.filter((t) => !this.vectors.has(key(t))))];
    if (missing.length) {
      const fresh = await this.inner.embed(missing);
      missing.forEach((text, i) => this.vectors.set(key(text), fresh[i]!));
      this.dirty = true;
    }
    return texts.map((t) => this.vectors.get(key(t))!);
  }

  /** The cache as JSONL (the file format), keeping only the given texts, e.g. to store it elsewhere. */
  serialize(keep?: readonly string[]): string {
    const keys = keep ? [...new Set(keep.map(key))] : [...this.vectors.keys()];
    const lines = keys
      .filter((k) => this.vectors.has(k))
      .sort()
      .map((k) => JSON.stringify({ k, ...quantize(this.vectors.get(k)!) }));
    return `${lines.join('\n')}\n`;
  }

  /** Writes the cache, keeping only the given texts (drops vectors of removed FAQs). */
  save(keep?: readonly string[]): void {
    if (!this.path || (!this.dirty && !keep)) return;
    mkdirSync(dirname(this.path), { recursive: true });
    // Temp file + rename: a crash mid-write never leaves a truncated cache behind.
    const temp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(temp, this.serialize(keep));
    renameSync(temp, this.path);
    this.dirty = false;
  }
}
