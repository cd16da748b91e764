/**
 * Intent and product-area classification: one logistic model per label set over the sentence embedding
 * plus hashed lexical n-grams. The artefact is produced by scripts/train.ts (models/classifier.json).
 */
import { LogisticModel, type SerializedLogisticModel, type SparseFeatures } from './logisticRegression';
import { analyze, hashString, normalizeText, tokenize } from './textAnalysis';
import {
  type Distribution,
  INTENTS,
  type Intent,
  isIntent,
  isProductArea,
  PRODUCT_AREAS,
  type ProductArea,
} from './types';
import { dot } from './vectorSearch';

export const LEXICAL_DIM = 1 << 15;

/**
 * Hashed lexical features: stemmed unigrams and bigrams (stop words kept: "how do i" signals intent)
 * and character 4-grams of each word (robust to typos). Each group is L2-normalised.
 */
export function lexicalFeatures(text: string, dim = LEXICAL_DIM): SparseFeatures {
  const counts = new Map<number, number>();
  const add = (key: string, value: number) => {
    const index = hashString(key) % dim;
    counts.set(index, (counts.get(index) ?? 0) + value);
  };
  const terms = analyze(text, { keepStopWords: true });
  const wordWeight = 1 / Math.sqrt(Math.max(terms.length, 1));
  terms.forEach((term, i) => {
    add(`w:${term}`, wordWeight);
    if (i > 0) add(`b:${terms[i - 1]} ${term}`, wordWeight);
  });
  const words = tokenize(normalizeText(text));
  const grams: string[] = [];
  for (const word of words) {
    const padded = `_${word}_`;
    for (let i = 0; i + 4 <= padded.length; i++) grams.push(padded.slice(i, i + 4));
  }
  const gramWeight = 0.5 / Math.sqrt(Math.max(grams.length, 1));
  for (const gram of grams) add(`c:${gram}`, gramWeight);
  const indices = [...counts.keys()];
  return { indices, values: indices.map((i) => counts.get(i)!) };
}

export interface Classification<K extends string> {
  readonly label: K;
  readonly probability: number;
  readonly distribution: Distribution<K>;
}

export interface SerializedClassifier {
  readonly version: string;
  readonly trainedAt: string;
  readonly embeddingModel: string;
  readonly lexicalDim: number;
  readonly intent: { readonly labels: readonly string[]; readonly model: SerializedLogisticModel };
  readonly productArea: { readonly labels: readonly string[]; readonly model: SerializedLogisticModel };
  readonly metrics?: Record<string, unknown>;
}

class LabelModel<K extends string> {
  constructor(
    private readonly labels: readonly K[],
    private readonly model: LogisticModel,
  ) {
    if (model.classes !== labels.length) {
      throw new Error(`classifier artefact has ${model.classes} classes for ${labels.length} labels`);
    }
  }

  classify(embedding: ArrayLike<number>, lexical: SparseFeatures): Classification<K> {
    const p = this.model.predict(embedding, lexical);
    const distribution = {} as Distribution<K>;
    let best = 0;
    this.labels.forEach((label, i) => {
      distribution[label] = p[i]!;
      if (p[i]! > p[best]!) best = i;
    });
    return { label: this.labels[best]!, probability: p[best]!, distribution };
  }
}

export interface SupportClassification {
  readonly intent: Classification<Intent>;
  readonly productArea: Classification<ProductArea>;
}

export class SupportClassifier {
  private readonly intentModel: LabelModel<Intent>;
  private readonly areaModel: LabelModel<ProductArea>;

  constructor(private readonly artefact: SerializedClassifier) {
    const intents = artefact.intent.labels;
    const areas = artefact.productArea.labels;
    if (!intents.every(isIntent) || intents.length !== INTENTS.length) {
      throw new Error(
        `classifier artefact: intent labels ${intents.join(',')} do not match ${INTENTS.join(',')}`,
      );
    }
    if (!areas.every(isProductArea) || areas.length !== PRODUCT_AREAS.length) {
      throw new Error(`classifier artefact: product areas ${areas.join(',')} do not match the known areas`);
    }
    this.intentModel = new LabelModel(intents as Intent[], LogisticModel.deserialize(artefact.intent.model));
    this.areaModel = new LabelModel(
      areas as ProductArea[],
      LogisticModel.deserialize(artefact.productArea.model),
    );
  }

  get version(): string {
    return this.artefact.version;
  }

  /**
   * Adds labelled intent examples without retraining: a nearest-neighbour memory whose vote is blended
   * with the trained model, weighted by how close the nearest examples are.
   */
  addIntentExamples(examples: readonly { readonly vector: Float32Array; readonly intent: Intent }[]): void {
    this.memory.push(...examples);
  }

  classify(text: string, embedding: ArrayLike<number>): SupportClassification {
    const lexical = lexicalFeatures(text, this.artefact.lexicalDim);
    const intent = this.intentModel.classify(embedding, lexical);
    return {
      intent: this.memory.length ? blendWithNeighbours(intent, embedding, this.memory) : intent,
      productArea: this.areaModel.classify(embedding, lexical),
    };
  }

  private readonly memory: { readonly vector: Float32Array; readonly intent: Intent }[] = [];
}

const NEIGHBOURS = 7;

function blendWithNeighbours(
  model: Classification<Intent>,
  embedding: ArrayLike<number>,
  memory: readonly { readonly vector: Float32Array; readonly intent: Intent }[],
): Classification<Intent> {
  const nearest = memory
    .map((m) => ({ intent: m.intent, sim: dot(embedding, m.vector) }))
    .sort((a, b) => b.sim - a.sim)
    .slice(0, NEIGHBOURS);
  const votes = Object.fromEntries(INTENTS.map((i) => [i, 0])) as Distribution<Intent>;
  let total = 0;
  for (const n of nearest) {
    const w = Math.exp(10 * n.sim);
    votes[n.intent] += w;
    total += w;
  }
  // Near-duplicates of a taught example dominate; distant neighbours barely move the model.
  const alpha = 0.7 * Math.min(1, Math.max(0, (nearest[0]!.sim - 0.4) / 0.4));
  const distribution = {} as Distribution<Intent>;
  let label: Intent = model.label;
  for (const i of INTENTS) {
    distribution[i] = (1 - alpha) * model.distribution[i] + (alpha * votes[i]) / total;
    if (distribution[i] > distribution[label]) label = i;
  }
  return { label, probability: distribution[label], distribution };
}
