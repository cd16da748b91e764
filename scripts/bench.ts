/**
 * Engine benchmark: classify + retrieve + answer per message (local provider) and index memory for 500,
 * 10,000 and 100,000 FAQs, beside a brute-force baseline run in the same process so ratios survive a noisy
 * machine. Large KBs are the real 500 FAQs plus synthetic ones (recombined questions; vectors mixed from
 * real FAQ vectors plus noise, since embedding 100K texts would take an hour here).
 *   npm run bench [-- --sizes 500,10000,100000 --queries 200]
 */

import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { EmbeddingStore } from '#adapters/embeddingStore';
import { DEFAULT_MODELS_DIR, HNSW_ABOVE_FAQS, loadEngineArtefacts } from '#adapters/engineFactory';
import { hnswVectorSearch } from '#adapters/hnswVectorSearch';
import { UseLiteEmbedder } from '#adapters/useLiteEmbedder';
import { ConfidenceModel } from '#core/confidence';
import { ConversationEngine } from '#core/conversationEngine';
import { DEFAULT_CONFIDENCE_THRESHOLD, EscalationPolicy } from '#core/escalationPolicy';
import { ExtractiveAnswerer } from '#core/extractiveAnswerer';
import { FaqRanker } from '#core/faqRanker';
import { type FaqVectors, faqEmbeddingTexts, faqVectorsFrom, KnowledgeIndex } from '#core/knowledgeIndex';
import { seededRandom } from '#core/logisticRegression';
import type { Embedder } from '#core/ports';
import { SupportClassifier } from '#core/supportClassifier';
import { analyze } from '#core/textAnalysis';
import type { Faq } from '#core/types';
import { normalize } from '#core/vectorSearch';
import { loadBuiltInKnowledgeBase, loadIntentSplit, loadRetrievalEval } from './datasets';
import { percentile } from './evaluation';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '500,10000,100000' },
    queries: { type: 'string', default: '200' },
  },
});
const sizes = values.sizes.split(',').map(Number);
const queryCount = Number(values.queries);

const gc = () => (globalThis as { gc?: () => void }).gc?.();
/** JS heap + typed arrays, and resident set size (includes the native HNSW graph). */
const memoryMb = () => {
  gc();
  const m = process.memoryUsage();
  return { js: (m.heapUsed + m.arrayBuffers) / 2 ** 20, rss: m.rss / 2 ** 20 };
};
const fmt = (values: number[]) =>
  `p50 ${percentile(values, 50).toFixed(2)} / p95 ${percentile(values, 95).toFixed(2)} ms`;

/** Serves precomputed query vectors, so per-stage timings exclude the (separately measured) embedding. */
class PrecomputedEmbedder implements Embedder {
  readonly dimensions = 512;
  constructor(private readonly vectors: Map<string, Float32Array>) {}
  async embed(texts: readonly string[]) {
    return texts.map((t) => this.vectors.get(t)!);
  }
}

function synthesize(real: readonly Faq[], realVectors: readonly FaqVectors[], count: number) {
  const random = seededRandom(42);
  const words = real.flatMap((f) => f.question.split(/\s+/));
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
  const mix = (a: Float32Array, b: Float32Array) =>
    normalize(Float32Array.from(a, (x, i) => 0.7 * x + 0.3 * b[i]! + (random() - 0.5) * 0.05));
  const faqs: Faq[] = [];
  const vectors: FaqVectors[] = [];
  for (let i = 0; i < count; i++) {
    const a = Math.floor(random() * real.length);
    const b = Math.floor(random() * real.length);
    const question = Array.from({ length: 8 + Math.floor(random() * 8) }, () => pick(words)).join(' ');
    faqs.push({
      id: `syn-${i}`,
      question,
      alternates: [],
      answer: `${question} ${real[a]!.answer}`,
      tags: [],
      productArea: real[a]!.productArea,
    });
    vectors.push({
      question: mix(realVectors[a]!.question, realVectors[b]!.question),
      alternates: [],
      answer: mix(realVectors[a]!.answer, realVectors[b]!.answer),
    });
  }
  return { faqs, vectors };
}

/** Baseline: score every FAQ by term overlap and scan every vector, no index. */
function bruteForce(
  faqs: readonly Faq[],
  terms: readonly string[][],
  vectors: Float32Array,
  query: string,
  qv: Float32Array,
) {
  const q = new Set(analyze(query));
  let best = -1;
  let bestScore = -1;
  for (let d = 0; d < faqs.length; d++) {
    let overlap = 0;
    for (const t of terms[d]!) if (q.has(t)) overlap++;
    let dot = 0;
    for (let i = 0, base = d * 512; i < 512; i++) dot += vectors[base + i]! * qv[i]!;
    const score = overlap + dot;
    if (score > bestScore) {
      bestScore = score;
      best = d;
    }
  }
  return best;
}

async function main() {
  const artefacts = loadEngineArtefacts();
  const realFaqs = loadBuiltInKnowledgeBase();
  const useLite = await UseLiteEmbedder.load();
  const store = new EmbeddingStore(useLite, join(DEFAULT_MODELS_DIR, 'kb-embeddings.jsonl'));
  const kbVectors = await store.embed(realFaqs.flatMap(faqEmbeddingTexts));
  let cursor = 0;
  const realVectors = realFaqs.map((f) => {
    const n = f.alternates.length + 2;
    const v = faqVectorsFrom(f, kbVectors.slice(cursor, cursor + n));
    cursor += n;
    return v;
  });
  const queries = [
    ...new Set([
      ...loadRetrievalEval('test').map((c) => c.text),
      ...loadIntentSplit('test').map((c) => c.text),
    ]),
  ].slice(0, queryCount);

  // Embedding cost, measured once: it does not depend on the KB size.
  const embedMs: number[] = [];
  const queryVectors = new Map<string, Float32Array>();
  for (const text of queries) {
    const t0 = performance.now();
    queryVectors.set(text, (await useLite.embed([text]))[0]!);
    embedMs.push(performance.now() - t0);
  }
  console.log(`USE-lite query embedding (uncached): ${fmt(embedMs)}; cache hit: ~0.01 ms`);
  console.log('');

  const embedder = new PrecomputedEmbedder(queryVectors);
  for (const size of sizes) {
    const extra = synthesize(realFaqs, realVectors, Math.max(0, size - realFaqs.length));
    const faqs = [...realFaqs, ...extra.faqs].slice(0, size);
    const vectors = [...realVectors, ...extra.vectors].slice(0, size);
    const before = memoryMb();
    const t0 = performance.now();
    const knowledge = new KnowledgeIndex(faqs, vectors, 512, {
      vectorSearchFactory: size > HNSW_ABOVE_FAQS ? hnswVectorSearch() : undefined,
    });
    const buildMs = performance.now() - t0;
    const after = memoryMb();
    const indexMb = `${(after.js - before.js).toFixed(0)} MB JS, ${(after.rss - before.rss).toFixed(0)} MB RSS`;
    const engine = new ConversationEngine({
      embedder,
      classifier: new SupportClassifier(artefacts.classifier),
      knowledge,
      ranker: new FaqRanker(artefacts.retrieval.ranker),
      confidence: new ConfidenceModel(artefacts.retrieval.confidence),
      policy: new EscalationPolicy({ confidenceThreshold: DEFAULT_CONFIDENCE_THRESHOLD }),
      model: new ExtractiveAnswerer(),
    });
    const retrieveMs: number[] = [];
    const turnMs: number[] = [];
    for (const text of queries.slice(0, 10)) await engine.handleTurn({ text }); // warm-up
    for (const text of queries) {
      const started = performance.now();
      const outcome = await engine.handleTurn({ text });
      turnMs.push(performance.now() - started);
      retrieveMs.push(outcome.analysis.retrieval.retrieveMs);
    }
    const matrix = new Float32Array(size * 512);
    vectors.forEach((v, i) => matrix.set(v.question, i * 512));
    const terms = faqs.map((f) => analyze(`${f.question} ${f.alternates.join(' ')}`));
    const baselineMs: number[] = [];
    for (const text of queries) {
      const started = performance.now();
      bruteForce(faqs, terms, matrix, text, queryVectors.get(text)!);
      baselineMs.push(performance.now() - started);
    }
    const total = turnMs.map((t, i) => t + embedMs[i]!);
    console.log(
      `KB ${size.toLocaleString('en')} FAQs (${size > HNSW_ABOVE_FAQS ? 'HNSW' : 'exact'} vectors): build ${(buildMs / 1000).toFixed(1)} s, index memory ${indexMb}`,
    );
    console.log(`  hybrid retrieve + rerank + confidence   ${fmt(retrieveMs)}`);
    console.log(`  classify + retrieve + answer (no embed) ${fmt(turnMs)}`);
    console.log(`  same incl. uncached embedding           ${fmt(total)}`);
    console.log(
      `  brute-force baseline (overlap + scan)   ${fmt(baselineMs)}  → ratio baseline/hybrid at p50 ${(percentile(baselineMs, 50) / percentile(retrieveMs, 50)).toFixed(1)}x`,
    );
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
