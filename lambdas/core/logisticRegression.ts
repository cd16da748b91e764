/**
 * Multinomial logistic regression over a dense vector plus hashed sparse features, with a seeded
 * mini-batch Adam trainer. Used for intent and product-area classification, FAQ reranking and
 * confidence. Pure TypeScript so the same artefact runs in Lambda and locally.
 */

export interface SparseFeatures {
  readonly indices: readonly number[];
  readonly values: readonly number[];
}

export interface Example {
  readonly dense: ArrayLike<number>;
  readonly sparse?: SparseFeatures;
  readonly label: number;
  /** @default 1 */
  readonly weight?: number;
}

export interface TrainOptions {
  readonly classes: number;
  readonly denseDim: number;
  /** @default 0 */
  readonly sparseDim?: number;
  /** @default 30 */
  readonly epochs?: number;
  /** @default 0.01 */
  readonly learningRate?: number;
  /** L2 penalty on weights (not biases). @default 1e-4 */
  readonly l2?: number;
  /** @default 32 */
  readonly batchSize?: number;
  /** @default 7 */
  readonly seed?: number;
}

export interface SerializedLogisticModel {
  readonly classes: number;
  readonly denseDim: number;
  readonly sparseDim: number;
  /** Base64 Float32 weights, class-major: [class][dense..., sparse...]. */
  readonly weights: string;
  readonly bias: readonly number[];
  /** Softmax temperature fitted after training (1 = none). */
  readonly temperature: number;
}

export class LogisticModel {
  constructor(
    readonly classes: number,
    readonly denseDim: number,
    readonly sparseDim: number,
    private readonly weights: Float32Array,
    private readonly bias: Float32Array,
    public temperature = 1,
  ) {
    const expected = classes * (denseDim + sparseDim);
    if (weights.length !== expected) {
      throw new Error(`LogisticModel: expected ${expected} weights, got ${weights.length}`);
    }
  }

  static deserialize(model: SerializedLogisticModel): LogisticModel {
    const bytes = Buffer.from(model.weights, 'base64');
    const weights = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4).slice();
    return new LogisticModel(
      model.classes,
      model.denseDim,
      model.sparseDim,
      weights,
      Float32Array.from(model.bias),
      model.temperature,
    );
  }

  serialize(): SerializedLogisticModel {
    return {
      classes: this.classes,
      denseDim: this.denseDim,
      sparseDim: this.sparseDim,
      weights: Buffer.from(this.weights.buffer, this.weights.byteOffset, this.weights.byteLength).toString(
        'base64',
      ),
      bias: Array.from(this.bias),
      temperature: this.temperature,
    };
  }

  /** Raw scores per class (before temperature). */
  logits(dense: ArrayLike<number>, sparse?: SparseFeatures): Float64Array {
    const stride = this.denseDim + this.sparseDim;
    const out = new Float64Array(this.classes);
    for (let c = 0; c < this.classes; c++) {
      const base = c * stride;
      let z = this.bias[c]!;
      for (let j = 0; j < this.denseDim; j++) z += this.weights[base + j]! * dense[j]!;
      if (sparse) {
        for (let s = 0; s < sparse.indices.length; s++) {
          z += this.weights[base + this.denseDim + sparse.indices[s]!]! * sparse.values[s]!;
        }
      }
      out[c] = z;
    }
    return out;
  }

  predict(dense: ArrayLike<number>, sparse?: SparseFeatures): Float64Array {
    return softmax(this.logits(dense, sparse), this.temperature);
  }
}

export function softmax(logits: ArrayLike<number>, temperature = 1): Float64Array {
  const out = new Float64Array(logits.length);
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]! / temperature);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    out[i] = Math.exp(logits[i]! / temperature - max);
    sum += out[i]!;
  }
  for (let i = 0; i < logits.length; i++) out[i]! /= sum;
  return out;
}

/** Deterministic PRNG (mulberry32) so training runs are reproducible. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffleInPlace<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** Trains with softmax cross-entropy, Adam and L2; lazily regularised sparse weights. */
export function trainLogisticModel(examples: readonly Example[], options: TrainOptions): LogisticModel {
  const { classes, denseDim } = options;
  const sparseDim = options.sparseDim ?? 0;
  const epochs = options.epochs ?? 30;
  const lr = options.learningRate ?? 0.01;
  const l2 = options.l2 ?? 1e-4;
  const batchSize = options.batchSize ?? 32;
  const random = seededRandom(options.seed ?? 7);
  const stride = denseDim + sparseDim;
  const weights = new Float32Array(classes * stride);
  const bias = new Float32Array(classes);
  const model = new LogisticModel(classes, denseDim, sparseDim, weights, bias);

  const m = new Float32Array(weights.length);
  const v = new Float32Array(weights.length);
  const mb = new Float32Array(classes);
  const vb = new Float32Array(classes);
  const grad = new Float32Array(weights.length);
  const gradBias = new Float32Array(classes);
  const touchedSparse = new Set<number>();
  const beta1 = 0.9;
  const beta2 = 0.999;
  const eps = 1e-8;
  let step = 0;

  const order = examples.map((_, i) => i);
  for (let epoch = 0; epoch < epochs; epoch++) {
    shuffleInPlace(order, random);
    for (let start = 0; start < order.length; start += batchSize) {
      const batch = order.slice(start, start + batchSize);
      grad.fill(0);
      gradBias.fill(0);
      touchedSparse.clear();
      let weightSum = 0;
      for (const index of batch) {
        const example = examples[index]!;
        const w = example.weight ?? 1;
        weightSum += w;
        const p = softmax(model.logits(example.dense, example.sparse));
        for (let c = 0; c < classes; c++) {
          const error = w * (p[c]! - (c === example.label ? 1 : 0));
          if (error === 0) continue;
          const base = c * stride;
          gradBias[c]! += error;
          for (let j = 0; j < denseDim; j++) grad[base + j]! += error * example.dense[j]!;
          if (example.sparse) {
            for (let s = 0; s < example.sparse.indices.length; s++) {
              const at = base + denseDim + example.sparse.indices[s]!;
              grad[at]! += error * example.sparse.values[s]!;
            }
          }
        }
        if (example.sparse) for (const idx of example.sparse.indices) touchedSparse.add(idx);
      }
      step++;
      const scale = 1 / Math.max(weightSum, 1e-9);
      const correction1 = 1 - beta1 ** step;
      const correction2 = 1 - beta2 ** step;
      const update = (at: number, g: number) => {
        m[at] = beta1 * m[at]! + (1 - beta1) * g;
        v[at] = beta2 * v[at]! + (1 - beta2) * g * g;
        weights[at]! -= (lr * (m[at]! / correction1)) / (Math.sqrt(v[at]! / correction2) + eps);
      };
      for (let c = 0; c < classes; c++) {
        const base = c * stride;
        for (let j = 0; j < denseDim; j++)
          update(base + j, grad[base + j]! * scale + l2 * weights[base + j]!);
        for (const idx of touchedSparse) {
          const at = base + denseDim + idx;
          update(at, grad[at]! * scale + l2 * weights[at]!);
        }
        const g = gradBias[c]! * scale;
        mb[c] = beta1 * mb[c]! + (1 - beta1) * g;
        vb[c] = beta2 * vb[c]! + (1 - beta2) * g * g;
        bias[c]! -= (lr * (mb[c]! / correction1)) / (Math.sqrt(vb[c]! / correction2) + eps);
      }
    }
  }
  return model;
}

/** Fits the softmax temperature that minimises negative log-likelihood on held-out examples. */
export function fitTemperature(model: LogisticModel, heldOut: readonly Example[]): number {
  if (heldOut.length === 0) return 1;
  const logits = heldOut.map((e) => model.logits(e.dense, e.sparse));
  const nll = (t: number) => {
    let loss = 0;
    logits.forEach((z, i) => {
      loss -= Math.log(Math.max(softmax(z, t)[heldOut[i]!.label]!, 1e-12));
    });
    return loss;
  };
  let best = 1;
  let bestLoss = nll(1);
  for (let t = 0.25; t <= 5; t += 0.05) {
    const loss = nll(t);
    if (loss < bestLoss) {
      bestLoss = loss;
      best = Math.round(t * 100) / 100;
    }
  }
  return best;
}
