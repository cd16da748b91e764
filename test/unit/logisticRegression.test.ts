import { describe, expect, it } from 'vitest';
import { fitTemperature, LogisticModel, softmax, trainLogisticModel } from '#core/logisticRegression';

const blobs = Array.from({ length: 300 }, (_, i) => {
  const label = i % 3;
  const angle = (i * 2.399) % (2 * Math.PI);
  const centre = [
    [2, 0],
    [-1, 1.7],
    [-1, -1.7],
  ][label]!;
  return { dense: [centre[0]! + 0.4 * Math.cos(angle), centre[1]! + 0.4 * Math.sin(angle)], label };
});

describe('logistic regression', () => {
  it('learns a separable three-class problem', () => {
    // Act
    const model = trainLogisticModel(blobs, { classes: 3, denseDim: 2, epochs: 40, learningRate: 0.05 });
    // Assess
    const correct = blobs.filter((b) => {
      const p = model.predict(b.dense);
      return p.indexOf(Math.max(...p)) === b.label;
    }).length;
    expect(correct / blobs.length).toBeGreaterThan(0.98);
  });

  it('uses sparse features', () => {
    const examples = Array.from({ length: 200 }, (_, i) => ({
      dense: [0],
      sparse: { indices: [i % 2 ? 5 : 9], values: [1] },
      label: i % 2,
    }));
    const model = trainLogisticModel(examples, {
      classes: 2,
      denseDim: 1,
      sparseDim: 16,
      epochs: 30,
      learningRate: 0.05,
    });
    expect(model.predict([0], { indices: [5], values: [1] })[1]).toBeGreaterThan(0.9);
    expect(model.predict([0], { indices: [9], values: [1] })[0]).toBeGreaterThan(0.9);
  });

  it('round-trips through serialisation unchanged', () => {
    const model = trainLogisticModel(blobs, { classes: 3, denseDim: 2, epochs: 5 });
    const copy = LogisticModel.deserialize(JSON.parse(JSON.stringify(model.serialize())));
    expect(Array.from(copy.predict([0.3, -0.2]))).toEqual(Array.from(model.predict([0.3, -0.2])));
  });

  it('is reproducible for the same seed', () => {
    const a = trainLogisticModel(blobs, { classes: 3, denseDim: 2, epochs: 3, seed: 1 });
    const b = trainLogisticModel(blobs, { classes: 3, denseDim: 2, epochs: 3, seed: 1 });
    expect(a.serialize().weights).toBe(b.serialize().weights);
  });

  it('fits a temperature above 1 for an over-confident model on noisy labels', () => {
    const noisy = blobs.map((b, i) => ({ ...b, label: i % 4 === 0 ? (b.label + 1) % 3 : b.label }));
    const model = trainLogisticModel(blobs, {
      classes: 3,
      denseDim: 2,
      epochs: 60,
      learningRate: 0.1,
      l2: 0,
    });
    expect(fitTemperature(model, noisy)).toBeGreaterThan(1);
  });

  it('softmax sums to one and is stable for large logits', () => {
    const p = softmax([1000, 1001, 999]);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1);
    expect(Number.isFinite(p[0]!)).toBe(true);
  });

  it('rejects weights that do not match the declared shape', () => {
    expect(() => new LogisticModel(2, 3, 0, new Float32Array(5), new Float32Array(2))).toThrow(
      /expected 6 weights/,
    );
  });
});
