/**
 * Learned blend of the hybrid retrieval features: a logistic model scores each candidate FAQ
 * (trained by scripts/train.ts on held-out alternates of the knowledge base, not on evaluation data).
 */
import type { Candidate } from './knowledgeIndex';
import { LogisticModel, type SerializedLogisticModel } from './logisticRegression';
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
