import { describe, expect, it } from 'vitest';
import { applyIsotonic, expectedCalibrationError, fitIsotonic } from '#core/confidence';

describe('calibration', () => {
  it('fits a monotone isotonic map from scores to observed accuracy', () => {
    // Prepare
    const scores = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8];
    const labels = [0, 0, 1, 0, 1, 1, 1, 1];
    // Act
    const map = fitIsotonic(scores, labels);
    // Assess
    for (let i = 1; i < map.y.length; i++) expect(map.y[i]!).toBeGreaterThanOrEqual(map.y[i - 1]!);
    expect(applyIsotonic(map, 0.05)).toBe(0);
    expect(applyIsotonic(map, 0.95)).toBe(1);
    expect(applyIsotonic(map, 0.35)).toBeCloseTo(0.5);
  });

  it('computes zero ECE for perfectly calibrated bins and the gap otherwise', () => {
    expect(expectedCalibrationError([0.75, 0.75, 0.75, 0.75], [true, true, true, false])).toBeCloseTo(0);
    expect(expectedCalibrationError([0.95, 0.95], [false, false])).toBeCloseTo(0.95);
    expect(expectedCalibrationError([], [])).toBe(0);
  });
});
