/**
 * Learned blend of the hybrid retrieval features: a logistic model scores each candidate FAQ
 * (trained by scripts/train.ts on held-out alternates of the knowledge base, not on evaluation data).
 */
import type { Candidate } from './knowledgeIndex';
import {
  LogisticModel,
  type SerializedLogisticModel,
  seededRandom,
  shuffleInPlace,
  softmax,
} from './logisticRegression';
import type { Faq } from './types';

export interface FeatureScaler {
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

export function fitScaler(rows: readonly ArrayLike<number>[]): FeatureScaler {
  const dims = rows[0]?.length ?? 0;
  const mean = new Array<number>(dims).fill(0);
  const std = new Array<number>(dims).fill(0);
  for (const row of rows) for (let j = 0; j < dims; j++) mean[j]! += row[j]! / rows.length;
  for (const row of rows) for (let j = 0; j < dims; j++) std[j]! += (row[j]! - mean[j]!) ** 2 / rows.length;
  return { mean, std: std.map((v) => Math.sqrt(v) || 1) };
}

export function scale(row: ArrayLike<number>, scaler: FeatureScaler): Float64Array {
  const out = new Float64Array(row.length);
  for (let j = 0; j < row.length; j++) out[j] = (row[j]! - scaler.mean[j]!) / scaler.std[j]!;
  return out;
}

export interface SerializedRanker {
  readonly features: readonly string[];
  readonly scaler: FeatureScaler;
  readonly model: SerializedLogisticModel;
}

export interface RankedFaq {
  readonly faq: Faq;
  readonly doc: number;
  /** Ranker logit: comparable across candidates of one query. */
  readonly score: number;
  /** Share of this candidate in the softmax over the query's candidates. */
  readonly share: number;
  readonly features: Float64Array;
}

export class FaqRanker {
  private readonly model: LogisticModel;

  constructor(private readonly artefact: SerializedRanker) {
    this.model = LogisticModel.deserialize(artefact.model);
    if (this.model.classes !== 2 || this.model.denseDim !== artefact.features.length) {
      throw new Error('ranker artefact: expected a binary model over its feature list');
    }
  }

  score(features: ArrayLike<number>): number {
    const logits = this.model.logits(scale(features, this.artefact.scaler));
    return logits[1]! - logits[0]!;
  }

  rank(candidates: readonly Candidate[]): RankedFaq[] {
    const scored = candidates.map((c) => ({ ...c, score: this.score(c.features) }));
    scored.sort((a, b) => b.score - a.score);
    const max = scored[0]?.score ?? 0;
    const total = scored.reduce((sum, c) => sum + Math.exp(c.score - max), 0);
    return scored.map((c) => ({
      faq: c.faq,
      doc: c.doc,
      score: c.score,
      share: Math.exp(c.score - max) / total,
      features: c.features,
    }));
  }
}

export interface RankingQuery {
  /** Scaled feature rows of the query's candidates. */
  readonly candidates: readonly ArrayLike<number>[];
  /** Index of the correct candidate. */
  readonly gold: number;
  readonly weight?: number;
}

/**
 * Listwise training (conditional logit): maximises the softmax probability of the correct FAQ among each
 * query's candidates, which optimises ranking directly rather than per-candidate relevance.
 */
export function trainListwiseRanker(
  queries: readonly RankingQuery[],
  dims: number,
  options: {
    readonly epochs?: number;
    readonly learningRate?: number;
    readonly l2?: number;
    readonly seed?: number;
  } = {},
): Float64Array {
  const epochs = options.epochs ?? 40;
  const lr = options.learningRate ?? 0.02;
  const l2 = options.l2 ?? 1e-3;
  const random = seededRandom(options.seed ?? 13);
  const w = new Float64Array(dims);
  const m = new Float64Array(dims);
  const v = new Float64Array(dims);
  const grad = new Float64Array(dims);
  const order = queries.map((_, i) => i);
  let step = 0;
  for (let epoch = 0; epoch < epochs; epoch++) {
    shuffleInPlace(order, random);
    for (let start = 0; start < order.length; start += 16) {
      grad.fill(0);
      let total = 0;
      for (const qi of order.slice(start, start + 16)) {
        const q = queries[qi]!;
        const weight = q.weight ?? 1;
        total += weight;
        const scores = q.candidates.map((row) => {
          let s = 0;
          for (let j = 0; j < dims; j++) s += w[j]! * row[j]!;
          return s;
        });
        const p = softmax(scores);
        q.candidates.forEach((row, c) => {
          const error = weight * (p[c]! - (c === q.gold ? 1 : 0));
          for (let j = 0; j < dims; j++) grad[j]! += error * row[j]!;
        });
      }
      step++;
      for (let j = 0; j < dims; j++) {
        const g = grad[j]! / total + l2 * w[j]!;
        m[j] = 0.9 * m[j]! + 0.1 * g;
        v[j] = 0.999 * v[j]! + 0.001 * g * g;
        w[j]! -= (lr * (m[j]! / (1 - 0.9 ** step))) / (Math.sqrt(v[j]! / (1 - 0.999 ** step)) + 1e-8);
      }
    }
  }
  return w;
}

/** Wraps listwise weights as the binary logistic model the ranker artefact stores (logit = w·x). */
export function listwiseAsLogistic(weights: Float64Array): LogisticModel {
  const dims = weights.length;
  const all = new Float32Array(2 * dims);
  all.set(weights, dims);
  return new LogisticModel(2, dims, 0, all, new Float32Array(2));
}
