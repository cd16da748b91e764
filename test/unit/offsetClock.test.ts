import { describe, expect, it } from 'vitest';
import { OffsetClock } from '#core/offsetClock';

/** A base clock the test moves by hand, standing in for real time passing. */
function manualBase(start: number) {
  let now = start;
  return {
    now: () => now,
    pass: (ms: number) => {
      now += ms;
    },
  };
}

describe('OffsetClock', () => {
  it('follows its base clock until moved', () => {
    // Prepare
    const base = manualBase(1_000);
    const clock = new OffsetClock(base);
    // Act
    base.pass(250);
    // Assess
    expect(clock.now()).toBe(1_250);
  });

  it('jumps by advance and by set, and keeps running at real speed from there', () => {
    // Prepare
    const base = manualBase(1_000);
    const clock = new OffsetClock(base);
    // Act
    const advanced = clock.advance(60_000);
    base.pass(40);
    const afterAdvance = clock.now();
    const set = clock.set(Date.UTC(2030, 0, 1));
    base.pass(15);
    // Assess
    expect(advanced).toBe(61_000);
    expect(afterAdvance).toBe(61_040);
    expect(set).toBe(Date.UTC(2030, 0, 1));
    expect(clock.now()).toBe(Date.UTC(2030, 0, 1) + 15);
  });

  it('can be set back in time', () => {
    const base = manualBase(Date.UTC(2030, 0, 1));
    const clock = new OffsetClock(base);
    clock.set(Date.UTC(2020, 5, 1));
    expect(new Date(clock.now()).toISOString()).toBe('2020-06-01T00:00:00.000Z');
  });

  it('refuses negative or non-finite advances and instants outside the Date range', () => {
    const clock = new OffsetClock(manualBase(0));
    expect(() => clock.advance(-1)).toThrow(RangeError);
    expect(() => clock.advance(Number.NaN)).toThrow(/advanceMs/);
    expect(() => clock.set(Number.POSITIVE_INFINITY)).toThrow(RangeError);
    expect(() => clock.set(9e15)).toThrow(/Date range/);
    expect(() => clock.advance(8.64e15 + 1)).toThrow(/Date range/);
    expect(clock.now()).toBe(0);
  });
});
