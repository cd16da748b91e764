import { describe, expect, it } from 'vitest';
import { applyIsotonic, expectedCalibrationError, fitIsotonic } from '#core/confidence';

describe('calibration', () => {
  it('fits a monotone isotonic map from scores to observed accuracy', () => {
    // Prepare
    const scores = Array.from({ length: 200 }, (_, i) => i / 200);
    const labels = scores.map((s, i) => (s > 0.5 || i % 5 === 0 ? 1 : 0));
    // Act
    const map = fitIsotonic(scores, labels, 20);
    // Assess
    for (let i = 1; i < map.y.length; i++) expect(map.y[i]!).toBeGreaterThanOrEqual(map.y[i - 1]!);
    expect(applyIsotonic(map, 0.05)).toBeCloseTo(0.2, 1);
    expect(applyIsotonic(map, 0.95)).toBe(1);
    expect(applyIsotonic(map, 0.3)).toBeLessThan(applyIsotonic(map, 0.7));
  });

  it('never lets a block smaller than the minimum claim certainty', () => {
    const scores = [...Array.from({ length: 50 }, (_, i) => i / 100), 0.99, 0.995];
    const labels = [...Array.from({ length: 50 }, (_, i) => (i % 2 ? 1 : 0)), 1, 1];
    const map = fitIsotonic(scores, labels, 10);
    expect(applyIsotonic(map, 0.999)).toBeLessThan(1);
  });

  it('computes zero ECE for perfectly calibrated bins and the gap otherwise', () => {
    expect(expectedCalibrationError([0.75, 0.75, 0.75, 0.75], [true, true, true, false])).toBeCloseTo(0);
    expect(expectedCalibrationError([0.95, 0.95], [false, false])).toBeCloseTo(0.95);
    expect(expectedCalibrationError([], [])).toBe(0);
  });
});
