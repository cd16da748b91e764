/**
 * One calibrated confidence in [0, 1] that the rank-1 FAQ answers the message. A logistic model combines
 * retrieval margin, classifier probability and grounding (query coverage); isotonic regression fitted on
 * held-in data maps its output to an empirical probability, reported as ECE.
 */
import { type FeatureScaler, type RankedFaq, scale } from './faqRanker';
import { RANKER_FEATURES } from './knowledgeIndex';
import { LogisticModel, type SerializedLogisticModel } from './logisticRegression';

export const CONFIDENCE_FEATURES = [
  'topScore',
  'margin',
  'topShare',
  'simBest',
  'simQuestion',
  'coverageQuestion',
  'coverageAll',
  'lexQuestion',
  'intentProbability',
  'areaPrior',
  'queryTerms',
] as const;

const feature = (ranked: RankedFaq | undefined, name: (typeof RANKER_FEATURES)[number]) =>
  ranked ? ranked.features[RANKER_FEATURES.indexOf(name)]! : 0;

export function confidenceFeatures(
  ranked: readonly RankedFaq[],
  intentProbability: number,
  queryTermCount: number,
): number[] {
  const top = ranked[0];
  const second = ranked[1];
  return [
    top?.score ?? -10,
    top ? top.score - (second?.score ?? top.score - 10) : 0,
    top?.share ?? 0,
    feature(top, 'simBest'),
    feature(top, 'simQuestion'),
    feature(top, 'coverageQuestion'),
    feature(top, 'coverageAll'),
    feature(top, 'lexQuestion'),
    intentProbability,
    feature(top, 'areaPrior'),
    Math.log1p(queryTermCount),
  ];
}

/**
 * Monotone map from raw score to probability: pool-adjacent-violators, with blocks merged until each holds
 * at least `minBlock` samples (so a handful of lucky samples cannot claim certainty), then linear
 * interpolation between block centres.
 */
export interface IsotonicMap {
  readonly x: readonly number[];
  readonly y: readonly number[];
}

export function fitIsotonic(
  scores: readonly number[],
  labels: readonly number[],
  minBlock = 30,
): IsotonicMap {
  const order = scores.map((_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  type Block = { sum: number; count: number; xSum: number };
  const merge = (a: Block, b: Block): Block => ({
    sum: a.sum + b.sum,
    count: a.count + b.count,
    xSum: a.xSum + b.xSum,
  });
  const blocks: Block[] = [];
  for (const i of order) {
    blocks.push({ sum: labels[i]!, count: 1, xSum: scores[i]! });
    while (blocks.length > 1) {
      const last = blocks[blocks.length - 1]!;
      const prev = blocks[blocks.length - 2]!;
      if (prev.sum / prev.count < last.sum / last.count) break;
      blocks.splice(blocks.length - 2, 2, merge(prev, last));
    }
  }
  // Small blocks join their neighbour; merging adjacent monotone blocks keeps the map monotone.
  for (let i = 0; i < blocks.length && blocks.length > 1; ) {
    if (blocks[i]!.count >= minBlock) {
      i++;
      continue;
    }
    const j = i === blocks.length - 1 ? i - 1 : i + 1;
    const [lo, hi] = j < i ? [j, i] : [i, j];
    blocks.splice(lo, 2, merge(blocks[lo]!, blocks[hi]!));
    i = Math.max(0, lo);
  }
  return { x: blocks.map((b) => b.xSum / b.count), y: blocks.map((b) => b.sum / b.count) };
}

export function applyIsotonic(map: IsotonicMap, score: number): number {
  const { x, y } = map;
  if (x.length === 0) return score;
  if (score <= x[0]!) return y[0]!;
  const last = x.length - 1;
  if (score >= x[last]!) return y[last]!;
  let lo = 0;
  let hi = last;
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (x[mid]! <= score) lo = mid;
    else hi = mid;
  }
  const t = (score - x[lo]!) / (x[hi]! - x[lo]! || 1);
  return y[lo]! + t * (y[hi]! - y[lo]!);
}

/** Expected calibration error over equal-width bins. */
export function expectedCalibrationError(
  confidences: readonly number[],
  correct: readonly boolean[],
  bins = 10,
): number {
  if (confidences.length === 0) return 0;
  const sums = Array.from({ length: bins }, () => ({ conf: 0, hits: 0, n: 0 }));
  confidences.forEach((c, i) => {
    const bin = sums[Math.min(bins - 1, Math.floor(c * bins))]!;
    bin.conf += c;
    bin.hits += correct[i] ? 1 : 0;
    bin.n++;
  });
  return sums.reduce(
    (ece, b) => (b.n ? ece + ((b.n / confidences.length) * Math.abs(b.conf - b.hits)) / b.n : ece),
    0,
  );
}

export interface SerializedConfidenceModel {
  readonly features: readonly string[];
  readonly scaler: FeatureScaler;
  readonly model: SerializedLogisticModel;
  readonly isotonic: IsotonicMap;
}

export class ConfidenceModel {
  private readonly model: LogisticModel;

  constructor(private readonly artefact: SerializedConfidenceModel) {
    this.model = LogisticModel.deserialize(artefact.model);
    if (artefact.features.length !== CONFIDENCE_FEATURES.length) {
      throw new Error('confidence artefact: feature list does not match this engine version');
    }
  }

  /** Uncalibrated probability from the logistic model. */
  raw(features: readonly number[]): number {
    return this.model.predict(scale(features, this.artefact.scaler))[1]!;
  }

  confidence(features: readonly number[]): number {
    const value = applyIsotonic(this.artefact.isotonic, this.raw(features));
    return Math.round(Math.min(1, Math.max(0, value)) * 1000) / 1000;
  }
}
